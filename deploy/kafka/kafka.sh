#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft) on 127.0.0.1, without Docker.
#
#   deploy/kafka/kafka.sh fetch   resolve the broker jars with Maven into the cache (idempotent)
#   deploy/kafka/kafka.sh start   fetch, format storage once, start, wait for a metadata answer
#   deploy/kafka/kafka.sh wait    wait until the running broker answers a metadata request
#   deploy/kafka/kafka.sh stop    stop the broker started by `start` (by pid)
#   deploy/kafka/kafka.sh status  print the bootstrap address if the broker is up, else fail
#   deploy/kafka/kafka.sh reset   stop and delete the data folder (the jar cache is kept)
#
# Environment (all optional):
#   KAFKA_PORT          broker port (default 19092, or a free port when 19092 is taken)
#   KAFKA_STATE_DIR     data, logs, pid and bootstrap files (default <repo>/.local/kafka)
#   KAFKA_LIB_DIR       jar cache (default ~/.cache/distillguard/kafka-<version>)
#   KAFKA_START_TIMEOUT seconds to wait for the broker (default 90)
#   KAFKA_HEAP_OPTS     JVM heap (default -Xms256m -Xmx1g)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
lib_dir=${KAFKA_LIB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distillguard/kafka-$kafka_version}
state_dir=${KAFKA_STATE_DIR:-$repo/.local/kafka}
pid_file=$state_dir/kafka.pid
bootstrap_file=$state_dir/bootstrap
log_file=$state_dir/kafka.log
timeout_s=${KAFKA_START_TIMEOUT:-90}

say() { printf '[kafka] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free port found"
}

running() { [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

# Tool runs log through the broker's log4j config (written before any tool runs).
java_run() { java -Dlog4j.configuration="file:$state_dir/log4j.properties" -cp "$lib_dir/*" "$@"; }

cmd_fetch() {
  if [[ -f $lib_dir/.complete ]]; then
    say "broker jars cached in $lib_dir (Kafka $kafka_version)"
    return
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the broker jars"
  command -v java >/dev/null || die "Java 17+ is needed to run the broker"
  say "resolving Apache Kafka $kafka_version with Maven into $lib_dir ..."
  mkdir -p "$lib_dir"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -Dkafka.lib.dir="$lib_dir" >&2 \
    || die "Maven could not resolve the broker jars (see output above)"
  touch "$lib_dir/.complete"
  say "resolved $(find "$lib_dir" -name '*.jar' | wc -l) jars"
}

write_config() {
  local port=$1 ctl_port=$2
  mkdir -p "$state_dir/data"
  cat >"$state_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$state_dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$state_dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$log_file
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

cmd_wait() {
  local bootstrap deadline
  bootstrap=$(cat "$bootstrap_file" 2>/dev/null) || die "no broker has been started here ($bootstrap_file missing)"
  deadline=$((SECONDS + timeout_s))
  until grep -q "Kafka Server started" "$log_file" 2>/dev/null; do
    running || die "broker exited during start-up; last log lines:$(printf '\n'; tail -n 20 "$log_file" 2>/dev/null)"
    ((SECONDS < deadline)) || die "broker did not start within ${timeout_s}s; see $log_file"
    sleep 0.5
  done
  # A real metadata round trip (DescribeCluster), not just an open port.
  until java_run org.apache.kafka.tools.ClusterTool cluster-id --bootstrap-server "$bootstrap" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "broker at $bootstrap did not answer a metadata request within ${timeout_s}s"
    sleep 1
  done
  say "broker up at $bootstrap (Kafka $kafka_version, KRaft)"
}

cmd_start() {
  cmd_fetch
  if running; then
    say "already running (pid $(cat "$pid_file"))"
    cmd_wait
    cat "$bootstrap_file"
    return
  fi
  local port ctl_port
  port=${KAFKA_PORT:-19092}
  if [[ -z ${KAFKA_PORT:-} ]] && ! port_free "$port"; then port=$(free_port); fi
  port_free "$port" || die "port $port is taken"
  ctl_port=$(free_port)
  write_config "$port" "$ctl_port"
  if [[ ! -f $state_dir/data/meta.properties ]]; then
    say "formatting storage in $state_dir/data"
    java_run kafka.tools.StorageTool format \
      -t "$(java_run kafka.tools.StorageTool random-uuid)" -c "$state_dir/server.properties" >&2 \
      || die "kafka-storage format failed"
  fi
  : >"$log_file"
  say "starting broker on 127.0.0.1:$port (log: $log_file)"
  # setsid: the broker gets its own session, so Ctrl-C in a parent shell does not orphan half of it.
  setsid java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC \
    -Dlog4j.configuration="file:$state_dir/log4j.properties" \
    -cp "$lib_dir/*" kafka.Kafka "$state_dir/server.properties" \
    >>"$state_dir/kafka.stdout" 2>&1 </dev/null &
  echo $! >"$pid_file"
  echo "127.0.0.1:$port" >"$bootstrap_file"
  cmd_wait
  cat "$bootstrap_file"
}

cmd_stop() {
  if ! running; then
    say "not running"
    rm -f "$pid_file"
    return
  fi
  local pid
  pid=$(cat "$pid_file")
  say "stopping broker (pid $pid)"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; say "stopped"; return; }
    sleep 0.5
  done
  say "broker did not stop in 30s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

cmd_status() {
  running || die "not running"
  cat "$bootstrap_file"
}

cmd_reset() {
  cmd_stop
  rm -rf "$state_dir"
  say "deleted $state_dir"
}

case ${1:-} in
  fetch | start | wait | stop | status | reset) "cmd_$1" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
