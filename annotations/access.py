"""Who sees which notes: their author, and for a shared note the staff who may read its document.

The public never sees a note, whatever the document's visibility: notes are the office's own.
Built on `dossier.access.visible_documents`, so a note is never seen by someone who may not read
its document (a secret dossier, an internal document for a records clerk).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from annotations.models import Annotation, Sharing
from dossier import access
from dossier.roles import Role, role_of


def may_annotate(user) -> bool:
    """Any signed-in member of staff (an API key acts as its user); never the public."""
    return role_of(user) != Role.PUBLIC


def visible_annotations(user) -> QuerySet[Annotation]:
    """The notes `user` may read: their own and shared ones, on documents they may read."""
    if not may_annotate(user):
        return Annotation.objects.none()
    return Annotation.objects.filter(
        Q(author=user) | Q(visibility=Sharing.SHARED),
        document__in=access.visible_documents(user).values("id"),
    )


def count_by_document(user, document_ids) -> dict:
    """How many notes `user` may read on each of `document_ids` (any version): one query."""
    counted = (
        visible_annotations(user)
        .filter(document_id__in=list(document_ids))
        .values("document_id")
        .annotate(count=Count("id"))
    )
    return {row["document_id"]: row["count"] for row in counted}


DOSSIER_NOTES_SHOWN = 200


def dossier_notes(user, dossier, *, limit: int = DOSSIER_NOTES_SHOWN) -> list[Annotation]:
    """The notes `user` may read in `dossier`, the most recently changed first (`limit` of them)."""
    notes = (
        visible_annotations(user)
        .filter(document__dossier=dossier)
        .select_related("author", "version", "document__doc_type")
        .order_by("-updated_at", "-id")
    )
    return list(notes[:limit])
