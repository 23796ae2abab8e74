#!/usr/bin/env bash
# The Debian packages edms's embedded default and its renditions need, installed when missing
# (idempotent).
#
#   Celery broker            redis-server (the private Redis `edms run` starts on a Unix socket)
#   OCR to searchable PDF/A  tesseract-ocr + language packs (Chinese simplified and traditional,
#                            Japanese among them) + osd (which way up a page is, and which
#                            script it shows), ghostscript, qpdf, unpaper (cleaning scans),
#                            pngquant
#   office → PDF             libreoffice-core/-writer/-calc/-impress (no recommends); -draw
#                            also reads Visio and drawings for the fallback readers
#   fallback PDF reader      poppler-utils (pdftotext, after pdfium: ingest/fallbacks.py)
#   test scans               fonts with Arabic and Latin glyphs (DejaVu, Noto) and Chinese and
#                            Japanese ones (WenQuanYi Micro Hei: 1.6 MB, not Noto CJK's 57 MB)
#
# As root it runs apt-get for whatever is missing; as anyone else it only prints what to install
# and exits 0, because edms still starts without the rendition tools (it reports which renditions
# are disabled: `edms check`, the startup log, GET /api/v1/ingest/capabilities); without
# redis-server `edms run` says what to install, unless CELERY_BROKER_URL names a broker.
#
# EDMS_SKIP_SYSTEM_PACKAGES=1 skips the script entirely (e.g. a machine managed by other means).
set -euo pipefail

PACKAGES=(
    redis-server
    tesseract-ocr
    tesseract-ocr-eng
    tesseract-ocr-fra
    tesseract-ocr-spa
    tesseract-ocr-ara
    tesseract-ocr-rus
    tesseract-ocr-chi-sim
    tesseract-ocr-chi-tra
    tesseract-ocr-jpn
    tesseract-ocr-osd
    ghostscript
    qpdf
    unpaper
    pngquant
    libreoffice-core
    libreoffice-writer
    libreoffice-calc
    libreoffice-impress
    libreoffice-draw
    poppler-utils
    fonts-dejavu-core
    fonts-noto-core
    fonts-wqy-microhei
)

if [[ "${EDMS_SKIP_SYSTEM_PACKAGES:-}" == 1 ]]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-system-packages: not a Debian-like system; install by hand: ${PACKAGES[*]}" >&2
    exit 0
fi

source "$(dirname "$0")/lib/debian-packages.sh"
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")

if ((${#missing[@]} == 0)); then
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    echo "install-system-packages: not root; to enable every rendition run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 0
fi

echo "install-system-packages: installing ${missing[*]}"
apt_install "${missing[@]}"
