"""Resumable uploads (tus 1.0: core, creation, checksum, expiration, termination).

A session (`api.models.UploadSession`) is created with the upload's length and metadata: the
filename, media type, the target (`dossier` + `type` for a new document, or `document` for its
next version) and optionally the SHA-256 the client vouches for. Chunks are appended to the
session's spool file at its offset, streamed (never the whole body in memory) and, with an
`Upload-Checksum`, verified before the offset moves. When the last byte has arrived the spool is
hashed and filed through the filing actions (`attach_document` / `add_version`), which check the
declared SHA-256: on a mismatch nothing is stored. The completed session keeps its outcome (the
document and version filed, or the problem that refused it) without its spool, so a client whose
answer to the last PATCH was lost can ask again (HEAD, or the same PATCH) and is told the same,
never filing twice. Expired sessions, completed or not, are deleted with their spool by
`edms sweep` (the requeue hook `delete_expired`, registered in `ApiConfig.ready`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import UploadSession
from api.permissions import require
from api.problems import Problem, problem_for
from api.serializers.validation import document_type
from api.upload_filing import Filed, file_and_record, outcome
from dossier import access, blobstore
from dossier.actions.errors import DocumentCancelledError
from dossier.audit import Actor
from dossier.blobstore import StagedFile
from dossier.models import DocumentState
from dossier.uploads import clean_filename

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
OFFSET_STREAM = "application/offset+octet-stream"  # the media type of a PATCH's chunk
TUS_EXTENSIONS = "creation,checksum,expiration,termination"
# sha1 is the algorithm every tus server must offer; sha256 is what edms files content under.
CHECKSUM_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
READ_SIZE = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass
class Target:
    """What the upload becomes: a new document of `doc_type` in `dossier_key`, or a version."""

    dossier_key: str = ""
    doc_type: str = ""
    document_id: str | None = None


def parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs (a value may be absent)."""
    metadata: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise Problem(
                "validation-error", f"Upload-Metadata {key!r} is not base64 UTF-8", field=key
            ) from None
        if "\x00" in key + value:  # PostgreSQL cannot hold it: refused before any query
            raise Problem(
                "validation-error", f"Upload-Metadata {key!r} holds a NUL character", field=key
            )
        metadata[key] = value
    return metadata


def _is_number(header: str) -> bool:
    """A tus number: ASCII digits (`str.isdigit` also takes "²", which `int` refuses)."""
    return header.isascii() and header.isdigit()


def create_session(user, length_header: str | None, metadata_header: str) -> UploadSession:
    """Check the upload's declaration (length, target, role) and open its session."""
    require(access.can_file_documents(user), "upload documents", user)
    length = _length(length_header)
    metadata = parse_metadata(metadata_header)
    target = resolve_target(user, metadata)
    declared = metadata.get("sha256", "").strip()
    if declared and not _SHA256.match(declared):
        raise Problem("validation-error", "sha256 must be 64 hex digits", field="sha256")
    filename = clean_filename(metadata.get("filename", ""), "document")
    return UploadSession.objects.create(
        user=user,
        length=length,
        filename=filename,
        media_type=(metadata.get("filetype") or metadata.get("media_type") or "")[:255],
        dossier_key=target.dossier_key,
        doc_type=target.doc_type,
        document_id=target.document_id,
        sha256=declared.lower(),
        spool_path=blobstore.new_spool(settings.EDMS_RESUMABLE_DIR),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.EDMS_UPLOAD_EXPIRY),
    )


def _length(header: str | None) -> int:
    if header is None:
        raise Problem(
            "validation-error",
            "send Upload-Length (deferred lengths are not supported)",
            field="Upload-Length",
        )
    if not _is_number(header):
        raise Problem("validation-error", "Upload-Length must be a number", field="Upload-Length")
    return check_length(int(header))


