"""Who sees which notes: their author, and for a shared note the staff who may read its document.

The public never sees a note, whatever the document's visibility: notes are the office's own.
Built on `dossier.access.visible_documents`, so a note is never seen by someone who may not read
its document (a secret dossier, an internal document for a records clerk).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
