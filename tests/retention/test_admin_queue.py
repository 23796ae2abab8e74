"""The disposition queue in the admin: a records manager (an administrator) reads it, approves
items with the "Approve disposition" action, and edits the retention rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Version
from retention.models import DispositionItem, DispositionState, RetentionRule
from retention.scan import scan
from tests.conftest import file_document


@pytest.fixture
def manager_browser(db) -> Client:
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser("rm", "", "pw"))
    return browser


def test_a_records_manager_approves_the_queue_in_the_admin(manager_browser, dossier):
    document = file_document(dossier, type_code="CLM")
    actions.record_case_event(
        dossier, kind="lapse", date=dt.date(2018, 1, 2), actor=Actor(label="registry")
    )
    scan(dt.datetime(2023, 1, 2, 12, tzinfo=dt.UTC))
    item = DispositionItem.objects.get()

    page = manager_browser.get("/admin/retention/dispositionitem/")
    assert page.status_code == 200
    assert "2023-01-02" in page.text or "Jan. 2, 2023" in page.text
    response = manager_browser.post(
        "/admin/retention/dispositionitem/",
        {"action": "approve", "_selected_action": [item.pk]},
        follow=True,
    )
    assert "1 disposed of, 0 held by a legal hold" in response.text
    item.refresh_from_db()
    assert (item.state, item.decided_by_label) == (DispositionState.DISPOSED, "rm")
    assert not blobstore.exists(Version.objects.get(document=document).blob_id)


def test_the_rules_are_edited_in_the_admin_and_checked(manager_browser):
    assert manager_browser.get("/admin/retention/retentionrule/").status_code == 200
    refused = manager_browser.post(
        "/admin/retention/retentionrule/add/",
        {"ip_type": "trademark", "years": "7", "triggers": '["eaten"]', "note": ""},
    )
    assert "unknown case event kinds: eaten" in refused.text
    manager_browser.post(
        "/admin/retention/retentionrule/add/",
        {"ip_type": "trademark", "years": "7", "triggers": '["expiry"]', "note": "TM law s. 9"},
    )
    assert RetentionRule.objects.get(ip_type="trademark").triggers == ["expiry"]
