"""The viewer-link action: what it signs, how long it lives, and what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.test import override_settings

from dossier import actions
from dossier.actions.viewer_links import SALT
from dossier.models import AuditEvent
from tests.conftest import create_dossier, file_document


@pytest.fixture
def document(db):
    return file_document(create_dossier())


def test_a_link_grants_its_document_as_its_issuer_and_its_issue_is_audited(document, system_actor):
    lifetime = dt.timedelta(minutes=5)
    link = actions.issue_viewer_link(
        document, actor=system_actor, issuer={"user": 7, "key": 3}, lifetime=lifetime
    )
    now = dt.datetime.now(tz=dt.UTC)
    assert now + dt.timedelta(minutes=4) < link.expires_at <= now + dt.timedelta(minutes=5)
    grant = actions.check_viewer_link(link.token, document.id)
    assert grant.document_id == str(document.id)
    assert grant.issuer == {"user": 7, "key": 3}
    audit = AuditEvent.objects.get(action="document.viewer_link")
    assert audit.object_id == str(document.id)
    assert audit.detail == {"expires_at": link.expires_at.isoformat()}


@pytest.mark.parametrize("lifetime", [dt.timedelta(0), dt.timedelta(hours=1, seconds=1)])
def test_a_lifetime_beyond_an_hour_or_none_is_refused(document, system_actor, lifetime):
    with pytest.raises(actions.InvalidChange):
        actions.issue_viewer_link(document, actor=system_actor, issuer={}, lifetime=lifetime)
    assert not AuditEvent.objects.filter(action="document.viewer_link").exists()


def test_a_link_signed_with_another_key_or_salt_is_refused(document, system_actor):
    payload = {"d": str(document.id), "s": 600, "i": {}}
    with override_settings(SECRET_KEY="another installation's key " * 3):
        foreign = signing.TimestampSigner(salt=SALT).sign_object(payload)
    other_use = signing.TimestampSigner(salt="another.purpose").sign_object(payload)
    for token in (foreign, other_use):
        with pytest.raises(actions.ViewerLinkInvalid):
            actions.check_viewer_link(token, document.id)


def test_a_lifetime_signed_beyond_the_hour_still_ends_at_the_hour(document):
    # Only a key holder could sign that; even then the link never outlives MAX_LIFETIME.
    token = signing.TimestampSigner(salt=SALT).sign_object(
        {"d": str(document.id), "s": 10**9, "i": {}}
    )
    value = token.rsplit(":", 2)[0]
    # The same link issued two hours ago (a TimestampSigner signs "value:timestamp").
    two_hours_ago = signing.b62_encode(int(dt.datetime.now(tz=dt.UTC).timestamp()) - 7200)
    old = signing.Signer(salt=SALT).sign(f"{value}:{two_hours_ago}")
    assert actions.check_viewer_link(token, document.id).document_id == str(document.id)
    with pytest.raises(actions.ViewerLinkExpired):
        actions.check_viewer_link(old, document.id)
