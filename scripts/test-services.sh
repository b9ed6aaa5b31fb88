#!/usr/bin/env bash
# Installs and starts what the integration and end-to-end tests need, then writes the
# connection settings they read to .test-services.env (sourced by scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

: > .test-services.env
