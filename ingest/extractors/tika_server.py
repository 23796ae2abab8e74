"""A Tika server reached through the `tika` client package (when `TIKA_SERVER_URL` is set).

One `PUT /tika/xml` per file, answered with JSON: the file's XHTML, with its embedded documents
inline, and the file's own metadata. The XHTML is what the embedded extractor reads too: its
body's characters are the text (the `<title>` in its head is not, as `/tika/text` would make it),
and its `<div class="page">`s say where a PDF's pages begin, kept as form feeds
(`ingest.pages.text_of_xhtml`), so a search hit opens on its page. The file's name
goes along, as the embedded extractor sees it, so that both detect the same type. A parse error
comes back as HTTP 422, or, when the server is started with `returnStackTrace`
(infra/tika-server.sh does), as HTTP 200 with the stack trace in
`X-TIKA:EXCEPTION:container_exception`, which names the reason (a password, a damaged file) as
the embedded extractor would.

The client package can download a Tika jar and start Java on its own; edms never lets it:
`client_only()` switches that off before any call, so the only traffic is to the configured URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import quote, urlparse

from django.core.exceptions import ImproperlyConfigured

from ingest import tika_metadata
from ingest.extractors.base import (
    BaseExtractor,
    Extraction,
    ExtractionFailed,
    ExtractorUnavailable,
)
from ingest.pages import text_of_xhtml

SERVICE = "/tika/xml"
WRITE_LIMIT_REACHED = "org.apache.tika.exception.WriteLimitReachedException"


def client_only():
    """Import the `tika` client configured never to fetch a jar, start Java or write a log file."""
    os.environ.setdefault("TIKA_CLIENT_ONLY", "1")
    os.environ.setdefault("TIKA_LOG_FILE", "")
    import tika.tika

    tika.tika.TikaClientOnly = True
    return tika.tika


@dataclass(frozen=True)
class TikaRequest:
    """What one extraction sends: `PUT <endpoint><service>` with these headers and the file."""

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
        name = os.path.basename(path)
        headers = {
            "Accept": "application/json",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            # Tika server's per-request settings: cap the text (its characters, not the XHTML's
            # markup), never OCR (a later step does).
            "writeLimit": str(max_chars),
            "X-Tika-OCRskipOcr": "true",
            "X-Tika-PDFextractInlineImages": "false",
            **{str(k): str(v) for k, v in self.options["headers"].items()},
        }
        return TikaRequest(
            endpoint=self.options["url"].rstrip("/"),
            service=SERVICE,
            headers=headers,
            request_options={"timeout": self.options["timeout"], "verify": True},
        )

    def check_ready(self, timeout: float) -> None:
        """Raise `ExtractorUnavailable` unless the server answers `GET /version` within
        `timeout` seconds (the readiness probe, `/readyz`)."""
        client = client_only()
        endpoint = self.options["url"].rstrip("/")
        import requests

        try:
            status, _ = client.callServer(
                "get",
                endpoint,
                "/version",
                None,
                dict(self.options["headers"]),
                verbose=0,
                rawResponse=True,
                requestOptions={"timeout": timeout, "verify": True},
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ExtractorUnavailable(f"the Tika server at {endpoint}: {exc}") from exc
        if status != 200:
            raise ExtractorUnavailable(f"the Tika server answered HTTP {status}")

    def extract(self, path: str, *, max_chars: int) -> Extraction:
        client = client_only()
        call = self.request(path, max_chars=max_chars)
        import requests

        try:
            with open(path, "rb") as body:
                status, answer = client.callServer(
                    "put",
                    call.endpoint,
                    call.service,
                    body,
                    dict(call.headers),
                    verbose=0,
                    rawResponse=True,
                    requestOptions=call.request_options,
                )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ExtractorUnavailable(f"the Tika server at {call.endpoint}: {exc}") from exc
        return interpret(parse_answer(status, answer), max_chars=max_chars)


def parse_answer(status: int, answer: bytes) -> dict:
    """The server's answer as `{"status", "content", "metadata"}` (or `"error"` when not 200);
    the content is the XHTML's text, pages separated by form feeds."""
    text = answer.decode("utf-8", errors="replace")
    if status != 200:
        return {"status": status, "error": text}
    document = json.loads(text or "{}")
    content = text_of_xhtml(document.pop("X-TIKA:content", "") or "")
    return {"status": status, "content": content, "metadata": document}


def interpret(parsed: dict, *, max_chars: int) -> Extraction:
    """Turn `{"status", "content", "metadata", "error"}` into an `Extraction` or a failure."""
    status = parsed.get("status")
    if status in (502, 503, 504):
        raise ExtractorUnavailable(f"the Tika server answered HTTP {status}")
    if status == 422:  # Tika server's answer to a TikaException: a password, a damaged file
        raise _failure_from_stack_trace(parsed.get("error") or "")
    if status != 200:
        raise ExtractionFailed("extractor-error", f"the Tika server answered HTTP {status}")
    text = parsed.get("content") or ""
    metadata = tika_metadata.as_lists(parsed.get("metadata") or {})
    # With `returnStackTrace` the server answers a parse error with HTTP 200 and the trace here.
    trace = metadata.get("X-TIKA:EXCEPTION:container_exception")
    # A text cut at `writeLimit` is reported there too; the text up to the limit is the answer.
    if trace and not trace[0].startswith(WRITE_LIMIT_REACHED):
        raise _failure_from_stack_trace(trace[0])
    if tika_metadata.refused_as_encrypted(metadata, text):
        raise ExtractionFailed("encrypted-document", "the document is encrypted")
    return Extraction(
        text=text[:max_chars],
        media_type=tika_metadata.media_type(metadata),
        metadata=metadata,
        truncated=len(text) >= max_chars or "X-TIKA:EXCEPTION:write_limit_reached" in metadata,
    )


def _failure_from_stack_trace(trace: str) -> ExtractionFailed:
    """The failure a parse error means, from the server's stack trace, as the embedded one's.

    The trace's `Caused by:` lines name the root cause (`EncryptedDocumentException`, …); a
    server without `returnStackTrace` sends none, and the reason then says so.
    """
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    if "EncryptedDocumentException" in trace:
        return ExtractionFailed("encrypted-document", lines[0][:300])
    if not lines:
        return ExtractionFailed("unreadable-file", "the Tika server refused the file (HTTP 422)")
    return ExtractionFailed(*tika_metadata.failure(lines[0].split(": ", 1)[-1]))