def check_length(length: int) -> int:
    """A declared upload length, refused when empty or over `EDMS_MAX_UPLOAD_SIZE`."""
    if length == 0:
        raise blobstore.EmptyContent("the file is empty")
    if length > settings.EDMS_MAX_UPLOAD_SIZE:
        raise blobstore.UploadTooLarge(settings.EDMS_MAX_UPLOAD_SIZE)
    return length


def resolve_target(user, metadata: dict[str, str]) -> Target:
    """The upload's target (`document`, or `dossier` and `type`), resolved now so a wrong one
    is refused before any byte is sent."""
    if document_id := metadata.get("document"):
        document = access.get_document_for(user, document_id)
        if document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED):
            raise DocumentCancelledError("the document is cancelled; it takes no new versions")
        return Target(document_id=str(document.id))
    if not metadata.get("dossier") or not metadata.get("type"):
        raise Problem(
            "validation-error",
            "Upload-Metadata names the target: `dossier` and `type` (a new document) or "
            "`document` (its next version)",
            field="Upload-Metadata",
        )
    dossier = access.get_dossier_for(user, metadata["dossier"])
    return Target(dossier_key=dossier.key, doc_type=document_type(metadata["type"]).code)


def session_for(user, upload_id) -> UploadSession:
    """The caller's own session; another's, or none, is unknown, an expired one is gone."""
    require(access.can_file_documents(user), "upload documents", user)  # the public: 401
    session = UploadSession.objects.filter(id=upload_id, user=user).first()
    if session is None:
        raise Problem("unknown-upload", f"no upload {upload_id}")
    if session.expired:
        discard(session)
        raise Problem("upload-expired", f"the upload {upload_id} has expired")
    return session


def append(
    session: UploadSession,
    offset_header: str | None,
    checksum_header: str | None,
    body: BinaryIO,
    actor: Actor,
) -> Filed | None:
    """Append the request `body` (a file-like stream) at the session's offset; with the last
    byte, file the upload and answer what it became (`None` while bytes are still missing).

    Without a checksum, whatever arrived before a broken stream is kept (the client resumes
    after it); with one, the chunk counts only if it matches, else nothing of it is kept.
    The last PATCH repeated on a completed upload (its answer was lost) is answered with the
    same outcome, and files nothing again.
    """
    if offset_header is None or not _is_number(offset_header):
        raise Problem("validation-error", "send Upload-Offset", field="Upload-Offset")
    offset = int(offset_header)
    if session.completed_at is not None:
        return _repeat(session, offset)
    try:
        with _writing(session):
            session.refresh_from_db()  # as it stands now that this request writes
            if session.completed_at is not None:
                return _repeat(session, offset)
            _append(session, offset, checksum_header, body)
            if session.offset == session.length:
                return complete(session, actor)
            return None
    except _SpoolGone:
        # The spool went while this request began: another request completed the upload.
        session.refresh_from_db()
        if session.completed_at is None:
            raise Problem("unknown-upload", f"the bytes of upload {session.id} are gone") from None
        return _repeat(session, offset)


def _repeat(session: UploadSession, offset: int) -> Filed:
    """A PATCH to a completed upload: at its end it is the last one again, answered the same."""
    if offset != session.length:
        raise Problem(
            "upload-offset-mismatch",
            f"the upload is complete at {session.length}, not {offset}",
            extra={"offset": session.length},
        )
    return outcome(session)


class _SpoolGone(Exception):
    """The session's spool file is no longer there (the upload was completed meanwhile)."""


