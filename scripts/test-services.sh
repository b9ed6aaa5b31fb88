#!/usr/bin/env bash
# Installs and starts what the integration and end-to-end tests need, then writes the settings
# they read to .test-services.env (sourced by scripts/test.sh):
#
#   - Debian's PostgreSQL 15 (the embedded PostgreSQL 18 comes from the Python package), started
#     on 127.0.0.1:5432 with a password for the postgres user: YOKEFLOW_TEST_PG15_URL;
#   - strace (a test proves the agent CLI contacts nothing but its model endpoint);
#   - Debian's prometheus (promtool checks and unit-tests the alert rules in charts/yokeflow/rules/,
#     and a real Prometheus scrapes the API in tests/integration/monitoring/);
#   - Debian's chromium (the dashboard's browser tests drive it with Playwright; no browser
#     download ever);
#   - the Kubernetes control plane's binaries, built from the Go module proxy into a cache
#     outside the repository when missing (tests/controlplane/build.sh; cold: see docs/controlplane.md).
set -euo pipefail
cd "$(dirname "$0")/.."

env_file=.test-services.env
: > "$env_file"

need=()
command -v strace >/dev/null || need+=(strace)
command -v promtool >/dev/null || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v pg_ctlcluster >/dev/null || need+=(postgresql-common)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-services: please install ${need[*]} (Debian packages), or run as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$(id -u)" = 0 ]; then
  pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main ' || pg_createcluster 15 main >/dev/null
  if ! pg_ctlcluster 15 main status >/dev/null 2>&1; then
    pg_ctlcluster 15 main start
  fi
  for _ in $(seq 1 60); do
    su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.5
  done
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'yokeflow-test'\"" >/dev/null
  port=$(pg_lsclusters -h | awk '$1 == "15" && $2 == "main" {print $3}')
  echo "export YOKEFLOW_TEST_PG15_URL=postgresql://postgres:yokeflow-test@127.0.0.1:${port}/postgres" >> "$env_file"
fi

bash tests/controlplane/build.sh >/dev/null
echo "export YOKEFLOW_TESTBIN_DIR=$(bash tests/controlplane/build.sh --print-dir)" >> "$env_file"
