"""An admin manages document types, users, roles, API keys and webhooks in the Django admin."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiKey
from dossier import actions
from dossier.audit import Actor
from dossier.models import AuditEvent, DocumentType
from tests.conftest import create_dossier
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/dossier/documenttype/",
    "/admin/dossier/documenttype/CLM/change/",
    "/admin/dossier/dossier/",
    "/admin/dossier/document/",
    "/admin/dossier/auditevent/",
    "/admin/dossier/event/",
    "/admin/api/apikey/",
    "/admin/api/apikey/add/",
    "/admin/webhooks/webhook/",
    "/admin/webhooks/webhook/add/",
    "/admin/webhooks/webhookdelivery/",
    "/admin/auth/user/",
    "/admin/auth/group/",
]


@pytest.fixture
def admin_browser(client):
    admin = get_user_model().objects.create_superuser("boss", "", "pw")
    client.force_login(admin)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_render(admin_browser, path):
    assert admin_browser.get(path).status_code == 200


def test_admin_edits_a_document_type_label(admin_browser):
    claims = DocumentType.objects.get(code="CLM")
    form = {
        "code": "CLM",
        "direction": claims.direction,
        "default_visibility": "public_after_publication",
        "labels": '{"en": "Claims (amended table)", "fr": "Revendications"}',
        "active": "on",
        "to_be_published": "on",
    }
    response = admin_browser.post("/admin/dossier/documenttype/CLM/change/", form)
    assert response.status_code == 302
    assert DocumentType.objects.get(code="CLM").label("en") == "Claims (amended table)"


def test_role_groups_exist_for_assignment(admin_browser):
    response = admin_browser.get("/admin/auth/group/")
    for role in ("admin", "examiner", "records_clerk", "registry_system"):
        assert role.encode() in response.content


def test_admin_creates_an_api_key_shown_once(admin_browser):
    response = admin_browser.post(
        "/admin/api/apikey/add/", {"name": "epo-exchange", "role": "registry_system"}, follow=True
    )
    assert response.status_code == 200
    shown = re.search(rb"edms_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content)
    assert shown, "the new key is shown to the admin once"
    api_key = ApiKey.objects.get(name="epo-exchange")
    assert api_key.key_hash != shown.group(0).decode()  # only the hash is stored
    listing = admin_browser.get(
        "/api/v1/events", HTTP_AUTHORIZATION=f"Bearer {shown.group(0).decode()}"
    )
    assert listing.status_code == 200


def test_admin_creates_a_webhook_shown_once_and_refuses_a_bad_url(admin_browser):
    owner = get_user_model().objects.get(username="boss")
    form = {"owner": owner.pk, "url": "ftp://ipas.example.org/", "kinds": "[]", "active": "on"}
    refused = admin_browser.post("/admin/webhooks/webhook/add/", form)
    assert refused.status_code == 200 and b"https://" in refused.content
    assert not Webhook.objects.exists()

    form["url"] = "https://ipas.example.org/hook"
    response = admin_browser.post("/admin/webhooks/webhook/add/", form, follow=True)
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert webhook.secret.encode() in response.content  # shown to the admin once
    assert (
        webhook.secret.encode()
        not in admin_browser.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content
    )
    assert AuditEvent.objects.filter(action="webhook.create", object_id=str(webhook.pk)).exists()


@pytest.mark.parametrize(
    "old, new",
    [
        ("/admin/api/webhook/", "/admin/webhooks/webhook/"),
        ("/admin/api/webhook/7/change/?a=1", "/admin/webhooks/webhook/7/change/?a=1"),
        ("/admin/api/webhookdelivery/", "/admin/webhooks/webhookdelivery/"),
    ],
)
def test_the_webhook_pages_of_before_issue_13_lead_to_their_app(admin_browser, old, new):
    response = admin_browser.get(old)
    assert (response.status_code, response["Location"]) == (302, new)


def test_a_dossier_page_shows_its_case_events_read_only(admin_browser):
    dossier = create_dossier("BG/P/2024/77")
    actions.record_case_event(
        dossier, kind="refusal", date=dt.date(2025, 2, 3), actor=Actor(label="ipas")
    )
    page = admin_browser.get(f"/admin/dossier/dossier/{dossier.pk}/change/").content.decode()
    assert "Refusal" in page and "Feb. 3, 2025" in page
    assert 'name="case_events-0-kind"' not in page  # nothing editable
