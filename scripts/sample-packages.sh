#!/usr/bin/env bash
# Regenerate the sample evidence packages linked from docs/evidence-packages.md: the example
# plant as of 2026-11-25, with the example advisories taken in, built from a throw-away database.
#   bash scripts/sample-packages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The project venv when there is one, else zonewarden on PATH (a git worktree has no .venv).
ZW=${ZW:-.venv/bin/zonewarden}
[ -x "$ZW" ] || ZW=zonewarden
AS_OF=2026-11-25
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export ZONEWARDEN_DB="sqlite:///$TMP/sample.db" ZONEWARDEN_ACTOR=sample
# Quiet on success; on failure show why instead of writing nothing silently.
$ZW import examples/pharma-plant >/dev/null 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }
$ZW advisories ingest examples/advisories >/dev/null 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }
rm -rf docs/sample/auditor docs/sample/customer
$ZW report --audience auditor --format html --format pdf -o docs/sample/auditor --as-of "$AS_OF" >/dev/null
$ZW report --audience customer --format html --format pdf --format json -o docs/sample/customer \
  --as-of "$AS_OF" >/dev/null
echo "sample packages written to docs/sample/" >&2
