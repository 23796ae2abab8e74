"""Filing a finished upload and keeping its outcome: one way for both kinds of upload session
(tus uploads, `api.resumable`, and uploads in parts, `api.upload_sessions`).

The content is filed through the filing actions (a new document, or the next version of the
session's document), checked against the SHA-256 the client declared. In the same transaction
the session records its outcome: the document and version filed, or the problem that refused
it. A client that asks again is told that outcome, and nothing is filed twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from api.models import AbstractUpload
from api.permissions import require
from api.problems import Problem, problem_for
from api.serializers.validation import document_type
from dossier import access, actions
from dossier.audit import Actor
from dossier.blobstore import StagedFile
from dossier.models import Version


@dataclass(frozen=True)
class Filed:
    """A completed upload's outcome: the document it became and its version number."""

    document_id: uuid.UUID
    version: int


def outcome(session: AbstractUpload) -> Filed | None:
    """A completed session's outcome (its refusal raised again); `None` while it is not."""
    if session.completed_at is None:
        return None
    if session.failure is not None:
        failure = session.failure
        raise Problem(
            failure["slug"], failure["detail"], field=failure["field"], extra=failure["extra"]
        )
    return Filed(session.filed_document_id, session.filed_version)


def file_staged(session: AbstractUpload, staged: StagedFile, actor: Actor) -> Version:
    """File `staged` as the target of `session` says: a new document or the next version,
    checked against the declared SHA-256 by the filing action."""
    user = session.user
    require(access.can_file_documents(user), "upload documents", user)  # still
    if session.document_id is not None:
        document = access.get_document_for(user, session.document_id)
        return actions.add_version(
            document, staged, actor=actor, expected_sha256=session.sha256 or None
        )
    return actions.attach_document(
        access.get_dossier_for(user, session.dossier_key),
        staged,
        doc_type=document_type(session.doc_type),
        actor=actor,
        expected_sha256=session.sha256 or None,
    )


def file_and_record(
    session: AbstractUpload, staged: StagedFile, actor: Actor, *, unavailable_is_final: bool
) -> Filed:
    """File `staged` for `session` and record the outcome with it (one transaction: both or
    neither). A refusal (a problem of the client's, 4xx) is recorded, the staged content
    discarded, and the problem raised. A server error is raised unrecorded; so is a store that
    cannot be used now (503), unless `unavailable_is_final`: then it is the outcome too (for a
    caller whose content the attempt used up, nothing being left to try again with).
    """
    try:
        with transaction.atomic():
            version = file_staged(session, staged, actor)
            filed = Filed(version.document_id, version.number)
            session.record_outcome(filed_document_id=filed.document_id, filed_version=filed.version)
    except Exception as exc:
        problem = problem_for(exc)
        final = problem.status_code < 500 or (
            unavailable_is_final and problem.problem.slug != "server-error"
        )
        if not final:
            raise
        staged.discard()  # nothing of it is kept (the filing action may have already)
        session.record_outcome(
            failure={
                "slug": problem.problem.slug,
                "detail": str(problem.detail),
                "field": problem.field,
                "extra": problem.extra,
            }
        )
        raise problem from exc
    return filed