@contextmanager
def _writing(session: UploadSession) -> Iterator[None]:
    """Hold the session's spool for this request alone: a second PATCH to the same upload at
    the same time would interleave its bytes; it is refused (409) instead. (`flock`: the web
    processes of one machine, which is where the spool lives.)"""
    try:
        handle = open(session.spool_path, "rb")  # closed by `with handle` below
    except FileNotFoundError:
        raise _SpoolGone from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Problem(
                "upload-offset-mismatch", "another request is writing to this upload right now"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _append(
    session: UploadSession, offset: int, checksum_header: str | None, body: BinaryIO
) -> None:
    if offset != session.offset:
        raise Problem(
            "upload-offset-mismatch",
            f"the upload stands at {session.offset}, not {offset}",
            extra={"offset": session.offset},
        )
    expected = _checksum(checksum_header)
    digest = expected[0]() if expected else None
    stream = _read(body, digest)
    try:
        written = blobstore.append_to_spool(
            session.spool_path, session.offset, stream, limit=session.length
        )
    except blobstore.UploadTooLarge:
        blobstore.append_to_spool(session.spool_path, session.offset, [], limit=session.length)
        raise Problem(
            "validation-error", f"the upload is {session.length} bytes; this goes beyond it"
        ) from None
    except Exception:
        if expected is None:
            _advance(session, stream.written)
        else:
            blobstore.append_to_spool(session.spool_path, session.offset, [], limit=session.length)
        raise
    if expected is not None and digest.digest() != expected[1]:
        blobstore.append_to_spool(session.spool_path, session.offset, [], limit=session.length)
        raise Problem("checksum-mismatch", "the chunk does not match its Upload-Checksum")
    _advance(session, written)


class _read:
    """The request body in chunks, fed to `digest`, counting what was read."""

    def __init__(self, body, digest):
        self.body, self.digest, self.written = body, digest, 0

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.body.read(READ_SIZE):
            if self.digest is not None:
                self.digest.update(chunk)
            self.written += len(chunk)
            yield chunk


def _checksum(header: str | None):
    """(hash constructor, expected digest) from `Upload-Checksum: <algorithm> <base64>`."""
    if not header:
        return None
    name, _, encoded = header.strip().partition(" ")
    algorithm = CHECKSUM_ALGORITHMS.get(name.lower())
    if algorithm is None:
        raise Problem(
            "validation-error",
            f"checksum algorithm {name!r} is not supported: {', '.join(CHECKSUM_ALGORITHMS)}",
            field="Upload-Checksum",
        )
    try:
        expected = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            "validation-error", "Upload-Checksum is not base64", field="Upload-Checksum"
        ) from None
    return algorithm, expected


def _advance(session: UploadSession, written: int) -> None:
    # Only from the offset this request started at: a concurrent PATCH cannot move it twice.
    new_offset = session.offset + written
    moved = UploadSession.objects.filter(id=session.id, offset=session.offset).update(
        offset=new_offset
    )
    if not moved:
        raise Problem("upload-offset-mismatch", "another request moved the upload meanwhile")
    session.offset = new_offset


def complete(session: UploadSession, actor: Actor) -> Filed:
    """File the finished upload; its spool is gone afterwards, filed or not, and the session
    keeps the outcome (until it expires) for a client that asks again.

    The declared SHA-256 is checked by the filing action: on a mismatch (422) nothing is stored,
    and that refusal is the outcome. An unexpected error (a server error) leaves no session: the
    client starts over.
    """
    try:
        sha256, size = blobstore.hash_spool(session.spool_path)
        staged = StagedFile(session.spool_path, sha256, size, session.filename, session.media_type)
        # The filing uses the spool up, stored or not: a store that cannot be used now is the
        # outcome too (nothing is left to try again with).
        filed = file_and_record(session, staged, actor, unavailable_is_final=True)
    except Exception as exc:
        if problem_for(exc).problem.slug == "server-error":
            discard(session)
        raise
    _unlink(session.spool_path)
    return filed


def terminate(session: UploadSession) -> None:
    discard(session)


def discard(session: UploadSession) -> None:
    """Delete the session and its spool file."""
    with transaction.atomic():
        UploadSession.objects.filter(id=session.id).delete()
    _unlink(session.spool_path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def delete_expired() -> int:
    """`edms sweep`: delete the sessions past their expiry, completed or not, with their spools
    (a completed one has none left); how many."""
    expired = list(UploadSession.objects.filter(expires_at__lte=timezone.now()))
    for session in expired:
        discard(session)
    if expired:
        log.info("deleted %d expired uploads", len(expired))
    return len(expired)
