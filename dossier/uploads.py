"""Streaming uploads: every file part is hashed while it is spooled to disk.

Django hands request bodies to upload handlers chunk by chunk; this handler (named in
`FILE_UPLOAD_HANDLERS`, so it serves the API and the UI alike) writes each chunk to a temporary
file under `FILE_UPLOAD_TEMP_DIR` and feeds it to SHA-256 on the way, so a 2 GB upload costs a
few chunks of memory, and the digest is known the moment the body has arrived. The spool then
becomes a `StagedFile` for `dossier.blobstore`, as `blobstore.spool` makes one from chunks.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from dossier.blobstore import StagedFile, UploadTooLarge

# Multipart framing around a file adds a little; refuse obviously oversized bodies up front.
_FRAMING_ALLOWANCE = 1024 * 1024
MAX_FILENAME = 255  # characters: `Version.filename`, and what file systems take
_LONGEST_EXTENSION = 20


def clean_filename(raw: str, fallback: str = "document") -> str:
    """The name an uploaded file is kept under, however it came (a multipart part's filename,
    `X-Filename`, `Content-Disposition` of a raw body): its last path segment (`/` or `\\`),
    without control, format (bidirectional overrides) or other unprintable characters, NFC,
    at most `MAX_FILENAME` characters with its extension kept; `fallback` if nothing is left.
    """
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    if name in {"", ".", ".."}:
        return fallback
    if len(name) > MAX_FILENAME:
        stem, extension = os.path.splitext(name)
        if len(extension) > _LONGEST_EXTENSION:
            stem, extension = name, ""
        name = stem[: MAX_FILENAME - len(extension)] + extension
    return name


class HashingUploadHandler(FileUploadHandler):
    """Spool each file part to disk while computing its SHA-256 and enforcing the size limit."""

    # Django's default is 64 KiB; bigger chunks mean fewer trips through the parser per upload.
    chunk_size = 1024 * 1024

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = settings.EDMS_MAX_UPLOAD_SIZE
        if content_length and content_length > limit + _FRAMING_ALLOWANCE:
            raise UploadTooLarge(limit)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = TemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        self.digest = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.EDMS_MAX_UPLOAD_SIZE:
            self.file.close()
            raise UploadTooLarge(settings.EDMS_MAX_UPLOAD_SIZE)
        self.digest.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()


def staged_from_upload(uploaded: UploadedFile) -> StagedFile:
    """The `StagedFile` view of a file that went through `HashingUploadHandler`."""
    return StagedFile(
        path=uploaded.temporary_file_path(),
        sha256=uploaded.sha256,
        size=uploaded.size,
        filename=clean_filename(uploaded.name or ""),
        declared_type=uploaded.content_type or "",
        owned=False,  # Django removes the temporary file when the request ends
    )
