#!/usr/bin/env bash
# Regenerate the sample evidence packages linked from docs/evidence-packages.md:
# the example plant as of 2026-11-25, straight from the site files (no database).
# Deterministic: running it again without data or code changes gives the same bytes.
#   bash scripts/sample-packages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ZW=.venv/bin/zonewarden
AS_OF=2026-11-25
rm -rf docs/sample/auditor docs/sample/customer
$ZW report --audience auditor --format html --format pdf -o docs/sample/auditor \
  --file examples/pharma-plant --as-of "$AS_OF" >/dev/null
$ZW report --audience customer --format html --format pdf --format json -o docs/sample/customer \
  --file examples/pharma-plant --as-of "$AS_OF" >/dev/null
echo "sample packages written to docs/sample/" >&2
