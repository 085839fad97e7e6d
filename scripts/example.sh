#!/usr/bin/env bash
# The main job on the bundled example plant with the default SQLite database:
# import the plant, check its architecture, draw it, analyse gap and risk, take in the example
# advisories, plan patching, and write the evidence packages for an auditor and a customer.
#   bash scripts/example.sh [OUTPUT_DIR]          (default ./out)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${1:-out}
mkdir -p "$OUT"
export ZONEWARDEN_DB=${ZONEWARDEN_DB:-$OUT/zonewarden.db}
ZW=.venv/bin/zonewarden
AS_OF=${AS_OF:-2026-11-25}   # the date the example plant's dates were written for
section() { printf '\n== %s ==\n' "$1" >&2; }

# Commands that report findings exit 1 by design (so they can gate CI); here we just show them.
section "Import the example plant"
$ZW import examples/pharma-plant --reason "example plant"
section "Segmentation check"
$ZW check --as-of "$AS_OF" || true
section "Attack paths from enterprise IT to the safety system"
$ZW paths --from enterprise --to safety --max-hops 6
$ZW diagram -o "$OUT/plant.svg" --as-of "$AS_OF"
section "IEC 62443-3-3 gap"
$ZW gap --only-gaps --as-of "$AS_OF"
section "SL-T proposals from the risk register"
$ZW slt || true
section "Risk register"
$ZW risks --as-of "$AS_OF"
section "Assessments due"
$ZW due --as-of "$AS_OF" || true
section "Security advisories (examples written for this plant)"
$ZW advisories ingest examples/advisories
$ZW findings list
section "Patch plan and status"
$ZW patch plan --as-of "$AS_OF" --format ics > "$OUT/patch-plan.ics"
$ZW patch plan --as-of "$AS_OF" || true
$ZW patch status --as-of "$AS_OF" || true
section "Evidence packages"
$ZW report --audience auditor --format html --format pdf --format json -o "$OUT/auditor" --as-of "$AS_OF"
$ZW report --audience customer --format html --format pdf -o "$OUT/customer" --as-of "$AS_OF"
section "Audit trail"
$ZW audit verify
echo "Done: $OUT/plant.svg, $OUT/patch-plan.ics, $OUT/auditor/, $OUT/customer/" >&2
