"""The one small interface every text extractor implements.

An extractor turns a local file into text plus the raw metadata its engine found. It runs inside
the sandbox child (see `ingest.sandbox`), so it must not touch Django's database or settings: all
it needs arrives as constructor options, validated here so that a typo in `EDMS_EXTRACTOR`
fails loudly at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from django.core.exceptions import ImproperlyConfigured

from ingest.reasons import ReasonedFailure


class ExtractionFailed(ReasonedFailure):
    """The file cannot be extracted (a permanent failure): a catalogue reason's code
    (`ingest.reasons`) and the raw technical detail."""


class ExtractorUnavailable(Exception):
    """The engine cannot be reached right now (e.g. a Tika server restarting): retry later."""


@dataclass
class Extraction:
    text: str
    media_type: str = ""
    metadata: dict[str, list[str]] = field(default_factory=dict)
    truncated: bool = False


@runtime_checkable
class Extractor(Protocol):
    name: str
    needs_network: bool

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        """Extract text and metadata of the file at `path`, at most `max_chars` characters.

        Raises `ExtractionFailed` for a file it cannot read, `ExtractorUnavailable` when the
        engine itself is unreachable.
        """
        ...


class BaseExtractor:
    """Option handling shared by the backends: `OPTIONS` maps each accepted name to its default."""

    name: ClassVar[str] = "extractor"
    needs_network: ClassVar[bool] = False
    # A sandbox operation (`module:function`) the zygote runs once before it forks extraction
    # children, to start what every child would otherwise start for itself; None: nothing to warm.
    warm_up: ClassVar[str | None] = None
    OPTIONS: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any):
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            accepted = ", ".join(sorted(self.OPTIONS)) or "none"
            raise ImproperlyConfigured(
                f"{type(self).__module__}.{type(self).__name__} does not take option(s) "
                f"{', '.join(unknown)} (accepted: {accepted})"
            )
        self.options = {**self.OPTIONS, **options}
