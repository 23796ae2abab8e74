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
