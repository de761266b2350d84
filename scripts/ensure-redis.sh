#!/usr/bin/env bash
# Make sure the tests and the demo have Redis nodes to talk to (used by `npm test` and `npm run demo`).
#
# - QUORUMLOCK_NODES is set: the caller brings its own nodes; nothing to do.
# - redis-server is installed: the tests start their own processes on free loopback ports.
# - Otherwise, as root with apt-get: install the Debian/Ubuntu package. The package may also start a
#   system redis on port 6379; that is harmless (the tests use free ports) and is left alone.
# - Otherwise: explain what to do and fail.
set -euo pipefail

have_redis_server() {
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || [ -x /usr/local/bin/redis-server ]
}

if [ -n "${QUORUMLOCK_NODES:-}" ] || have_redis_server; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server not found; installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq redis-server >/dev/null && have_redis_server; then
    exit 0
  fi
  echo "apt-get could not install redis-server (see the errors above)" >&2
fi

cat >&2 <<'MSG'
redis-server is missing: the integration tests and the demo start real Redis nodes.
Install it:
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  macOS:          brew install redis
or point them at running nodes instead, for example (with `docker compose up -d`, see compose.yaml):
  QUORUMLOCK_NODES=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005 npm test
MSG
exit 1
