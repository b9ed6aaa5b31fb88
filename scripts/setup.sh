#!/usr/bin/env bash
# Installs YokeFlow into .venv/ at the project root (idempotent; quick when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.yokeflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi

# The dashboard: its sources (operator/dashboard) built into the package with the npm registry's
# pinned packages (package-lock.json); rebuilt when a source is newer than the build.
dash=operator/dashboard
built=operator/src/yokeflow/web/static/index.html
if command -v npm >/dev/null; then
  if [ ! -f "$built" ] || [ -n "$(find "$dash" -path "$dash/node_modules" -prune -o -type f -newer "$built" -print -quit)" ]; then
    (cd "$dash" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null)
  fi
else
  echo "setup: npm not found, the dashboard is not built (the API works without it)" >&2
fi
