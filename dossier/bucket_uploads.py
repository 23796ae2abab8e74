"""Uploads sent straight to the blob bucket: S3 multipart uploads under a staging key.

The server opens a multipart upload under `<location>/uploads/<name>` and hands the client a
pre-signed `UploadPart` URL per part; the client PUTs the bytes to S3 itself, so the server never
sees them. What arrived is S3's to say (`ListParts`). Once every part is there the upload is
assembled (`CompleteMultipartUpload`) into the staging object, which is then read back once to
hash it: only content whose digest is known goes on to its content key, copied server-side by
`blobstore.promote` (a `StagedInStore`). Nothing appears under a content key before that, and an
upload never assembled is invisible to every reader until it is aborted.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from dossier.blobs_s3 import S3Blobs, s3_availability

UPLOADS_DIR = "uploads"
# S3's bounds for a multipart upload: every part but the last at least 5 MiB, at most 5 GiB,
# at most 10,000 parts.
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS = 10_000
# What an upload session's parts are by default (2 GB: 32 parts).
DEFAULT_PART_SIZE = 64 * 1024**2
READ_CHUNK = 1024**2
# Chunks read from the staged object ahead of the hash: the GET keeps streaming while a chunk
# is hashed (~10 MiB of memory at most, whatever the size: 8 MiB chunks cost the web process
# ~50 MB more).
READ_AHEAD_CHUNKS = 8
# The longest a pre-signed URL (signature v4) may be valid: 7 days.
MAX_URL_LIFETIME = 7 * 24 * 3600
# What the head sniffed for a media type must hold (`filetype` reads at most 8 KiB).
SNIFF_BYTES = 8192


class UploadGone(Exception):
    """S3 no longer knows the multipart upload (aborted, or already assembled)."""


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class ReadBack:
    """What reading the staged object found: its digest, its size and its first bytes."""

    sha256: str
    size: int
    head: bytes


def staging_key(name: str) -> str:
    """The key an upload named `name` is staged under, beside the content keys (relative to
    the store's location, like them: `S3Blobs.bucket_key` makes it the bucket's)."""
    return f"{UPLOADS_DIR}/{name}"


def _client(backend: S3Blobs):
    return backend.storage.connection.meta.client


def _object(backend: S3Blobs, key: str) -> dict[str, str]:
    """The `Bucket` and `Key` arguments of S3 calls for a key of the store."""
    return {"Bucket": backend.storage.bucket_name, "Key": backend.bucket_key(key)}


def start(backend: S3Blobs, key: str) -> str:
    """Open a multipart upload under `key`; its upload id."""
    with s3_availability():
        answer = _client(backend).create_multipart_upload(
            **_object(backend, key),
            ContentType="application/octet-stream",
        )
    return answer["UploadId"]


def part_url(backend: S3Blobs, key: str, upload_id: str, number: int, expires_in: int) -> str:
    """A pre-signed URL to PUT part `number` to, valid `expires_in` seconds (signed locally: no
    request to S3)."""
    return _client(backend).generate_presigned_url(
        "upload_part",
        Params={
            **_object(backend, key),
            "UploadId": upload_id,
            "PartNumber": number,
        },
        ExpiresIn=min(max(1, expires_in), MAX_URL_LIFETIME),
        HttpMethod="PUT",
    )


def uploaded_parts(backend: S3Blobs, key: str, upload_id: str) -> dict[int, Part]:
    """The parts S3 holds for the upload, by number; raises `UploadGone`."""
    client = _client(backend)
    parts: dict[int, Part] = {}
    marker = 0
    with s3_availability():
        while True:
            try:
                page = client.list_parts(
                    **_object(backend, key),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
            except client.exceptions.NoSuchUpload as exc:
                raise UploadGone(upload_id) from exc
            for item in page.get("Parts", []):
                parts[item["PartNumber"]] = Part(item["PartNumber"], item["Size"], item["ETag"])
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]


def assemble(backend: S3Blobs, key: str, upload_id: str, parts: list[Part]) -> None:
    """Complete the multipart upload: the parts become the object under `key`."""
    client = _client(backend)
    with s3_availability():
        try:
            client.complete_multipart_upload(
                **_object(backend, key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
                },
            )
        except client.exceptions.NoSuchUpload as exc:
            raise UploadGone(upload_id) from exc


def staged_size(backend: S3Blobs, key: str) -> int | None:
    """The size of the object under `key`, or None if there is none."""
    client = _client(backend)
    with s3_availability():
        try:
            return client.head_object(**_object(backend, key))["ContentLength"]
        except client.exceptions.ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise


def abort(backend: S3Blobs, key: str, upload_id: str) -> None:
    """Abort the multipart upload (S3 drops its parts); one already gone is fine."""
    client = _client(backend)
    with s3_availability():
        try:
            client.abort_multipart_upload(**_object(backend, key), UploadId=upload_id)
        except client.exceptions.NoSuchUpload:
            pass


def read_back(backend: S3Blobs, key: str) -> ReadBack:
    """Stream the staged object once: its SHA-256, its size, and its first bytes."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    for chunk in _read_ahead(backend, key):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return ReadBack(digest.hexdigest(), size, head)


def _read_ahead(backend: S3Blobs, key: str) -> Iterator[bytes]:
    """The object's bytes in chunks, read by a thread of its own a few chunks ahead: network
    reads and hashing overlap (both release the GIL)."""
    with s3_availability():
        body = _client(backend).get_object(**_object(backend, key))["Body"]
    chunks: queue.Queue = queue.Queue(maxsize=READ_AHEAD_CHUNKS)
    done = object()
    stop = threading.Event()

    def reader() -> None:
        try:
            for chunk in body.iter_chunks(READ_CHUNK):
                if stop.is_set():
                    return
                chunks.put(chunk)
            chunks.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            chunks.put(exc)
        finally:
            body.close()

    thread = threading.Thread(target=reader, name="staged-read", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a reader blocked on a full queue see `stop`
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(0.05)
