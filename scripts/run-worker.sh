#!/usr/bin/env bash
# `make run`: start the local broker (unless KAFKA_BOOTSTRAP_SERVERS points elsewhere),
# create the topics, run the worker in the foreground. Ctrl-C stops the worker and the
# broker this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
started_broker=0
cleanup() {
  if ((started_broker)); then deploy/kafka/kafka.sh stop; fi
}
trap cleanup EXIT
if [[ -z ${KAFKA_BOOTSTRAP_SERVERS:-} ]]; then
  if KAFKA_BOOTSTRAP_SERVERS=$(deploy/kafka/kafka.sh status 2>/dev/null); then
    echo "==> using the local broker that is already running (left running afterwards)"
  else
    KAFKA_BOOTSTRAP_SERVERS=$(deploy/kafka/kafka.sh start)
    started_broker=1
  fi
  export KAFKA_BOOTSTRAP_SERVERS
fi
echo "==> worker on $KAFKA_BOOTSTRAP_SERVERS (Ctrl-C to stop)"
.venv/bin/distillguard worker
