"""Streaming content downloads with ETag (the SHA-256), conditional GET and byte ranges.

Content is untrusted: whatever anyone filed is served from the application's origin, so only
passive media types may be shown inline, every answer forbids script and sniffing, and content
is verified against its digest as it streams (see `dossier.fixity.read_content`).
"""

from __future__ import annotations

import re

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation

from api.problems import problem_response, storage_unavailable_detail
from dossier import blobstore, fixity
from dossier.models import Blob, Version
from metrics.instruments import DOWNLOADS, counted_download

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

# Media types a browser shows passively (no script, no document of its own to navigate): only
# these are ever served inline. Everything else — HTML, SVG, XHTML, XML, and any type not
# listed — is always an attachment, even when `disposition=inline` is asked for.
INLINE_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
# On every content answer: should a browser render it anyway, it renders it in an opaque
# origin, without script, plugins or requests (so no session, no CSRF token, no API call).
CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'"


class JsonForErrors(BaseContentNegotiation):
    """For views that answer with a file: the client's `Accept` (the file's own type —
    `application/pdf`, `image/png`, `application/zip` — or `*/*`, or even one that excludes it)
    is never refused with 406, since DRF's renderers would only ever render the errors; the file
    is answered in the type it was stored as, and errors are problem documents in JSON."""

    def select_parser(self, request, parsers):
        # Uploads on the same view (a redacted copy) still pick their parser by Content-Type.
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def base_media_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def served_media_type(media_type: str) -> str:
    """The `Content-Type` to send. Text always names its charset, so no browser guesses one
    (UTF-8: stored media types carry no parameters, and the viewer shows extracted text, not
    the original, so a legacy encoding only matters to the program a download is opened in)."""
    if base_media_type(media_type) == "text/plain":
        return "text/plain; charset=utf-8"
    return media_type


def may_show_inline(media_type: str) -> bool:
    return base_media_type(media_type) in INLINE_TYPES


def harden(response: HttpResponse) -> HttpResponse:
    """Add the headers every content answer carries (also 304s and problems)."""
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _etag(blob: Blob) -> str:
    return f'"{blob.sha256}"'


def _matches(header: str, etag: str) -> bool:
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) inclusive for a single satisfiable range; None to send everything
    (absent, multi-range or malformed headers may be ignored per RFC 9110); "unsatisfiable"."""
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def content_response(request, version: Version, *, inline: bool = False) -> HttpResponse:
    """The version's bytes; the caller has checked access and records the download."""
    return blob_response(
        request,
        version.blob,
        media_type=version.media_type,
        filename=version.filename,
        inline=inline,
    )


def blob_response(
    request, blob: Blob, *, media_type: str, filename: str, inline: bool = False
) -> HttpResponse:
    """A stored blob's bytes (an original or a rendition): streamed, `ETag` = its SHA-256,
    conditional GET, single byte ranges; inline only for passive types (`INLINE_TYPES`).
    The caller has checked access."""
    return harden(_blob_response(request, blob, media_type, filename, inline))


def _blob_response(request, blob: Blob, media_type: str, filename: str, inline: bool):
    if blob.expunged_at is not None:
        # Gone on purpose (`dossier.actions.expunge`): whatever still points at it (a scan
        # part, a rendition row of a version expunged since) gets 410, never a 304 on the old
        # ETag, and the absence is never taken for damage (`fixity.mark_corrupt`).
        return problem_response(
            request, "content-expunged", "the content was expunged; it is gone for good"
        )
    if blob.is_corrupt:
        # Checked before conditional requests and ranges: content that failed its integrity
        # check is neither served nor confirmed by its old ETag (no 304) until repaired.
        return problem_response(
            request,
            "content-unavailable",
            "the stored content failed its integrity check; it is served again once an "
            "operator restores it or the same file is uploaded again",
        )
    size = blob.size
    etag = _etag(blob)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _matches(if_none_match, etag):
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response

    byte_range = None
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (not if_range or if_range.strip() == etag):
        byte_range = parse_range(range_header, size)
    if byte_range == "unsatisfiable":
        response = problem_response(
            request, "range-not-satisfiable", f"the content is {size} bytes long", field="Range"
        )
        response["Content-Range"] = f"bytes */{size}"
        return response

    content_type = served_media_type(media_type)
    try:
        if byte_range is None:
            # Streamed through the digest check rather than sent zero-copy (sendfile), which
            # would hand the bytes to the client unverified; memory stays at two chunks.
            response = StreamingHttpResponse(
                counted_download(fixity.read_content(blob)), content_type=content_type
            )
            response["Content-Length"] = str(size)
        else:
            # A range is served unverified (checking it means reading everything): whole reads
            # and `edms fixity` find damage, and a blob marked corrupt is refused above.
            start, end = byte_range
            response = StreamingHttpResponse(
                counted_download(fixity.read_content(blob, start, end)),
                status=206,
                content_type=content_type,
            )
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
    except blobstore.BlobMissing:
        return problem_response(
            request, "content-unavailable", "the stored content is missing; an operator is needed"
        )
    except blobstore.StorageUnavailable as exc:
        return problem_response(request, "storage-unavailable", storage_unavailable_detail(exc))
    DOWNLOADS.labels(kind="whole" if byte_range is None else "range").inc()
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not (inline and may_show_inline(media_type)), filename=filename
    )
    response["Cache-Control"] = "private, no-cache"
    return response
