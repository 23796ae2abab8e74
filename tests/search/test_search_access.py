"""The principals an index stores agree with `visible_documents`, for every persona.

Search filters inside the engine by principals (`document_readers`, `user_principals`); the API
filters by the queryset `visible_documents`. Both come from `dossier.access`; this test proves
they decide the same for a matrix of dossiers (unpublished, published, published in the future,
public from filing, secret), every visibility, active and cancelled.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from dossier import access, actions
from dossier.audit import Actor
from dossier.models import Document, Visibility
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _personas() -> dict[str, object]:
    return {
        "public": AnonymousUser(),
        "examiner": UserFactory(role=Role.EXAMINER),
        "cleared examiner": UserFactory(role=Role.EXAMINER, secret_clearance=True),
        "records clerk": UserFactory(role=Role.RECORDS_CLERK),
        "registry": UserFactory(role=Role.REGISTRY_SYSTEM),
        "admin": get_user_model().objects.create_superuser("boss", "", "pw"),
    }


def _matrix() -> list[Document]:
    today = timezone.localdate()
    dossiers = [
        create_dossier("BG/P/2024/1"),
        create_dossier("BG/P/2024/2", published_at=today - dt.timedelta(days=30)),
        create_dossier("BG/P/2024/3", published_at=today + dt.timedelta(days=30)),
        create_dossier("BG/P/2024/4", published_at=today, secret=True),
        create_dossier("BG/T/2024/5", ip_type="trademark"),
    ]
    documents = []
    for dossier, visibility, cancel in itertools.product(
        dossiers, Visibility.values, (False, True)
    ):
        document = file_document(dossier, visibility=visibility)
        if cancel:
            document = actions.cancel_document(document, reason="wrong", actor=Actor(label="t"))
        documents.append(document)
    return documents


def _assert_agreement(personas: dict, documents: list[Document]) -> int:
    today = timezone.localdate()
    compared = 0
    for name, user in personas.items():
        visible = set(access.visible_documents(user).values_list("id", flat=True))
        principals = access.user_principals(user)
        for document in Document.objects.select_related("dossier").filter(
            id__in=[d.id for d in documents]
        ):
            allowed = access.document_readers(document).allow(principals, today)
            assert allowed == (document.id in visible), (
                f"{name} / {document.dossier.key} {document.visibility} {document.state}: "
                f"principals say {allowed}, visible_documents says {document.id in visible}"
            )
            compared += 1
    return compared


def test_principals_agree_with_visible_documents_for_every_persona(settings):
    settings.EDMS_PUBLIC_FROM_FILING = ["trademark"]
    documents = _matrix()
    assert _assert_agreement(_personas(), documents) == 6 * len(documents)


def test_they_agree_when_public_access_is_off(settings):
    settings.EDMS_PUBLIC_ACCESS = False
    documents = _matrix()
    assert access.user_principals(AnonymousUser()) == frozenset()
    _assert_agreement({"public": AnonymousUser()}, documents)


def test_public_principal_waits_for_the_publication_date():
    today = timezone.localdate()
    dossier = create_dossier("BG/P/2024/9", published_at=today + dt.timedelta(days=2))
    readers = access.document_readers(file_document(dossier))
    public = access.user_principals(AnonymousUser())
    assert readers.public_from == today + dt.timedelta(days=2)
    assert not readers.allow(public, today)
    assert readers.allow(public, today + dt.timedelta(days=2))
