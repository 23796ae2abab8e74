"""Near-duplicates at intake (issue 20, point 2): a version processed by the real pipeline is
checked by its own task, after the processed event; a re-filing of a document in another
dossier is flagged on both documents' API representations, for readers who may read both; records
staff review the flags; the backfill command finds what was never checked."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.test import Client

from dossier import actions
from dossier.audit import Actor
from dossier.models import Version
from dossier.roles import Role
from similarity.duplicate_models import DuplicateFlag, Fingerprint
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WORDS = (
    "claim apparatus housing lever spring shaft gear wheel escapement pallet fork balance "
    "coupled rotatable mounted first second third arranged engage disengage configured "
    "to wherein said the a an of and or in on at between adjacent surface edge plate"
).split()


def prose(seed: int, words: int = 400) -> str:
    """Claim-like text, the same for the same seed."""
    chooser = random.Random(seed)
    return " ".join(chooser.choice(WORDS) for _ in range(words))


def refiled(text: str) -> str:
    """The same text filed again: other line breaks, a changed word in a few places, a new
    heading."""
    words = text.split()
    for position in (50, 150, 300):
        words[position] = "modified"
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return "AMENDED FILING\n" + "\n".join(lines)


def filed(key: str, text: str, **fields):
    dossier = create_dossier(key, **fields.pop("dossier_fields", {}))
    return file_document(dossier, text.encode(), filename="claims.txt", **fields)


def duplicates(client, document) -> list[dict]:
    response = client.get(f"/api/v1/documents/{document.id}")
    assert response.status_code == 200, response.content
    return response.json()["duplicates"]


def test_a_refiling_in_another_dossier_is_flagged_on_both_documents(examiner, settle):
    text = prose(1)
    original = filed("BG/P/2024/000001", text)
    unrelated = filed("BG/P/2024/000002", prose(2))
    settle()
    again = filed("BG/P/2024/000003", refiled(text))
    settle()

    [found] = duplicates(examiner, again)
    assert found["relation"] == "refiling_of"
    assert found["document"] == str(original.id)
    assert found["dossier"] == "BG/P/2024/000001"
    assert found["text_similarity"] >= 0.8
    assert found["status"] == "open"
    [back] = duplicates(examiner, original)
    assert back["relation"] == "refiled_as"
    assert back["document"] == str(again.id)
    assert duplicates(examiner, unrelated) == []
    # Nothing was merged or changed: both documents stay as filed.
    assert again.versions.get().expunged_at is None
    assert DuplicateFlag.objects.count() == 1


def test_a_reader_never_learns_of_a_duplicate_they_may_not_read(
    examiner, records_clerk, admin_client, settle
):
    text = prose(3)
    secret = filed("BG/P/2024/000011", text, dossier_fields={"secret": True})
    internal = filed("BG/P/2024/000012", prose(4), visibility="internal")
    settle()
    of_secret = filed("BG/P/2024/000013", refiled(text))
    of_internal = filed("BG/P/2024/000014", refiled(prose(4)))
    settle()

    assert [d["document"] for d in duplicates(admin_client, of_secret)] == [str(secret.id)]
    assert duplicates(examiner, of_secret) == []  # no secrecy clearance
    assert [d["document"] for d in duplicates(examiner, of_internal)] == [str(internal.id)]
    assert duplicates(records_clerk, of_internal) == []  # clerks do not read internal papers
    listed = records_clerk.get("/api/v1/duplicates").json()["results"]
    assert listed == []
    assert len(admin_client.get("/api/v1/duplicates").json()["results"]) == 2


def test_records_staff_mark_a_flag_reviewed_or_not_a_duplicate(examiner, records_clerk, settle):
    text = prose(5)
    original = filed("BG/P/2024/000021", text)
    settle()
    again = filed("BG/P/2024/000022", refiled(text))
    settle()

    [flag] = records_clerk.get("/api/v1/duplicates").json()["results"]
    assert (flag["document"], flag["original"]) == (str(again.id), str(original.id))
    assert flag["dossier"] == "BG/P/2024/000022" and flag["version"] == 1

    url = f"/api/v1/duplicates/{flag['id']}/review"
    assert examiner.post(url, {"status": "reviewed"}, format="json").status_code == 403
    refused = records_clerk.post(url, {"status": "merged"}, format="json")
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    done = records_clerk.post(url, {"status": "not_duplicate"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "not_duplicate"
    assert done.json()["reviewed_by"] == "rico"
    assert records_clerk.get("/api/v1/duplicates").json()["results"] == []
    judged = records_clerk.get("/api/v1/duplicates?status=not_duplicate").json()["results"]
    assert [f["id"] for f in judged] == [flag["id"]]
    assert duplicates(examiner, again)[0]["status"] == "not_duplicate"
    # A later check (reprocessing) keeps the review.
    call_command("find_duplicates", "--all")
    assert DuplicateFlag.objects.get().status == "not_duplicate"


def test_the_backfill_command_checks_versions_never_checked(examiner, settle):
    text = prose(6)
    original = filed("BG/P/2024/000031", text)
    again = filed("BG/P/2024/000032", refiled(text))
    settle()
    Fingerprint.objects.all().delete()
    DuplicateFlag.objects.all().delete()

    call_command("find_duplicates")

    assert Fingerprint.objects.count() == 2
    [found] = duplicates(examiner, again)
    assert found["document"] == str(original.id)


def test_an_expunged_original_loses_its_fingerprint_and_its_flags(admin_client, settle):
    text = prose(7)
    original = filed("BG/P/2024/000041", text)
    settle()
    again = filed("BG/P/2024/000042", refiled(text))
    settle()
    assert len(duplicates(admin_client, again)) == 1

    actions.expunge_document(
        original,
        reason="court order",
        reference="C-1/24",
        actor=Actor(label="tests"),
    )
    settle()

    assert duplicates(admin_client, again) == []
    assert not Fingerprint.objects.filter(version__document=original).exists()
    assert Version.objects.filter(document=again).get().duplicate_fingerprint is not None


def test_short_texts_are_not_called_duplicates(examiner, settle):
    filed("BG/P/2024/000051", "Claims: a clock escapement.")
    short = filed("BG/P/2024/000052", "Claims: a clock escapement.")
    settle()
    assert duplicates(examiner, short) == []


# --- The review page and the operations page -------------------------------------------------


def ui_client(role: Role):
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_records_staff_review_flags_on_their_page_and_operations_counts_them(settle):
    text = prose(8)
    original = filed("BG/P/2024/000061", text, title="Claims as filed")
    settle()
    again = filed("BG/P/2024/000062", refiled(text), title="Claims filed again")
    settle()
    clerk = ui_client(Role.RECORDS_CLERK)

    operations = clerk.get("/operations").content.decode()
    assert "1 document flagged as a probable re-filing, not reviewed yet." in operations
    page = clerk.get("/duplicates").content.decode()
    [flag] = DuplicateFlag.objects.all()
    row = page[page.index(f'data-flag="{flag.id}"') :]
    # Each key and title is isolated (<bdi>): a right-to-left page keeps them in order.
    assert row.index("<bdi>BG/P/2024/000062</bdi> — <bdi>Claims filed again</bdi>") < row.index(
        "<bdi>BG/P/2024/000061</bdi> — <bdi>Claims as filed</bdi>"
    )
    assert f'href="/documents/{again.id}?version=1"' in row
    assert f'href="/documents/{original.id}?version=1"' in row

    done = clerk.post(f"/duplicates/{flag.id}/review", {"status": "reviewed"}, follow=True)
    assert "Review recorded." in done.content.decode()
    assert "Nothing to review." in done.content.decode()
    assert "0 documents flagged" in clerk.get("/operations").content.decode()
    reviewed = clerk.get("/duplicates?status=reviewed").content.decode()
    assert f'data-flag="{flag.id}"' in reviewed

    # Examiners see the count, not the review page; the public neither.
    examiner = ui_client(Role.EXAMINER)
    assert "Review them" not in examiner.get("/operations").content.decode()
    assert examiner.get("/duplicates").status_code == 403
    assert Client().get("/duplicates").status_code == 302
