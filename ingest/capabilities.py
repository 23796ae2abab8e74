"""Which renditions this machine can make, from the system programs it finds.

OCR needs Tesseract (with its language packs, and `osd` to turn pages upright) and Ghostscript,
and unpaper when scans are cleaned; the office → PDF rendition needs LibreOffice; thumbnails
need only Python packages. edms starts without the system programs and says what is disabled: a
log line at start-up, the system checks `ingest.W00x`, and `GET /api/v1/ingest/capabilities`.
`infra/install-system-packages.sh` installs them.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import asdict, dataclass, field

INSTALL_HINT = "infra/install-system-packages.sh installs it (as root)"


@dataclass(frozen=True)
class Capability:
    """One rendition kind: whether it is enabled, and if not, what is missing."""

    kind: str
    enabled: bool
    missing: list[str] = field(default_factory=list)
    detail: str = ""


def which(program: str) -> str | None:
    return shutil.which(program)


def tesseract_languages() -> tuple[str, ...]:
    """The language packs Tesseract has (`eng`, `fra`, …); empty without Tesseract."""
    return tuple(pack for pack in tesseract_packs() if pack != "osd")


def tesseract_osd() -> bool:
    """Whether Tesseract can tell which way up a page is (the `osd` pack), to turn it upright."""
    return "osd" in tesseract_packs()


@functools.cache
def tesseract_packs() -> tuple[str, ...]:
    """The data packs Tesseract has: languages and `osd`; empty without Tesseract."""
    tesseract = which("tesseract")
    if tesseract is None:
        return ()
    try:
        listed = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    # The first line is a header ("List of available languages in …").
    lines = listed.stdout.splitlines()[1:]
    return tuple(sorted(line.strip() for line in lines if line.strip()))


def soffice() -> str | None:
    """LibreOffice's command (Debian installs `soffice` and `libreoffice`)."""
    return which("soffice") or which("libreoffice")


def ocr_capability() -> Capability:
    missing = [program for program in ("tesseract", "gs") if which(program) is None]
    if missing:
        return Capability("pdfa", False, missing, f"OCR is disabled: {_missing(missing)}")
    languages = tesseract_languages()
    if not languages:
        return Capability("pdfa", False, ["tesseract language packs"], "no Tesseract language")
    return Capability("pdfa", True, [], f"Tesseract languages: {'+'.join(languages)}")


def office_capability() -> Capability:
    if soffice() is None:
        missing = ["libreoffice"]
        return Capability("pdf", False, missing, f"office → PDF is disabled: {_missing(missing)}")
    return Capability("pdf", True, [], f"LibreOffice at {soffice()}")


def thumbnail_capability() -> Capability:
    return Capability("thumbnail", True, [], "pypdfium2 and Pillow")


def capabilities() -> list[Capability]:
    return [ocr_capability(), office_capability(), thumbnail_capability()]


def report() -> dict:
    """What the API shows: each rendition kind and the OCR languages installed."""
    return {
        "renditions": [asdict(capability) for capability in capabilities()],
        "ocr_languages": list(tesseract_languages()),
    }


def disabled_summary() -> str:
    """One line for the start-up log: '' when every rendition is enabled."""
    disabled = [c for c in capabilities() if not c.enabled]
    if not disabled:
        return ""
    return "renditions disabled: " + "; ".join(
        f"{c.kind} (missing {', '.join(c.missing)})" for c in disabled
    )


def _missing(programs: list[str]) -> str:
    return f"{', '.join(programs)} not found; {INSTALL_HINT}"
