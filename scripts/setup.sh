#!/usr/bin/env bash
# Installs YokeFlow into .venv/ at the project root (idempotent; quick when nothing changed).
# Says what it does at each step; pip's own progress stays visible (about a minute the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtual environment .venv/ with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.yokeflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: upgrading pip"
  .venv/bin/python -m pip install --upgrade --progress-bar on pip
  echo "setup: installing YokeFlow (editable) with its development tools from pyproject.toml"
  echo "setup: (pinned dependencies: pydantic, typer, asyncpg, the Claude Agent SDK with its CLI, pytest, mypy, ruff…)"
  .venv/bin/python -m pip install --progress-bar on -e '.[dev]'
  touch "$stamp"
  echo "setup: done — run .venv/bin/yokeflow --help"
else
  echo "setup: .venv/ is up to date (pyproject.toml unchanged); nothing to do"
fi

# The dashboard: its sources (operator/dashboard) built into the package with the npm registry's
# pinned packages (package-lock.json); rebuilt when a source is newer than the build.
dash=operator/dashboard
built=operator/src/yokeflow/web/static/index.html
if command -v npm >/dev/null; then
  if [ ! -f "$built" ] || [ -n "$(find "$dash" -path "$dash/node_modules" -prune -o -type f -newer "$built" -print -quit)" ]; then
    echo "setup: building the dashboard (npm ci from package-lock.json, then vite build into $(dirname "$built")/)"
    (cd "$dash" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null)
  fi
else
  echo "setup: npm not found, the dashboard is not built (the API works without it)" >&2
fi
