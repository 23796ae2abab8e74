"""Streaming content downloads with ETag (the SHA-256), conditional GET and byte ranges."""

from __future__ import annotations

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from api.problems import problem_response
from dossier import blobstore
from dossier.models import Blob, Version

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
    conditional GET, single byte ranges. The caller has checked access."""
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

    if byte_range is None:
        path = blobstore.local_path(blob.sha256)
        if path is not None:
            # FileResponse lets the WSGI server send the file without copying it (sendfile).
            try:
                handle = open(path, "rb")
            except FileNotFoundError as exc:
                raise blobstore.BlobMissing(blob.sha256) from exc
            response = FileResponse(handle, content_type=media_type)
        else:
            response = StreamingHttpResponse(
                blobstore.read_chunks(blob.sha256), content_type=media_type
            )
        response["Content-Length"] = str(size)
    else:
        start, end = byte_range
        response = StreamingHttpResponse(
            blobstore.read_chunks(blob.sha256, start, end),
            status=206,
            content_type=media_type,
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not inline, filename=filename
    )
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response
