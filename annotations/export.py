"""The notes that go with an exported dossier, as `annotations.json`, only when asked.

What goes in is what the exporting user may read (`annotations.access`): their own notes and
shared ones, on the versions the package holds. Never the public's: they see none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from annotations.access import visible_annotations
from annotations.models import Annotation
from dossier.models import Version

FILENAME = "annotations.json"
FORMAT = "edms-annotations"
FORMAT_VERSION = 1


def annotations_of(user, versions: Iterable[Version]) -> list[Annotation]:
    """The notes `user` may read on `versions`, by document, version, page."""
    ids = [version.pk for version in versions]
    return list(
        visible_annotations(user)
        .filter(version_id__in=ids)
        .select_related("author", "version")
        .order_by("document_id", "version__number", "page", "created_at", "id")
    )


def annotations_json(dossier_key: str, notes: list[Annotation]) -> bytes:
    """`annotations.json`: each note or highlight with its document, version number and page,
    where it is on the page (`rect`, fractions of the page; a highlight's boxes in `rects` and
    the text it covers in `quote`), its text, colour, author and sharing."""
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dossier": dossier_key,
        "annotations": [
            {
                "id": str(note.pk),
                "document": str(note.document_id),
                "version": note.version.number,
                "page": note.page,
                "kind": note.kind,
                "rect": note.rect,
                "rects": note.rects,
                "quote": note.quote,
                "text": note.text,
                "colour": note.colour,
                "visibility": note.visibility,
                "author": note.author.get_username(),
                "created_at": note.created_at.isoformat(),
                "updated_at": note.updated_at.isoformat(),
            }
            for note in notes
        ],
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode()
