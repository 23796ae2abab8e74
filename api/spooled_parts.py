"""The parts of an upload session on the filesystem (`api.upload_sessions`): PUT to edms's own
part URLs, signed so that they need no API key (a client treats them as it treats S3's
pre-signed URLs), and streamed into the session's spool file at their offsets.

Parts are written side by side, each under a shared lock of the spool; a commit takes the spool
alone (`spool_alone`), so no part is written into what it hashes, and a part arriving once the
commit has begun is refused. A part counts as arrived, recorded on the session, only once all
its bytes are on disk.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.core import signing
from django.db import transaction
from django.utils.crypto import constant_time_compare

from api.models import PartUploadSession
from api.problems import Problem

READ_SIZE = 1024 * 1024
_TOKEN_SALT = "edms.upload-session-part"


def part_token(session: PartUploadSession, number: int) -> str:
    """The credential of a part URL: a signature of the session and the part number."""
    return signing.Signer(salt=_TOKEN_SALT).signature(f"{session.id}:{number}")


def receive_part(
    session_id, number: int, token: str, body: BinaryIO, content_length: int | None
) -> None:
    """Write part `number` of the session from `body` (streamed) into its spool at its
    offset, if `token` is the part URL's; it counts as arrived once all its bytes are on
    disk."""
    session = PartUploadSession.objects.filter(id=session_id).first()
    if session is None:
        raise Problem("unknown-upload", f"no upload session {session_id}")
    if not constant_time_compare(token, part_token(session, number)):
        raise Problem("upload-link-invalid", "the part URL is not valid (its token is wrong)")
    if session.expired:  # the sweep deletes it with its spool
        raise Problem("upload-expired", f"the upload session {session.id} has expired")
    if session.store != PartUploadSession.STORE_FILESYSTEM:
        raise Problem("upload-link-invalid", "this session's parts go to the S3 bucket")
    part = session.parts()[number - 1] if 1 <= number <= session.part_count else None
    if part is None:
        raise Problem("upload-link-invalid", f"the upload has no part {number}")
    if content_length != part.size:
        raise Problem(
            "validation-error",
            f"part {number} is {part.size} bytes, not {content_length}",
            field="Content-Length",
        )
    with _part_writing(session):
        session.refresh_from_db()
        if session.committing_since is not None or session.completed_at is not None:
            raise _closed(session)
        written = _write_at(session.spool_path, part.offset, body, part.size)
        if written != part.size:
            raise Problem(
                "validation-error",
                f"part {number} broke off after {written} of {part.size} bytes: send it again",
                field="Content-Length",
            )
        with transaction.atomic():
            locked = PartUploadSession.objects.select_for_update().get(id=session.id)
            if number not in locked.received_parts:
                locked.received_parts = sorted([*locked.received_parts, number])
                locked.save(update_fields=["received_parts"])


def _write_at(path: str, offset: int, body: BinaryIO, size: int) -> int:
    """Copy up to `size` bytes of `body` into the file at `offset` (other parts untouched)."""
    written = 0
    with open(path, "r+b") as handle:
        handle.seek(offset)
        try:
            while written < size and (chunk := body.read(min(READ_SIZE, size - written))):
                handle.write(chunk)
                written += len(chunk)
        finally:
            handle.flush()
            os.fsync(handle.fileno())
    return written


@contextmanager
def _part_writing(session: PartUploadSession) -> Iterator[None]:
    """Parts are written side by side (a shared lock on the spool); a commit takes the spool
    alone (`spool_alone`), so no part is written into what it hashes."""
    try:
        handle = open(session.spool_path, "rb")  # closed by `with handle` below
    except FileNotFoundError:
        raise _closed(session) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _closed(session) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def spool_alone(session: PartUploadSession) -> Iterator[None]:
    with open(session.spool_path, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Problem(
                "upload-closed", "a part is still being written: commit once it has arrived"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _closed(session: PartUploadSession) -> Problem:
    return Problem(
        "upload-closed", f"the upload session {session.id} is committed: it takes no more parts"
    )
