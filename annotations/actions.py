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
from django.utils.translation import gettext_lazy

from annotations.models import Annotation, Kind, Sharing
from dossier.actions import DomainError
from dossier.audit import Actor, record_audit
from dossier.models import Version

TEXT_MAX_LENGTH = 5000
QUOTE_MAX_LENGTH = 20000
# A selection's boxes, about one a line: a whole page of text is well within it.
MAX_RECTS = 200
# A highlight's colours: few enough to tell apart at a glance and to mean something agreed in
# the division; all light enough for the text under them to stay readable.
HIGHLIGHT_PALETTE = {
    "#ffd400": gettext_lazy("Yellow"),
    "#7bd389": gettext_lazy("Green"),
    "#8fc7ff": gettext_lazy("Blue"),
    "#ff9ec7": gettext_lazy("Pink"),
}
HIGHLIGHT_COLOURS = tuple(HIGHLIGHT_PALETTE)
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
    rect: list | None = None,
    rects: list | None = None,
    quote: str = "",
    text: str = "",
    kind: str = Kind.NOTE,
    colour: str = "#ffd400",
    visibility: str = Sharing.PRIVATE,
) -> Annotation:
    """A new note by `actor` at `rect` on `page` of `version`, or a highlight of `rects` (its
    `rect` is then their bounding box) covering the text `quote`."""
    if version.expunged_at is not None:
        raise AnnotationError(_("This version was expunged: it cannot be annotated."))
    fields = _checked(
        version,
        page=page,
        rect=rect,
        rects=rects,
        quote=quote,
        text=text,
        kind=kind,
        colour=colour,
        visibility=visibility,
    )
    with transaction.atomic():
        annotation = Annotation.objects.create(
            document_id=version.document_id, version=version, author=actor.user, **fields
        )
        _audit(actor, "annotation.add", annotation)
    return annotation


def change_annotation(annotation: Annotation, *, actor: Actor, **changes) -> Annotation:
    """Change the text, colour, place or sharing of one's own note or highlight."""
    _require_author(annotation, actor)
    current = {name: getattr(annotation, name) for name in _FIELDS}
    if "rects" in changes and "rect" not in changes:
        current["rect"] = None  # the new boxes' bounding box
    elif "rect" in changes and "rects" not in changes and annotation.kind == Kind.HIGHLIGHT:
        current["rects"] = None  # moved whole: one box
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


_FIELDS = ("page", "rect", "rects", "quote", "text", "kind", "colour", "visibility")


def _checked(version: Version, *, page, rect, rects, quote, text, kind, colour, visibility) -> dict:
    if kind not in Kind.values:
        raise AnnotationError(_("Unknown kind of annotation."), field="kind")
    if visibility not in Sharing.values:
        raise AnnotationError(_("A note is private or shared."), field="visibility")
    known = version.page_count or MAX_PAGE
    if not isinstance(page, int) or not 1 <= page <= known:
        raise AnnotationError(_("There is no such page in this version."), field="page")
    text = (text or "").strip()
    quote = (quote or "").strip()
    if kind == Kind.HIGHLIGHT:
        rect, rects = _highlighted_area(rect, rects)
        if (colour or "").lower() not in HIGHLIGHT_COLOURS:
            raise AnnotationError(
                _("A highlight's colour is one of %(colours)s.")
                % {"colours": ", ".join(HIGHLIGHT_COLOURS)},
                field="colour",
            )
    else:
        if rects or quote:
            raise AnnotationError(_("Only a highlight covers text."), field="rects")
        rect, rects = _checked_rect(rect, "rect"), []
        if not text:
            raise AnnotationError(_("Write the note's text."), field="text")
    if len(text) > TEXT_MAX_LENGTH:
        raise AnnotationError(_("The note is too long."), field="text")
    if len(quote) > QUOTE_MAX_LENGTH:
        raise AnnotationError(_("The highlighted text is too long."), field="quote")
    if not _COLOUR.match(colour or ""):
        raise AnnotationError(_("A colour is written #rrggbb."), field="colour")
    return {
        "page": page,
        "rect": rect,
        "rects": rects,
        "quote": quote,
        "text": text,
        "kind": kind,
        "colour": colour.lower(),
        "visibility": visibility,
    }


def _highlighted_area(rect, rects) -> tuple[list[float], list[list[float]]]:
    """A highlight's boxes and their bounding box; one box (`rect`) when no `rects` are given."""
    if rects is None or (isinstance(rects, list | tuple) and not rects and rect is not None):
        if rect is None:
            raise AnnotationError(_("Say which area of the page is highlighted."), field="rects")
        box = _checked_rect(rect, "rect")
        return box, [box]
    if not isinstance(rects, list | tuple) or not 1 <= len(rects) <= MAX_RECTS:
        raise AnnotationError(
            _("A highlight covers from 1 to %(most)d boxes.") % {"most": MAX_RECTS}, field="rects"
        )
    boxes = [_checked_rect(box, f"rects.{index}") for index, box in enumerate(rects)]
    bounds = [
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    ]
    return bounds, boxes


def _checked_rect(rect, field: str) -> list[float]:
    """`[x0, y0, x1, y1]`, fractions of the page (0 to 1), x0 ≤ x1 and y0 ≤ y1."""
    valid = (
        isinstance(rect, list | tuple)
        and len(rect) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rect)
        and all(math.isfinite(v) and 0 <= v <= 1 for v in rect)
    )
    if not valid or rect[0] > rect[2] or rect[1] > rect[3]:
        raise AnnotationError(
            _("The place on the page is four fractions of it: [x0, y0, x1, y1]."), field=field
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
