#!/usr/bin/env bash
# Installs (from Debian's packages, when absent) and starts PostgreSQL and Redis for the
# tests, installs Chromium (timeline and dashboard tests) and Node.js (UI protocol
# tests), then prints the environment variables
# that point the tests at them.
# Usage: eval "$(.ci/services.sh)"
set -euo pipefail

log() { echo "services: $*" >&2; }

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The UI protocol tests run the JS clients themselves (tests/ui/node).
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${need_apt[@]}" >&2
fi

# PostgreSQL: the Debian cluster, a login role and a test database.
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
    pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | grep "^$version main" | grep -q online; then
    pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q -h 127.0.0.1" && break
    sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='gai'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE gai LOGIN SUPERUSER PASSWORD 'gai'\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='gai_test'\"" | grep -q 1 \
    || su postgres -c "createdb -O gai gai_test" >&2

# Redis: a throwaway server on the default port.
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
    redis-server --port 6379 --daemonize yes --save "" --appendonly no >&2
fi
for _ in $(seq 1 30); do
    redis-cli -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.2
done

echo "export GAI_TEST_POSTGRES_DSN=postgresql://gai:gai@127.0.0.1:5432/gai_test"
echo "export GAI_TEST_REDIS_URL=redis://127.0.0.1:6379/0"
