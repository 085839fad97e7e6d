#!/usr/bin/env bash
# The main job on the bundled example plant with the default SQLite database:
# import, check the architecture, draw the diagram and write the evidence packages.
#   bash scripts/example.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${1:-out}
mkdir -p "$OUT"
export ZONEWARDEN_DB=${ZONEWARDEN_DB:-$OUT/zonewarden.db}
ZW=.venv/bin/zonewarden
AS_OF=${AS_OF:-2026-11-25}

$ZW import examples/pharma-plant --reason "example plant"
echo "== Segmentation check ==" >&2
$ZW check --as-of "$AS_OF" || true          # exit 1 just means findings at or over --fail-on
echo "== Attack paths from enterprise IT to the safety system ==" >&2
$ZW paths --from enterprise --to safety --max-hops 6 || true
$ZW diagram -o "$OUT/plant.svg" --as-of "$AS_OF"
for extra in "$ZW gap --as-of $AS_OF" "$ZW slt" "$ZW risks" "$ZW due --as-of $AS_OF" ; do
  cmd=${extra%% --*}; sub=${cmd##* }
  if $ZW "$sub" --help >/dev/null 2>&1; then echo "== ${sub} ==" >&2; $extra || true; fi
done
if $ZW advisories --help >/dev/null 2>&1; then
  echo "== Advisories ==" >&2
  $ZW advisories ingest examples/advisories || true
  $ZW findings list || true
fi
if $ZW report --help >/dev/null 2>&1; then
  $ZW report --audience auditor --format html -o "$OUT/auditor" --as-of "$AS_OF" || true
  $ZW report --audience customer --format html -o "$OUT/customer" --as-of "$AS_OF" || true
fi
$ZW audit verify
echo "Done: diagram and packages are in $OUT/" >&2
