"""System checks for the search settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from search import backends


@register(Tags.compatibility)
def check_search_backend(app_configs, **kwargs):
    try:
        backends.build(settings.EDMS_SEARCH)
    except ImproperlyConfigured as exc:
        return [Error(f"EDMS_SEARCH is not usable: {exc}", id="search.E001")]
    return []
