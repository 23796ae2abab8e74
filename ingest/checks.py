"""System checks for the ingestion settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from ingest import extractors


@register(Tags.compatibility)
def check_extractor(app_configs, **kwargs):
    try:
        extractors.load(settings.EDMS_EXTRACTOR)
    except ImproperlyConfigured as exc:
        return [Error(f"EDMS_EXTRACTOR is not usable: {exc}", id="ingest.E001")]
    return []
