#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, starts the
# services they use, runs pytest. Extra arguments go to pytest (e.g. tests/unit -x).
#
# The suite mostly waits (agent sessions, the control plane, helm, git daemons): `-n 4 --dist
# loadgroup` runs it on 4 pytest-xdist workers, tests that share one heavy thing on one worker
# (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/test-services.sh
# shellcheck disable=SC1091
[ -f .test-services.env ] && . ./.test-services.env

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
