"""A publication batch: every dossier published on a date, as one streamed ZIP.

For the publication server (DOMAIN.md, "What the registry system needs from edms", item 8): one
package per dossier, the same as its export (`api.export`), holding only its public documents
(visibility `public` or `public_after_publication`: what publication shows; a document published
only redacted as its redacted copy, `dossier.redaction`), in a folder per
dossier, with the batch's own manifest first::

    manifest.json                                  the batch: date, and per dossier its folder
    BG-P-2024-000123/manifest.json                 the dossier's package manifest (paths from
    BG-P-2024-000123/2024-03-01_CLM_1a2b3c4d_v1.pdf  the batch's root, as in a dossier export)
    BG-T-2024-000045/manifest.json
    …

The batch manifest needs only the list of dossiers; each dossier's package is put together when
its turn comes in the stream (and its files audited as downloads then), so neither the ZIP nor
the batch's metadata is ever held whole in memory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from api.export import Selection, build_package, folder_name
from dossier import access, zipstream
from dossier.audit import Actor
from dossier.models import Document, Dossier, Visibility

FORMAT = "edms-publication-batch"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PUBLIC_VISIBILITIES = (Visibility.PUBLIC, Visibility.PUBLIC_AFTER_PUBLICATION)


def published_dossiers(user, date: dt.date) -> QuerySet[Dossier]:
    """The dossiers published on `date` that `user` may see (never a secret one: a dossier
    under a secrecy order is not published, whatever its date says)."""
    return access.visible_dossiers(user).filter(published_at=date, secret=False).order_by("key")


@dataclass
class PublicationBatch:
    user: object
    date: dt.date
    actor: Actor
    dossiers: list[Dossier]
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def filename(self) -> str:
        return f"publication-batch-{self.date.isoformat()}.zip"

    def selection(self) -> Selection:
        return Selection(
            filters={"published_on": self.date, "visibility": [str(v) for v in PUBLIC_VISIBILITIES]}
        )

    def manifest(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generator": "edms",
            "generated_at": self.generated_at.isoformat(),
            "published_on": self.date.isoformat(),
            "selection": self.selection().describe(),
            "dossiers": [
                {
                    "key": dossier.display_key,
                    "id": str(dossier.id),
                    "ip_type": dossier.ip_type,
                    "title": dossier.title,
                    "folder": folder_name(dossier),
                    "manifest": f"{folder_name(dossier)}/{MANIFEST_NAME}",
                }
                for dossier in self.dossiers
            ],
        }

    def members(self) -> Iterator[zipstream.Member]:
        manifest = json.dumps(self.manifest(), ensure_ascii=False, indent=2).encode()
        yield zipstream.Member.of_bytes(MANIFEST_NAME, manifest, self.generated_at)
        public = Document.objects.filter(visibility__in=PUBLIC_VISIBILITIES)
        for dossier in self.dossiers:
            # What publication shows: redacted documents as their redacted copy only.
            package = build_package(self.user, dossier, public, self.selection(), as_published=True)
            package.generated_at = self.generated_at
            # Audited as its files are about to go out: a batch broken off early is not
            # recorded as having sent the dossiers it never reached.
            package.record_downloads(self.actor)
            yield from package.members(f"{folder_name(dossier)}/{MANIFEST_NAME}")

    def stream(self) -> Iterator[bytes]:
        return zipstream.stream_zip(self.members())


def build_batch(user, date: dt.date, *, actor: Actor) -> PublicationBatch:
    """The publication batch of `date` for `user`: what they may see of it, public only."""
    return PublicationBatch(
        user=user, date=date, actor=actor, dossiers=list(published_dossiers(user, date))
    )
