"""Helpers for the web UI's tests and benchmark."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.test import Client
from django.utils import timezone

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Blob, Document, DocumentType, Dossier, Version
from dossier.roles import Role
from ingest.models import Processing, State
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

TYPE_CYCLE = ("CLM", "DESC", "ABST", "DRW", "REQ")


def large_dossier(key: str, count: int) -> Dossier:
    """A dossier with `count` documents, each with one version and its processing row.

    The rows are bulk-inserted (filing 500 documents through the actions one by one would
    measure the actions, not the page); their content is one real, stored blob.
    """
    dossier = create_dossier(key)
    content = b"%PDF-1.4 shared content of the large dossier\n"
    staged = blobstore.spool([content], filename="shared.pdf")
    blobstore.promote(staged)
    sha256 = hashlib.sha256(content).hexdigest()
    blob, _ = Blob.objects.get_or_create(
        sha256=sha256, defaults={"size": len(content), "media_type": "application/pdf"}
    )
    types = {t.code: t for t in DocumentType.objects.filter(code__in=TYPE_CYCLE)}
    start = dt.date(2020, 1, 1)
    documents = Document.objects.bulk_create(
        Document(
            dossier=dossier,
            doc_type=types[TYPE_CYCLE[i % len(TYPE_CYCLE)]],
            direction="in" if i % 3 else "out",
            official_date=start + dt.timedelta(days=i),
            title=f"Paper {i}",
            visibility="public_after_publication" if i % 4 else "internal",
            page_count=1 + i % 40,
            latest_version=1,
        )
        for i in range(count)
    )
    versions = Version.objects.bulk_create(
        Version(
            document=d, number=1, blob=blob, filename=f"paper-{i}.pdf", media_type=blob.media_type
        )
        for i, d in enumerate(documents)
    )
    Processing.objects.bulk_create(
        Processing(version=v, state=State.DONE if i % 5 else State.FAILED)
        for i, v in enumerate(versions)
    )
    return dossier


def signed_in(role: Role | None, **client_options) -> Client:
    """A client signed in with `role`, as the user `<role>-user` (the same one each time); `None`
    is a signed-in user in no group (the public). An admin is a superuser (there is no admin
    group)."""
    client = Client(**client_options)
    if role is None:
        user = UserFactory(username="nobody")
    else:
        user = UserFactory(
            username=f"{role.value}-user", role=role, is_superuser=role == Role.ADMIN
        )
    client.force_login(user)
    return client


def paper_in_two_versions(first: bytes, second: bytes) -> Document:
    """A public paper (`claims.txt`) of a published dossier, so the public may open it: `first`
    as its version 1, `second` as its version 2."""
    dossier = create_dossier(
        "BG/P/2023/7", published_at=timezone.localdate() - dt.timedelta(days=1)
    )
    document = file_document(dossier, first, filename="claims.txt", title="Claims")
    actions.add_version(
        document, blobstore.spool([second], filename="claims.txt"), actor=Actor(label="t")
    )
    return document
