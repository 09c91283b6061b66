#!/usr/bin/env bash
# Fingerprint of every decision the detectors make on the default demo scenario (offline
# backtest, default policy): "alerts commands sha256". Run it before and after a change that
# must not change behaviour (a refactor, a faster hot path); equal lines mean byte-identical
# alerts and commands. Usage: scripts/decision-fingerprint.sh [days scale seed]
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-3} scale=${2:-0.4} seed=${3:-42}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/distillguard simulate --out "$work" --days "$days" --scale "$scale" --seed "$seed" >/dev/null 2>&1
echo "events $(sha256sum "$work/events.jsonl" | cut -c1-16)" >&2
.venv/bin/python - "$work/events.jsonl" <<'PY'
import hashlib
import sys
from pathlib import Path

import orjson

from models.backtest import read_jsonl, run_backtest
from models.policy import DEFAULT_POLICY

result = run_backtest(read_jsonl(Path(sys.argv[1])), DEFAULT_POLICY, partitions=8)
digest = hashlib.sha256()
for record in [*result.alerts, *result.commands]:
    digest.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n")
print(len(result.alerts), len(result.commands), digest.hexdigest())
PY
