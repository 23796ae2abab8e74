"""The document-type crosswalk: seeded with the seed types, read by `code_for`, its gaps listed
by `edms crosswalk_unmapped`, editable in the admin."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from dossier.doctype_seed import DOCUMENT_TYPES
from dossier.models import DocumentType
from exchange.crosswalk import code_for, unmapped_types
from exchange.crosswalk_seed import CROSSWALK
from exchange.models import CaseClient, DocumentTypeCrosswalk

pytestmark = pytest.mark.django_db


def test_the_seed_types_ship_with_their_codes():
    seed_codes = {seed.code for seed in DOCUMENT_TYPES}
    assert {row.code for row in CROSSWALK} <= seed_codes
    assert DocumentTypeCrosswalk.objects.count() == len(CROSSWALK)
    assert code_for("CLM", "uspto") == "CLM"
    assert code_for(DocumentType.objects.get(code="OA"), "case") == "EXRP"
    assert code_for("SR", "epo") == "1503"
    assert code_for("FEE", "case") is None  # not shared with CASE
    assert code_for("NO-SUCH-TYPE", "uspto") is None
    with pytest.raises(ValueError):
        code_for("CLM", "jpo")


def test_the_report_lists_types_left_unmapped():
    DocumentType.objects.create(code="LOCAL", direction="in", labels={"en": "Local form"})
    unmapped = {doc_type.code for doc_type in unmapped_types("case")}
    assert {"LOCAL", "FEE", "POA"} <= unmapped
    assert "CLM" not in unmapped
    out = io.StringIO()
    call_command("crosswalk_unmapped", "--scheme", "case", stdout=out)
    report = out.getvalue()
    assert report.startswith(f"case: {len(unmapped)} unmapped")
    assert "  LOCAL\tLocal form" in report
    assert "  CLM\t" not in report


def test_the_crosswalk_is_edited_in_the_admin():
    get_user_model().objects.create_superuser("root", "", "pw")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="root"))
    listing = browser.get("/admin/exchange/documenttypecrosswalk/?unmapped=case")
    assert listing.status_code == 200
    shown = {row.doc_type_id for row in listing.context["cl"].result_list}
    assert "INV" in shown and "CLM" not in shown  # rows without a CASE code
    # A type with no row at all (FEE) gets one.
    changed = browser.post(
        "/admin/exchange/documenttypecrosswalk/add/",
        {
            "doc_type": "FEE",
            "case_code": "FEES",
            "case_group": "",
            "uspto_code": "WFEE",
            "epo_code": "",
            "translation": "",
        },
    )
    assert changed.status_code == 302, changed.content[:2000]
    assert code_for("FEE", "case") == "FEES"
    assert code_for("FEE", "uspto") == "WFEE"


def test_a_client_made_in_the_admin_shows_its_secret_once():
    get_user_model().objects.create_superuser("root", "", "pw")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="root"))
    made = browser.post(
        "/admin/exchange/caseclient/add/",
        {"name": "EPO examiners", "office_code": "EP", "active": "on"},
        follow=True,
    )
    assert made.status_code == 200
    client = CaseClient.objects.get()
    shown = [str(message) for message in made.context["messages"]]
    assert any(client.client_id in text and "shown once" in text for text in shown)
