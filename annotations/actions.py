"""Adding, changing and deleting notes. Each runs in one transaction and writes an audit event;
none touches the version's file, its SHA-256 or its renditions, and none is a domain event (a
note is not part of the file wrapper: nothing is announced to subscribers or the feed).

Bad input is refused with an `AnnotationError` (a `DomainError`: the API answers problem+json).
The caller has checked that the actor may read the document (`dossier.access`).
"""

from __future__ import annotations

import math
import re

from django.db import transaction
from django.utils.translation import gettext as _

from annotations.models import Annotation, Kind, Sharing
from dossier.actions import DomainError
from dossier.audit import Actor, record_audit
from dossier.models import Version

TEXT_MAX_LENGTH = 5000
# Beyond any document's pages, within every database's integer.
MAX_PAGE = 1_000_000
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class AnnotationError(DomainError):
    code = "invalid-annotation"


class NotTheAuthor(AnnotationError):
    code = "not-the-author"


def add_annotation(
    version: Version,
    *,
    actor: Actor,
    page: int,
    rect: list,
    text: str = "",
    kind: str = Kind.NOTE,
    colour: str = "#ffd400",
    visibility: str = Sharing.PRIVATE,
) -> Annotation:
    """A new note by `actor` on `page` of `version`."""
    if version.expunged_at is not None:
        raise AnnotationError(_("This version was expunged: it cannot be annotated."))
    fields = _checked(
        version, page=page, rect=rect, text=text, kind=kind, colour=colour, visibility=visibility
    )
    with transaction.atomic():
        annotation = Annotation.objects.create(
            document_id=version.document_id, version=version, author=actor.user, **fields
        )
        _audit(actor, "annotation.add", annotation)
    return annotation


def change_annotation(annotation: Annotation, *, actor: Actor, **changes) -> Annotation:
    """Change the text, colour, place or sharing of one's own note."""
    _require_author(annotation, actor)
    current = {
        name: getattr(annotation, name)
        for name in ("page", "rect", "text", "kind", "colour", "visibility")
    }
    fields = _checked(annotation.version, **{**current, **changes})
    with transaction.atomic():
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save()
        _audit(actor, "annotation.change", annotation, changed=sorted(changes))
    return annotation


def delete_annotation(annotation: Annotation, *, actor: Actor) -> None:
    """Delete one's own note."""
    _require_author(annotation, actor)
    with transaction.atomic():
        _audit(actor, "annotation.delete", annotation)
        annotation.delete()


def _require_author(annotation: Annotation, actor: Actor) -> None:
    if actor.user is None or annotation.author_id != actor.user.pk:
        raise NotTheAuthor(_("Only the author of a note may change or delete it."))


def _checked(version: Version, *, page, rect, text, kind, colour, visibility) -> dict:
    if kind not in Kind.values:
        raise AnnotationError(_("Unknown kind of annotation."), field="kind")
    if visibility not in Sharing.values:
        raise AnnotationError(_("A note is private or shared."), field="visibility")
    known = version.page_count or MAX_PAGE
    if not isinstance(page, int) or not 1 <= page <= known:
        raise AnnotationError(_("There is no such page in this version."), field="page")
    rect = _checked_rect(rect)
    text = (text or "").strip()
    if kind == Kind.NOTE and not text:
        raise AnnotationError(_("Write the note's text."), field="text")
    if len(text) > TEXT_MAX_LENGTH:
        raise AnnotationError(_("The note is too long."), field="text")
    if not _COLOUR.match(colour or ""):
        raise AnnotationError(_("A colour is written #rrggbb."), field="colour")
    return {
        "page": page,
        "rect": rect,
        "text": text,
        "kind": kind,
        "colour": colour.lower(),
        "visibility": visibility,
    }


def _checked_rect(rect) -> list[float]:
    """`[x0, y0, x1, y1]`, fractions of the page (0 to 1), x0 ≤ x1 and y0 ≤ y1."""
    valid = (
        isinstance(rect, list | tuple)
        and len(rect) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rect)
        and all(math.isfinite(v) and 0 <= v <= 1 for v in rect)
    )
    if not valid or rect[0] > rect[2] or rect[1] > rect[3]:
        raise AnnotationError(
            _("The place on the page is four fractions of it: [x0, y0, x1, y1]."), field="rect"
        )
    return [round(float(v), 5) for v in rect]


def _audit(actor: Actor, action: str, annotation: Annotation, **detail) -> None:
    record_audit(
        actor,
        action,
        object_type="annotation",
        object_id=str(annotation.pk),
        dossier_key=annotation.document.dossier.key,
        detail={
            "document": str(annotation.document_id),
            "version": annotation.version.number,
            "page": annotation.page,
            "kind": annotation.kind,
            "visibility": annotation.visibility,
            **detail,
        },
    )
