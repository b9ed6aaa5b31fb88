#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, starts the
# services they use, runs pytest. Extra arguments go to pytest (e.g. tests/unit -x).
#
# The suite mostly waits (agent sessions, the control plane, helm, git daemons), so it runs on
# YOKEFLOW_TEST_WORKERS pytest-xdist workers (default 4), tests that share one heavy thing on one
# worker (tests/conftest.py). `-n0` or `-p no:xdist` among the arguments runs it in one process.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/test-services.sh
# shellcheck disable=SC1091
[ -f .test-services.env ] && . ./.test-services.env

workers=(-n "${YOKEFLOW_TEST_WORKERS:-4}" --dist loadgroup)
for arg in "$@"; do
  case "$arg" in
    *no:xdist) workers=() ;;
  esac
done

set +e
.venv/bin/python -m pytest "${workers[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
