#!/usr/bin/env bash
# Set up zonewarden on a Debian 12 machine: system packages (as root), a virtualenv in .venv,
# and the package with its test extras. Safe to run again; it only installs what is missing.
#   bash scripts/setup.sh            # runtime + test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

# graphviz: diagrams; pango/harfbuzz/fonts: PDF (WeasyPrint); gnupg: advisory signatures;
# postgresql: the PostgreSQL test server; chromium: browser tests; poppler-utils: PDF → PNG;
# tzdata: site time zones (zoneinfo).
DEB_PACKAGES=(python3 python3-venv python3-dev build-essential graphviz libpango-1.0-0 libpangoft2-1.0-0
  libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core gnupg postgresql chromium poppler-utils ca-certificates tzdata)

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root or not Debian; make sure these are installed: ${DEB_PACKAGES[*]}" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test,solver]'
echo "setup: ready (.venv/bin/zonewarden)" >&2
