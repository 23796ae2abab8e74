"""Text extractors, selected the Django way:

    EDMS_EXTRACTOR = {"BACKEND": "ingest.extractors.embedded.Extractor", "OPTIONS": {...}}

`load` builds the configured backend (unknown options are rejected); `extract_to_file` is the
sandbox operation that runs it on an untrusted file.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ingest.extractors.base import (
    BaseExtractor,
    Extraction,
    ExtractionFailed,
    Extractor,
    ExtractorUnavailable,
)

__all__ = [
    "BaseExtractor",
    "Extraction",
    "ExtractionFailed",
    "Extractor",
    "ExtractorUnavailable",
    "extract_to_file",
    "load",
]

# The PATH an extractor runs with: no directory, so it can run no program. Extraction never needs
# one (OCR is a step of its own), and the embedded Tika, finding none, skips the eight `tesseract`
# runs its OCR parser makes to probe for it on every start (~150 ms of CPU per file).
NO_PROGRAMS = "/dev/null"
# Metadata is shown to people and stored as JSON: keep it bounded whatever a file claims.
MAX_METADATA_KEYS = 300
MAX_METADATA_VALUE_CHARS = 2000


def load(config: dict[str, Any]) -> Extractor:
    """Instantiate the backend named by `config["BACKEND"]` with `config["OPTIONS"]`."""
    unknown = sorted(set(config) - {"BACKEND", "OPTIONS"})
    if unknown:
        raise ImproperlyConfigured(f"EDMS_EXTRACTOR has unknown key(s): {', '.join(unknown)}")
    try:
        backend = import_string(config["BACKEND"])
    except (KeyError, ImportError) as exc:
        raise ImproperlyConfigured(f"EDMS_EXTRACTOR BACKEND cannot be loaded: {exc}") from exc
    extractor = backend(**(config.get("OPTIONS") or {}))
    if not isinstance(extractor, Extractor):
        raise ImproperlyConfigured(f"{config['BACKEND']} does not implement the Extractor API")
    return extractor


def extract_to_file(*, path: str, config: dict, max_chars: int, text_path: str) -> dict:
    """Sandbox operation: extract `path`, write the text to `text_path`, return the rest.

    It runs in a sandbox child of its own, so changing the process's PATH touches nothing else."""
    os.environ["PATH"] = NO_PROGRAMS
    extraction = load(config).extract(path, max_chars=max_chars)
    with open(text_path, "w", encoding="utf-8", errors="replace") as handle:
        handle.write(extraction.text)
    return {
        "media_type": extraction.media_type,
        "metadata": _bounded(extraction.metadata),
        "truncated": extraction.truncated,
        "chars": len(extraction.text),
    }


def _bounded(metadata: dict[str, list[str]]) -> dict[str, list[str]]:
    bounded = {}
    for key in sorted(metadata)[:MAX_METADATA_KEYS]:
        bounded[key[:200]] = [str(v)[:MAX_METADATA_VALUE_CHARS] for v in metadata[key][:20]]
    return bounded
