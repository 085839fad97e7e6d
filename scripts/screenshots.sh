#!/usr/bin/env bash
# Render every web page of the example plant to docs/screenshots/*.png (1280 px and 768 px wide)
# with Debian's chromium, from a throw-away database (the README shows the dashboard).
#   bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
[ -x /usr/bin/chromium ] || { echo "screenshots need Debian's chromium at /usr/bin/chromium (apt-get install chromium)" >&2; exit 1; }
PYTHONPATH=${PYTHONPATH:-src} "$PY" scripts/screenshots.py
