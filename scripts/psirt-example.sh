#!/usr/bin/env bash
# A whole PSIRT case, from report to a signed CSAF provider folder, into OUTDIR:
# register the product, take in a report (with the reporter's OpenPGP key), triage and validate
# it, answer the reporter encrypted to that key, set an embargo, coordinate
# with a CERT, reserve a CVE, decide with the SSVC coordinator table, record the affected
# versions and the assessment, lift the embargo on release day and publish.
#   bash scripts/psirt-example.sh OUTDIR          (after scripts/setup.sh; OUTDIR/provider is the web root)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash scripts/psirt-example.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export ZONEWARDEN_DB=${ZONEWARDEN_DB:-$OUT/psirt.db}
export ZONEWARDEN_ACTOR=${ZONEWARDEN_ACTOR:-psirt-lead}
if [ -n "${ZW:-}" ]; then :; elif [ -x .venv/bin/zonewarden ]; then ZW=.venv/bin/zonewarden; else ZW="python -m zonewarden.cli.main"; fi
BASE=${BASE_URL:-https://psirt.acme.example}
SHARED=${ZONEWARDEN_SHARED_DATA:-../shared/data}
section() { printf '\n== %s ==\n' "$1" >&2; }

section "A signing key for this example (use your PSIRT's own key in real life)"
KEYHOME=$(mktemp -d /tmp/zwpsirt-XXXXXX)
trap 'gpgconf --homedir "$KEYHOME" --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$KEYHOME"' EXIT
gpg --batch --homedir "$KEYHOME" --passphrase '' --quick-gen-key "ACME Controls PSIRT <psirt@acme.example>" ed25519 sign never 2>/dev/null
mkdir -p "$OUT/keys"
gpg --batch --homedir "$KEYHOME" --pinentry-mode loopback --passphrase '' --armor --export-secret-keys > "$OUT/keys/signing-key.asc"
gpg --batch --homedir "$KEYHOME" --armor --export > "$OUT/keys/public-key.asc"

section "The reporter's own key pair (the reporter sends the public key with the report)"
REPHOME=$(mktemp -d /tmp/zwrep-XXXXXX)
trap 'for h in "$KEYHOME" "$REPHOME"; do gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$h"; done' EXIT
gpg --batch --homedir "$REPHOME" --passphrase '' --quick-gen-key "Rita Reporter <rita@research.example>" ed25519 sign 1y 2>/dev/null
REPFPR=$(gpg --batch --homedir "$REPHOME" --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --batch --homedir "$REPHOME" --passphrase '' --quick-add-key "$REPFPR" cv25519 encr 1y 2>/dev/null
gpg --batch --homedir "$REPHOME" --armor --export > "$OUT/keys/reporter-public-key.asc" 2>/dev/null
gpg --batch --homedir "$REPHOME" --pinentry-mode loopback --passphrase '' --armor --export-secret-keys \
  > "$OUT/keys/reporter-secret-key.asc"   # only so that this example can read the answer as the reporter would

section "Disclosure policy and product register"
cat > "$OUT/policy.yaml" <<'YAML'
publisher_name: ACME Controls PSIRT
publisher_namespace: https://psirt.acme.example
contact: psirt@acme.example
acknowledge_days: 2
decide_days: 10
remediate_days: 90
YAML
$ZW psirt policy --file "$OUT/policy.yaml" >/dev/null
$ZW psirt product add flowctl --vendor "ACME Controls" --name "FlowCtl PLC" \
  --version 1.0 --version 1.1 --version 2.0 --version 2.0.1 --version 2.1

section "Intake: a researcher's report"
python3 - "$OUT/keys/reporter-public-key.asc" > "$OUT/report.json" <<'PY'
import json, sys
key = open(sys.argv[1]).read()
print(json.dumps({
    "reporter": {"name": "Rita Reporter", "contact": "rita@research.example", "credit": True, "encryption_key": key},
    "product": "FlowCtl PLC",
    "version": "2.0.1",
    "title": "FlowCtl PLC web interface accepts configuration writes without a session",
    "description": "POST /cfg changes the controller configuration without authentication.",
    "attachments": [{"name": "poc.txt", "content": "curl -X POST http://plc/cfg -d 'mode=stop'"}],
}, indent=2))
PY
$ZW psirt intake "$OUT/report.json" --format json > "$OUT/acknowledgement.json"
REF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$OUT/acknowledgement.json")
echo "case $REF; $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["encryption"])' "$OUT/acknowledgement.json")" >&2

section "Triage, validation, embargo, coordination"
$ZW psirt triage "$REF" --owner psirt-lead
$ZW psirt validate "$REF"
cat > "$OUT/answer.txt" <<'TXT'
Thank you for your report. We reproduced the configuration write on FlowCtl PLC 2.0.1 and are
preparing a fix. We coordinate the release with CERT@VDE and will tell you the date.
TXT
$ZW psirt reply "$REF" --file "$OUT/answer.txt" -o "$OUT/answer.asc"
$ZW psirt embargo "$REF" --until "$(date -u -d '+45 days' +%Y-%m-%dT%H:%M:%SZ)" --member cert-liaison --party CERT@VDE
$ZW psirt coordinate "$REF" --party CERT@VDE --kind cert --told "report, proof of concept, planned fix 2.1"
$ZW psirt cve "$REF" CVE-2026-49001 --state requested
$ZW psirt cve "$REF" CVE-2026-49001 --state reserved
TABLE="$SHARED/ssvc/decision_tables/ssvc/coordinator_publish_decision_table_1_0_0.json"
if [ -f "$TABLE" ]; then
  $ZW psirt ssvc "$REF" --table "$TABLE" --set SINV=FR --set E=N --set PVA=P
else
  echo "(SSVC coordinator table not found at $TABLE: decision step skipped)" >&2
fi
$ZW psirt remediate "$REF"

section "Affected versions (from the register) and the assessment"
$ZW psirt affects "$REF" --product flowctl --versions "<2.1" --fixed 2.1
$ZW psirt assess "$REF" --summary "The web interface of FlowCtl PLC accepts configuration writes without authentication." \
  --cvss "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H" --impact safety,availability,integrity \
  --remediation "Update to version 2.1 or later." \
  --workaround "Block TCP port 80 of the controller at the cell firewall."
$ZW psirt coordinate "$REF" --party "Integrator North" --kind integrator --told "fix 2.1 and the release date"
$ZW psirt release "$REF"

section "Release day: the embargo ends, the advisory is published"
$ZW psirt embargo "$REF" --until "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)" --member cert-liaison --party CERT@VDE
$ZW psirt csaf "$REF" --base-url "$BASE" > "$OUT/draft.json"
$ZW psirt publish "$REF" --out "$OUT/provider" --base-url "$BASE" --signing-key "$OUT/keys/signing-key.asc"
$ZW psirt list

section "Done"
echo "provider folder: $OUT/provider (serve it as the web root of $BASE)" >&2
find "$OUT/provider" -type f | sort | sed "s|$OUT/||" >&2
