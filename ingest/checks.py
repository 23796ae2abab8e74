"""System checks for the ingestion settings and the programs renditions need."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from ingest import capabilities, extractors
from ingest.languages import split_languages, tesseract_code

HINT = "Run infra/install-system-packages.sh as root (make run and .ci/run do)."


@register(Tags.compatibility)
def check_extractor(app_configs, **kwargs):
    try:
        extractors.load(settings.EDMS_EXTRACTOR)
    except ImproperlyConfigured as exc:
        return [Error(f"EDMS_EXTRACTOR is not usable: {exc}", id="ingest.E001")]
    return []


@register(Tags.compatibility)
def check_renditions(app_configs, **kwargs):
    """edms runs without OCR or LibreOffice, but says which renditions it cannot make."""
    found = []
    ocr = capabilities.ocr_capability()
    if not ocr.enabled:
        found.append(
            Warning(
                f"no searchable PDF/A renditions: scans stay without text ({ocr.detail})",
                hint=HINT,
                id="ingest.W001",
            )
        )
    office = capabilities.office_capability()
    if not office.enabled:
        found.append(
            Warning(
                f"no PDF renditions of office documents ({office.detail})",
                hint=HINT,
                id="ingest.W002",
            )
        )
    if ocr.enabled:
        found.extend(_missing_ocr_languages())
        found.extend(_missing_preprocessing_programs())
    return found


def _missing_ocr_languages():
    installed = capabilities.tesseract_languages()
    wanted = [tesseract_code(code) for code in split_languages(settings.EDMS_OCR_LANGUAGES)]
    missing = [code or "?" for code in wanted if code not in installed]
    if not missing:
        return []
    return [
        Warning(
            f"EDMS_OCR_LANGUAGES names language(s) Tesseract does not have: {', '.join(missing)}"
            f" (installed: {'+'.join(installed)})",
            hint="Install tesseract-ocr-<code>, or change EDMS_OCR_LANGUAGES.",
            id="ingest.W003",
        )
    ]


def _missing_preprocessing_programs():
    """Scans are still OCR'd without these; the OCR step's detail says what was left out."""
    found = []
    if not capabilities.tesseract_osd():
        # osd also tells the script of a scan whose language is unknown (ingest.scripts).
        unturned = (
            "; EDMS_OCR_ROTATE_PAGES is on but pages upside down or sideways are OCR'd as they "
            "are, and read as nothing"
            if settings.EDMS_OCR_ROTATE_PAGES
            else ""
        )
        found.append(
            Warning(
                "Tesseract has no osd pack: scans of unknown language are OCR'd in "
                f"EDMS_OCR_LANGUAGES whatever their script{unturned}",
                hint="Install tesseract-ocr-osd (infra/install-system-packages.sh).",
                id="ingest.W004",
            )
        )
    cleaning = settings.EDMS_OCR_CLEAN or settings.EDMS_OCR_CLEAN_FINAL
    if cleaning and capabilities.which("unpaper") is None:
        found.append(
            Warning(
                "EDMS_OCR_CLEAN is on but unpaper is not installed: scans are OCR'd uncleaned",
                hint="Install unpaper (infra/install-system-packages.sh), or set "
                "EDMS_OCR_CLEAN=false and EDMS_OCR_CLEAN_FINAL=false.",
                id="ingest.W005",
            )
        )
    return found
