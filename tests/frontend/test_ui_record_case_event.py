"""Recording a case event from the dossier page: who sees the form (the API's rule), its CSRF
protection, a publication opening the file to the public, and the refusals that record nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from dossier.models import AuditEvent, CaseEvent
from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.ui_support import signed_in

pytestmark = pytest.mark.django_db

# The page under the file number as displayed (the form posts there; any accepted form works).
PAGE = "/dossiers/BG/P/2023/000007"
RECORD = f"{PAGE}/case-events"


@pytest.fixture
def dossier():
    """An unpublished patent dossier (the public may not see it yet)."""
    return create_dossier("BG/P/2023/7")


@pytest.mark.parametrize("role", [Role.REGISTRY_SYSTEM, Role.ADMIN])
def test_the_registry_and_admins_see_the_form(dossier, role):
    html = signed_in(role).get(PAGE).content.decode()
    assert f'action="{RECORD}"' in html
    assert "Record a case event</summary>" in html
    kinds = re.findall(r'<option value="(\w+)">', html[html.index('id="case-event-kind"') :])
    assert kinds[:3] == ["filing", "priority_claimed", "examination_requested"]
    assert '<option value="grant">Grant or registration</option>' in html
    assert re.search(r'<input id="case-event-date" name="date" type="date"[^>]* required>', html)


@pytest.mark.parametrize("role", [Role.EXAMINER, Role.RECORDS_CLERK])
def test_other_staff_see_the_history_but_no_form(dossier, role):
    html = signed_in(role).get(PAGE).content.decode()
    assert 'id="case-events"' in html
    assert RECORD not in html and "Record a case event" not in html


def test_recording_a_publication_opens_the_file_to_the_public(dossier):
    document = file_document(dossier, visibility="public_after_publication")
    public = signed_in(None)
    assert public.get(f"/documents/{document.id}").status_code == 404
    registry = signed_in(Role.REGISTRY_SYSTEM, enforce_csrf_checks=True)
    page = registry.get(PAGE).content.decode()
    token = re.search(
        rf'action="{RECORD}" id="case-event-form">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
    ).group(1)
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    response = registry.post(
        RECORD,
        {
            "kind": "publication",
            "date": yesterday.isoformat(),
            "wipo_code": " b10",  # normalised as the API does
            "note": "A1 published",
            "csrfmiddlewaretoken": token,
        },
        follow=True,
    )

    assert response.redirect_chain == [(f"{PAGE}#case-events-title", 302)]
    assert f"Case event recorded: Publication on {yesterday.isoformat()}." in (
        response.content.decode()
    )
    event = CaseEvent.objects.get(dossier=dossier)
    assert (event.kind, event.date, event.wipo_code, event.note) == (
        "publication",
        yesterday,
        "B10",
        "A1 published",
    )
    dossier.refresh_from_db()
    assert dossier.published_at == yesterday
    assert AuditEvent.objects.get(action="dossier.case_event").detail["kind"] == "publication"
    assert public.get(f"/documents/{document.id}").status_code == 200


def test_a_bad_wipo_code_is_refused_with_the_reason_and_records_nothing(dossier):
    response = signed_in(Role.REGISTRY_SYSTEM).post(
        RECORD, {"kind": "publication", "date": "2024-07-15", "wipo_code": "10B"}, follow=True
    )
    html = response.content.decode()
    assert "The case event was not recorded:" in html
    assert "is not a ST.27 category code" in html
    assert not CaseEvent.objects.filter(dossier=dossier).exists()
    dossier.refresh_from_db()
    assert dossier.published_at is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "grant", "date": ""}, "Give the date the event took effect (YYYY-MM-DD)."),
        ({"kind": "grant", "date": "15/07/2024"}, "Give the date the event took effect"),
        ({"kind": "promotion", "date": "2024-07-15"}, "unknown case event kind"),
        (
            {"kind": "grant", "date": "2024-07-15", "note": "x" * 2001},
            "The note is too long (at most 2000 characters).",
        ),
    ],
    ids=["no-date", "bad-date", "bad-kind", "long-note"],
)
def test_other_bad_input_is_refused_and_records_nothing(dossier, body, message):
    response = signed_in(Role.ADMIN).post(RECORD, body, follow=True)
    assert message in response.content.decode()
    assert not CaseEvent.objects.filter(dossier=dossier).exists()


@pytest.mark.parametrize(
    "client",
    [Client(), None, Role.EXAMINER, Role.RECORDS_CLERK],
    ids=["anonymous", "no-role", "examiner", "records-clerk"],
)
def test_others_get_403(dossier, client):
    if not isinstance(client, Client):
        client = signed_in(client)
    response = client.post(RECORD, {"kind": "publication", "date": "2024-07-15"})
    assert response.status_code == 403
    assert not CaseEvent.objects.filter(dossier=dossier).exists()


def test_a_post_without_the_csrf_token_is_refused(dossier):
    client = signed_in(Role.REGISTRY_SYSTEM, enforce_csrf_checks=True)
    response = client.post(RECORD, {"kind": "publication", "date": "2024-07-15"})
    assert response.status_code == 403
    assert not CaseEvent.objects.filter(dossier=dossier).exists()


def test_recording_takes_no_get(dossier):
    assert signed_in(Role.REGISTRY_SYSTEM).get(RECORD).status_code == 405


def test_the_form_and_the_message_are_translated(dossier):
    client = signed_in(Role.REGISTRY_SYSTEM)
    client.post("/i18n/setlang/", {"language": "fr"})
    html = client.get(PAGE).content.decode()
    assert "Enregistrer un événement de la procédure" in html
    assert ">Délivrance ou enregistrement</option>" in html
    response = client.post(RECORD, {"kind": "grant", "date": "2025-03-01"}, follow=True)
    assert "Événement enregistré : Délivrance ou enregistrement le 2025-03-01." in (
        response.content.decode()
    )
