#!/usr/bin/env bash
# Set everything up and run the whole test suite, on SQLite and on PostgreSQL; without pytest
# arguments also ruff and mypy (as CI does).
#   bash scripts/test.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${ZONEWARDEN_TEST_PG:-}" ]; then
  # Starts a throw-away PostgreSQL on 127.0.0.1 and prints its URL (empty if impossible).
  ZONEWARDEN_TEST_PG=$(bash scripts/start-postgres.sh) || ZONEWARDEN_TEST_PG=""
  export ZONEWARDEN_TEST_PG
  if [ -z "$ZONEWARDEN_TEST_PG" ] && [ "${CI:-}" = "true" ]; then
    # Locally the PostgreSQL tests skip with a reason; CI must not pass with them silently off.
    echo "test: CI=true but the throw-away PostgreSQL server did not start (see above); failing" >&2
    exit 1
  fi
fi
[ -n "$ZONEWARDEN_TEST_PG" ] && echo "test: PostgreSQL at $ZONEWARDEN_TEST_PG" >&2
if [ "$#" -eq 0 ]; then
  # The whole run (CI) also holds the code to the linter and the type checker.
  echo "test: ruff and mypy" >&2
  .venv/bin/ruff check src tests bench scripts
  .venv/bin/mypy src
fi
if [ "$#" -eq 0 ]; then
  # The whole run names its slowest tests, so a slow CI machine shows where the time went.
  exec .venv/bin/python -m pytest -q --durations=25
fi
exec .venv/bin/python -m pytest -q "$@"
