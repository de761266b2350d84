#!/usr/bin/env bash
# `npm run examples`: run every example in examples/ against five local nodes, as a user would
# (they import `quorumlock`). Starts its own nodes on ports from EXAMPLES_BASE_PORT (default
# 27301) unless QUORUMLOCK_NODES is set, and stops them afterwards. Exit status 1 when one fails.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${EXAMPLES_BASE_PORT:-27301}"
dir="$(mktemp -d)"
started=0
if [ -z "${QUORUMLOCK_NODES:-}" ]; then
  npx tsx scripts/nodes.ts start --base-port "$base" --dir "$dir" >/dev/null
  started=1
  export QUORUMLOCK_NODES="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3)),127.0.0.1:$((base + 4))"
fi
stop() {
  if [ "$started" -eq 1 ]; then npx tsx scripts/nodes.ts stop --base-port "$base" --dir "$dir" >/dev/null; fi
  rm -rf "$dir"
}
trap stop EXIT
for example in examples/*.ts; do
  echo "==> $example"
  timeout 60 npx tsx "$example"
done
