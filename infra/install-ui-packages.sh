#!/usr/bin/env bash
# What the web UI needs from the system, installed only if missing (safe to run again):
#   chromium  the browser the UI tests drive (Debian's package; Playwright never downloads one)
#   gettext   msgfmt, to recompile the UI's translations (`make messages`)
#   nodejs, npm  to fetch pdf.js from the npm registry at build time (`make vendor`)
set -euo pipefail

# --runtime: only what serving the UI needs (`make run`); the browser is for the tests.
missing=()
if [[ "${1:-}" != "--runtime" ]]; then
    command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
fi
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]} == 0)); then
    echo "UI packages present"
    exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "missing: ${missing[*]}; run this script as root (apt-get)" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
