"""Upload sessions: a large file in numbered parts, each PUT to a URL of its own, then committed.

One client code path for both blob stores. `create` answers, for every part, its offset, its
size and where to PUT it:

- S3: a pre-signed `UploadPart` URL of a multipart upload opened under a staging key in the
  bucket (`dossier.bucket_uploads`): the bytes go straight to S3, never through edms. What
  arrived is S3's `ListParts`. The commit assembles the parts (`CompleteMultipartUpload`), reads
  the staged object back once to hash it, and files it through the filing actions, whose
  promotion copies it server-side to its content key (`blobstore.StagedInStore`); the staged
  object is deleted either way. Nothing shows under a content key before its digest is checked.
- Filesystem: a signed URL of edms (`PUT …/parts/{n}?token=…`, no API key needed, so that the
  client treats both stores alike) that streams the part into the session's spool file at
  `(n - 1) * part_size` (`api.spooled_parts`); arrived parts are recorded on the session.
  The commit hashes the spool and files it, as a tus upload is filed.

A part can be PUT again (after a broken connection, or to replace it); `GET` says which parts
arrived. The declared SHA-256 is required: content that is not it is refused (422) and nothing
is stored. The outcome is kept on the session until it expires, so a repeated commit answers
the same and files nothing twice. `edms sweep` aborts and deletes expired sessions
(`delete_expired`, registered in `ApiConfig.ready`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

from django.conf import settings
from django.utils import timezone

from api import spooled_parts
from api.models import PartUploadSession
from api.permissions import require
from api.problems import Problem
from api.resumable import check_length, resolve_target
from api.upload_filing import Filed, file_and_record, outcome
from dossier import access, blobstore, bucket_uploads
from dossier.audit import Actor
from dossier.blobbackends import blob_backend
from dossier.blobs_s3 import S3Blobs
from dossier.blobstore import StagedFile, StagedInStore
from dossier.uploads import clean_filename

log = logging.getLogger(__name__)

DEFAULT_PART_SIZE = bucket_uploads.DEFAULT_PART_SIZE
MIN_PART_SIZE = bucket_uploads.MIN_PART_SIZE
MAX_PART_SIZE = bucket_uploads.MAX_PART_SIZE
MAX_PARTS = bucket_uploads.MAX_PARTS
# How long a commit may run (hashing and copying a large file) before the sweep no longer
# waits for it: a commit whose process was killed leaves `committing_since` behind.
COMMIT_GRACE = dt.timedelta(hours=1)


def part_size_for(length: int, requested: int | None) -> int:
    """The part size: `requested` if it is within S3's bounds and makes at most 10,000 parts,
    else (none requested) 64 MiB, or more for a file that would need more parts."""
    if requested is not None:
        if not MIN_PART_SIZE <= requested <= MAX_PART_SIZE:
            raise Problem(
                "validation-error",
                f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes",
                field="part_size",
            )
        if -(-length // requested) > MAX_PARTS:
            raise Problem(
                "validation-error",
                f"part_size {requested} makes more than {MAX_PARTS} parts of {length} bytes",
                field="part_size",
            )
        return requested
    return max(DEFAULT_PART_SIZE, -(-length // MAX_PARTS))


def _bucket() -> S3Blobs | None:
    backend = blob_backend()
    return backend if isinstance(backend, S3Blobs) else None


def create(
    user,
    *,
    size: int,
    sha256: str,
    filename: str = "",
    media_type: str = "",
    target: dict[str, str],
    part_size: int | None = None,
) -> PartUploadSession:
    """Check the declaration (role, size, target) and open the session where its parts go."""
    require(access.can_file_documents(user), "upload documents", user)
    length = check_length(size)
    resolved = resolve_target(user, target)
    session = PartUploadSession(
        user=user,
        length=length,
        part_size=part_size_for(length, part_size),
        sha256=sha256.lower(),
        filename=clean_filename(filename, "document"),
        media_type=media_type[:255],
        dossier_key=resolved.dossier_key,
        doc_type=resolved.doc_type,
        document_id=resolved.document_id,
        expires_at=timezone.now() + dt.timedelta(seconds=settings.EDMS_UPLOAD_EXPIRY),
    )
    if (bucket := _bucket()) is not None:
        session.store = PartUploadSession.STORE_S3
        session.staged_key = bucket_uploads.staging_key(str(session.id))
        session.multipart_id = bucket_uploads.start(bucket, session.staged_key)
    else:
        session.store = PartUploadSession.STORE_FILESYSTEM
        session.spool_path = blobstore.new_spool(settings.EDMS_RESUMABLE_DIR)
    session.save()
    return session


def session_for(user, session_id) -> PartUploadSession:
    """The caller's own session; another's, or none, is unknown; an expired one is gone."""
    require(access.can_file_documents(user), "upload documents", user)  # the public: 401
    session = PartUploadSession.objects.filter(id=session_id, user=user).first()
    if session is None:
        raise Problem("unknown-upload", f"no upload session {session_id}")
    _refuse_expired(session)
    return session


def _refuse_expired(session: PartUploadSession) -> None:
    if session.expired:
        discard(session)
        raise Problem("upload-expired", f"the upload session {session.id} has expired")


# --- Where the parts go, and which arrived ----------------------------------------------------


def part_urls(session: PartUploadSession, local_url) -> dict[int, str]:
    """Where to PUT each part: pre-signed S3 URLs, or `local_url(number, token)` (edms's own
    part endpoint). Both valid until the session expires."""
    if session.store == PartUploadSession.STORE_S3:
        bucket = _bucket()
        expires_in = int((session.expires_at - timezone.now()).total_seconds())
        return {
            part.number: bucket_uploads.part_url(
                bucket, session.staged_key, session.multipart_id, part.number, expires_in
            )
            for part in session.parts()
        }
    return {
        part.number: local_url(part.number, spooled_parts.part_token(session, part.number))
        for part in session.parts()
    }


def received_parts(session: PartUploadSession) -> set[int]:
    """The numbers of the parts that arrived whole (S3: with the size they must have)."""
    if session.completed_at is not None or session.assembled:
        return {part.number for part in session.parts()}
    if session.store == PartUploadSession.STORE_FILESYSTEM:
        return set(session.received_parts)
    try:
        held = bucket_uploads.uploaded_parts(_bucket(), session.staged_key, session.multipart_id)
    except bucket_uploads.UploadGone:
        return set()
    return _whole(session, held)


def _whole(session: PartUploadSession, held: dict[int, bucket_uploads.Part]) -> set[int]:
    """The parts S3 holds with the size they must have (a part cut short counts as missing)."""
    return {
        part.number
        for part in session.parts()
        if part.number in held and held[part.number].size == part.size
    }


def state_of(session: PartUploadSession) -> str:
    if session.completed_at is not None:
        return "refused" if session.failure is not None else "filed"
    return "committing" if session.committing_since is not None else "open"


# --- Commit -----------------------------------------------------------------------------------


def commit(session: PartUploadSession, actor: Actor) -> Filed:
    """Check that every part arrived, hash the content once and file it. A content that is not
    the declared SHA-256 (422), or a target that no longer takes it, is refused and that is the
    outcome; a store that cannot be used (503) leaves the session open to commit again."""
    if session.completed_at is not None:
        return outcome(session)
    claimed = PartUploadSession.objects.filter(
        id=session.id, committing_since__isnull=True, completed_at__isnull=True
    ).update(committing_since=timezone.now())
    if not claimed:
        session.refresh_from_db()
        if session.completed_at is not None:
            return outcome(session)
        raise Problem("upload-closed", "the upload is being committed right now: ask again")
    session.refresh_from_db()  # the parts recorded until the claim
    try:
        if session.store == PartUploadSession.STORE_S3:
            started = time.monotonic()
            staged = _stage_from_bucket(session)
            read_back = time.monotonic()
            filed = _file(session, staged, actor)
            # Where a commit's time goes (the read-back and the copy grow with the size).
            log.info(
                "upload session %s committed: assembled and read back in %.1f s, filed "
                "(copied to its content key) in %.1f s",
                session.id,
                read_back - started,
                time.monotonic() - read_back,
            )
        else:
            _check_all_arrived(session, set(session.received_parts))
            with spooled_parts.spool_alone(session):
                sha256, size = blobstore.hash_spool(session.spool_path)
                staged = StagedFile(
                    session.spool_path, sha256, size, session.filename, session.media_type
                )
                filed = _file(session, staged, actor)
    except BaseException:
        PartUploadSession.objects.filter(id=session.id, completed_at__isnull=True).update(
            committing_since=None
        )
        raise
    return filed


def _check_all_arrived(session: PartUploadSession, arrived: set[int]) -> None:
    missing = [part.number for part in session.parts() if part.number not in arrived]
    if missing:
        raise Problem(
            "upload-incomplete",
            f"{len(missing)} of {session.part_count} parts have not arrived: PUT them first",
            extra={"missing_parts": missing},
        )


def _stage_from_bucket(session: PartUploadSession) -> StagedInStore:
    """Assemble the parts into the staged object (once) and read it back to hash it."""
    bucket = _bucket()
    if not session.assembled:
        started = time.monotonic()
        try:
            held = bucket_uploads.uploaded_parts(bucket, session.staged_key, session.multipart_id)
        except bucket_uploads.UploadGone:
            held = {}
        arrived = _whole(session, held)
        # Parts missing, yet the staged object whole: a commit assembled them and its process
        # was killed before it could note so. Else the parts must all be there.
        assembled_before = len(arrived) < session.part_count and _staged_whole(bucket, session)
        if not assembled_before:
            _check_all_arrived(session, arrived)
            try:
                bucket_uploads.assemble(
                    bucket,
                    session.staged_key,
                    session.multipart_id,
                    [held[part.number] for part in session.parts()],
                )
            except bucket_uploads.UploadGone:
                if not _staged_whole(bucket, session):
                    raise Problem("unknown-upload", f"the parts of {session.id} are gone") from None
        session.assembled = True
        session.save(update_fields=["assembled"])
        log.info("upload session %s assembled in %.1f s", session.id, time.monotonic() - started)
    found = bucket_uploads.read_back(bucket, session.staged_key)
    return StagedInStore(
        path="",
        sha256=found.sha256,
        size=found.size,
        filename=session.filename,
        declared_type=session.media_type,
        staged_key=session.staged_key,
        head=found.head,
    )


def _staged_whole(bucket: S3Blobs, session: PartUploadSession) -> bool:
    return bucket_uploads.staged_size(bucket, session.staged_key) == session.length


def _file(session: PartUploadSession, staged: StagedFile, actor: Actor) -> Filed:
    # A store that cannot be used now (503) is not the outcome: the session stays open to
    # commit again.
    return file_and_record(session, staged, actor, unavailable_is_final=False)


# --- Abort and expiry -------------------------------------------------------------------------


def discard(session: PartUploadSession) -> None:
    """Delete the session with its bytes: the multipart upload aborted (S3 drops its parts) or
    the staged object deleted, or the spool removed."""
    if session.store == PartUploadSession.STORE_S3:
        bucket = _bucket()
        if bucket is not None:
            if not session.assembled and session.completed_at is None:
                bucket_uploads.abort(bucket, session.staged_key, session.multipart_id)
            bucket.delete_staged(session.staged_key)
    elif session.spool_path:
        try:
            os.unlink(session.spool_path)
        except FileNotFoundError:
            pass
    PartUploadSession.objects.filter(id=session.id).delete()


def abort(session: PartUploadSession) -> None:
    """The client gives the upload up (a commit running meanwhile is not interrupted)."""
    if session.committing_since is not None and session.completed_at is None:
        raise Problem("upload-closed", "the upload is being committed right now")
    discard(session)


def delete_expired() -> int:
    """`edms sweep`: abort and delete the sessions past their expiry, committed or not; how
    many. A session whose store cannot be reached now stays for the next sweep."""
    removed = 0
    now = timezone.now()
    expired = PartUploadSession.objects.filter(expires_at__lte=now).exclude(
        committing_since__gt=now - COMMIT_GRACE  # a commit running right now finishes first
    )
    for session in expired:
        try:
            discard(session)
        except blobstore.StorageUnavailable:
            continue
        removed += 1
    if removed:
        log.info("deleted %d expired upload sessions", removed)
    return removed
