"""Search engines, selected the Django way:

    EDMS_SEARCH = {"BACKEND": "search.backends.embedded.Backend", "OPTIONS": {...}}

`get_backend()` returns the configured engine (built once per process and configuration);
`build()` constructs one and rejects unknown keys and options.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from search.backends.base import (
    FACETS,
    Hit,
    IndexDocument,
    IndexOutdated,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
)

__all__ = [
    "FACETS",
    "Hit",
    "IndexDocument",
    "IndexOutdated",
    "SearchBackend",
    "SearchRequest",
    "SearchResult",
    "SearchUnavailable",
    "build",
    "get_backend",
]

_lock = threading.Lock()
_built: dict[str, SearchBackend] = {}


def build(config: dict[str, Any]) -> SearchBackend:
    """Instantiate the engine named by `config["BACKEND"]` with `config["OPTIONS"]`."""
    unknown = sorted(set(config) - {"BACKEND", "OPTIONS"})
    if unknown:
        raise ImproperlyConfigured(f"EDMS_SEARCH has unknown key(s): {', '.join(unknown)}")
    try:
        backend_class = import_string(config["BACKEND"])
    except (KeyError, ImportError) as exc:
        raise ImproperlyConfigured(f"EDMS_SEARCH BACKEND cannot be loaded: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, SearchBackend)):
        raise ImproperlyConfigured(f"{config['BACKEND']} is not a search backend")
    try:
        return backend_class(**(config.get("OPTIONS") or {}))
    except TypeError as exc:
        raise ImproperlyConfigured(f"EDMS_SEARCH OPTIONS are not accepted: {exc}") from exc


def get_backend() -> SearchBackend:
    """The configured engine; one instance per configuration, so open indexes are reused."""
    config = settings.EDMS_SEARCH
    key = repr(sorted(config.items()))
    with _lock:
        backend = _built.get(key)
        if backend is None:
            backend = _built[key] = build(config)
    return backend
