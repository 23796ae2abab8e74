"""A Tika server reached through the `tika` client package (when `TIKA_SERVER_URL` is set).

The client package can download a Tika jar and start Java on its own; edms never lets it:
`client_only()` switches that off before any call, so the only traffic is to the configured URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from ingest import tika_metadata
from ingest.extractors.base import (
    BaseExtractor,
    Extraction,
    ExtractionFailed,
    ExtractorUnavailable,
)


def client_only():
    """Import the `tika` client configured never to fetch a jar, start Java or write a log file."""
    os.environ.setdefault("TIKA_CLIENT_ONLY", "1")
    os.environ.setdefault("TIKA_LOG_FILE", "")
    import tika.parser
    import tika.tika

    tika.tika.TikaClientOnly = True
    return tika.parser


@dataclass(frozen=True)
class TikaRequest:
    """What one extraction sends: `tika.parser.from_file(path, endpoint, service, ...)`."""

    endpoint: str
    service: str
    headers: dict[str, str]
    request_options: dict


class Extractor(BaseExtractor):
    name = "tika-server"
    needs_network = True
    OPTIONS = {"url": "", "timeout": 120, "headers": {}}

    def __init__(self, **options):
        super().__init__(**options)
        url = urlparse(self.options["url"] or "")
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ImproperlyConfigured(
                f"the Tika server extractor needs an http(s) url, not {self.options['url']!r}"
            )

    def request(self, path: str, *, max_chars: int) -> TikaRequest:
        headers = {
            # Tika server's per-request settings: cap the text, never OCR (a later step does).
            "writeLimit": str(max_chars),
            "X-Tika-OCRskipOcr": "true",
            "X-Tika-PDFextractInlineImages": "false",
            **{str(k): str(v) for k, v in self.options["headers"].items()},
        }
        return TikaRequest(
            endpoint=self.options["url"].rstrip("/"),
            service="all",
            headers=headers,
            request_options={"timeout": self.options["timeout"], "verify": True},
        )

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        parser = client_only()
        call = self.request(path, max_chars=max_chars)
        import requests

        try:
            parsed = parser.from_file(
                path,
                serverEndpoint=call.endpoint,
                service=call.service,
                headers=dict(call.headers),
                requestOptions=call.request_options,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ExtractorUnavailable(f"the Tika server at {call.endpoint}: {exc}") from exc
        return interpret(parsed, max_chars=max_chars)


def interpret(parsed: dict, *, max_chars: int) -> Extraction:
    """Turn the client's `{"status", "content", "metadata"}` into an `Extraction` or a failure."""
    status = parsed.get("status")
    if status in (502, 503, 504):
        raise ExtractorUnavailable(f"the Tika server answered HTTP {status}")
    if status == 422:  # Tika server's answer to EncryptedDocumentException
        raise ExtractionFailed("encrypted document: a password is required")
    if status != 200:
        raise ExtractionFailed(f"could not extract text: the Tika server answered HTTP {status}")
    text = parsed.get("content") or ""
    metadata = tika_metadata.as_lists(parsed.get("metadata") or {})
    if tika_metadata.refused_as_encrypted(metadata, text):
        raise ExtractionFailed("encrypted document: a password is required")
    return Extraction(
        text=text[:max_chars],
        media_type=tika_metadata.media_type(metadata),
        metadata=metadata,
        truncated=len(text) >= max_chars or "X-TIKA:EXCEPTION:write_limit_reached" in metadata,
    )
