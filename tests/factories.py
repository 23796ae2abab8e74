"""factory_boy factories that build domain objects through the actions, as the API would.

Creating rows through `dossier.actions` (not `Model.objects.create`) keeps the test data honest:
blobs are really stored, audit and outbox rows are written, defaults come from the document type.
"""

from __future__ import annotations

import datetime as dt
import os

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Document, DocumentType, Dossier
from dossier.roles import Role

FACTORY_ACTOR = Actor(label="factory")


class UserFactory(factory.django.DjangoModelFactory):
    """A user in the group of `role`; `secret_clearance=True` grants `view_secret_dossier`."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(None)

    @classmethod
    def _create(cls, model_class, *args, role: Role | None = None, secret_clearance=False, **kw):
        user = super()._create(model_class, *args, **kw)
        if role is not None and role != Role.ADMIN:
            user.groups.add(Group.objects.get(name=Role(role).value))
        if secret_clearance:
            user.user_permissions.add(
                Permission.objects.get(
                    codename="view_secret_dossier", content_type__app_label="dossier"
                )
            )
        return user


class DossierFactory(factory.Factory):
    """A dossier created (or updated) through `actions.upsert_dossier`."""

    class Meta:
        model = Dossier

    key = factory.Sequence(lambda n: f"BG/P/2024/{n + 500}")
    ip_type = "patent"
    title = factory.Sequence(lambda n: f"Widget number {n}")

    @classmethod
    def _create(cls, model_class, key: str, **fields) -> Dossier:
        dossier, _ = actions.upsert_dossier(key, fields, actor=FACTORY_ACTOR)
        return dossier

    @classmethod
    def _build(cls, model_class, key: str, **fields) -> Dossier:
        raise NotImplementedError("dossiers only exist through actions.upsert_dossier")


class DocumentFactory(factory.Factory):
    """A document registered through `actions.attach_document` with real stored content."""

    class Meta:
        model = Document

    dossier = factory.SubFactory(DossierFactory)
    content = factory.LazyFunction(lambda: os.urandom(64))
    type_code = "CLM"
    filename = "claims.txt"
    official_date = dt.date(2024, 3, 1)

    @classmethod
    def _create(
        cls,
        model_class,
        *,
        dossier: Dossier,
        content: bytes,
        type_code: str,
        filename: str,
        **fields,
    ) -> Document:
        staged = blobstore.spool([content], filename=filename)
        try:
            version = actions.attach_document(
                dossier,
                staged,
                doc_type=DocumentType.objects.get(code=type_code),
                actor=FACTORY_ACTOR,
                **fields,
            )
        finally:
            staged.discard()  # the spool is ours; the stored blob is a separate file
        return version.document

    @classmethod
    def _build(cls, model_class, **kwargs) -> Document:
        raise NotImplementedError("documents only exist through actions.attach_document")
