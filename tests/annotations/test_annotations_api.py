"""Notes on a version's pages over the API: private or shared, changed and deleted only by their
author, never seen by the public nor by someone who may not read the document, never changing
the file; every change audited; exported with the dossier only when asked."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest

from dossier.models import AuditEvent, Version
from tests.conftest import create_dossier, file_document

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
KEY = "BG/P/2024/000321"
CONTENT = b"1. A widget with a handle.\n2. The widget of claim 1, painted blue."


@pytest.fixture
def claims():
    dossier = create_dossier(KEY, published_at=dt.date(2024, 9, 1))
    return file_document(dossier, CONTENT, type_code="CLM", visibility="public")


def notes_url(document, number: int = 1) -> str:
    return f"/api/v1/documents/{document.id}/versions/{number}/annotations"


def add(client, document, **fields):
    body = {"page": 1, "rect": [0.25, 0.5, 0.25, 0.5], "text": "Compare D1, p. 4", **fields}
    return client.post(notes_url(document), body, format="json")


def texts(client, document) -> list[str]:
    response = client.get(notes_url(document))
    assert response.status_code == 200, response.content
    return [note["text"] for note in response.json()["results"]]


def test_a_note_is_created_and_listed_with_where_it_is(examiner, claims):
    created = add(examiner, claims, colour="#FF0000")
    assert created.status_code == 201, created.content
    note = created.json()
    assert created["Location"] == f"/api/v1/annotations/{note['id']}"
    assert note["document"] == str(claims.id)
    assert (note["version"], note["page"], note["kind"]) == (1, 1, "note")
    assert note["rect"] == [0.25, 0.5, 0.25, 0.5]
    assert (note["colour"], note["visibility"], note["author"]) == ("#ff0000", "private", "erika")
    assert note["own"] is True
    assert texts(examiner, claims) == ["Compare D1, p. 4"]
    assert examiner.get(f"/api/v1/annotations/{note['id']}").json()["text"] == "Compare D1, p. 4"


def test_a_private_note_is_its_authors_alone_and_a_shared_one_is_the_divisions(
    examiner, other_examiner, claims
):
    add(examiner, claims, text="mine alone")
    shared = add(examiner, claims, text="for the division", visibility="shared").json()
    assert sorted(texts(examiner, claims)) == ["for the division", "mine alone"]
    assert texts(other_examiner, claims) == ["for the division"]
    seen_by_otto = other_examiner.get(f"/api/v1/annotations/{shared['id']}").json()
    assert (seen_by_otto["author"], seen_by_otto["own"]) == ("erika", False)


def test_a_records_clerk_never_sees_notes_on_an_internal_document(examiner, records_clerk, claims):
    internal = file_document(claims.dossier, b"draft", type_code="SRCH-NOTE", visibility="internal")
    assert add(examiner, internal, text="on the draft", visibility="shared").status_code == 201
    assert add(examiner, claims, text="on the claims", visibility="shared").status_code == 201
    assert texts(records_clerk, claims) == ["on the claims"]
    assert records_clerk.get(notes_url(internal)).status_code == 404


def test_only_the_author_changes_or_deletes_a_note(examiner, other_examiner, claims):
    shared = add(examiner, claims, visibility="shared").json()
    url = f"/api/v1/annotations/{shared['id']}"
    refused = other_examiner.patch(url, {"text": "overwritten"}, format="json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    assert other_examiner.delete(url).status_code == 403

    changed = examiner.patch(
        url, {"text": "Compare D2 instead", "visibility": "private"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["text"] == "Compare D2 instead"
    assert other_examiner.get(url).status_code == 404  # private now
    assert examiner.delete(url).status_code == 204
    assert texts(examiner, claims) == []


def test_the_public_never_sees_any_note(public, examiner, claims):
    note = add(examiner, claims, visibility="shared").json()
    # The document itself is public: its notes are not.
    assert public.get(f"/api/v1/documents/{claims.id}").status_code == 200
    listed = public.get(notes_url(claims))
    assert listed.status_code == 401
    assert listed["Content-Type"] == PROBLEM
    assert public.get(f"/api/v1/annotations/{note['id']}").status_code == 401
    assert add(public, claims).status_code == 401


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": ""}, "text"),
        ({"page": 0}, "page"),
        ({"page": 10**12}, "page"),
        ({"rect": [0.5, 0.5, 0.2, 0.6]}, "rect"),
        ({"rect": [0, 0, 1.5, 1]}, "rect"),
        ({"rect": [0, 0, 1]}, "rect"),
        ({"colour": "red"}, "colour"),
        ({"visibility": "public"}, "visibility"),
    ],
)
def test_bad_notes_are_problems(examiner, claims, fields, field):
    response = add(examiner, claims, **fields)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"].split(".")[0] == field  # `rect.2`: its third number


def test_a_page_beyond_the_version_is_refused_once_its_pages_are_known(examiner, claims):
    Version.objects.filter(document=claims).update(page_count=2)
    assert add(examiner, claims, page=2).status_code == 201
    assert add(examiner, claims, page=3).json()["field"] == "page"


def test_a_highlight_may_have_no_text(examiner, claims):
    response = add(examiner, claims, kind="highlight", text="", rect=[0.1, 0.2, 0.6, 0.25])
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "highlight"


def test_notes_never_change_the_file_and_every_change_is_audited(examiner, claims):
    version = Version.objects.select_related("blob").get(document=claims, number=1)
    before = examiner.get(f"/api/v1/documents/{claims.id}/versions/1/content").getvalue()
    note = add(examiner, claims).json()
    examiner.patch(f"/api/v1/annotations/{note['id']}", {"text": "changed"}, format="json")
    examiner.delete(f"/api/v1/annotations/{note['id']}")
    after = examiner.get(f"/api/v1/documents/{claims.id}/versions/1/content").getvalue()
    assert before == after == CONTENT
    version.refresh_from_db()
    assert version.blob_id == hashlib.sha256(CONTENT).hexdigest()
    audited = AuditEvent.objects.filter(object_type="annotation", object_id=note["id"])
    assert sorted(audited.values_list("action", flat=True)) == [
        "annotation.add",
        "annotation.change",
        "annotation.delete",
    ]
    assert {event.actor_label for event in audited} == {"erika"}
    assert {event.dossier_key for event in audited} == {claims.dossier.key}


def test_an_unknown_version_or_document_is_a_404(examiner, claims):
    assert examiner.get(notes_url(claims, 9)).status_code == 404
    assert (
        examiner.get(
            "/api/v1/documents/00000000-0000-0000-0000-000000000001/versions/1/annotations"
        ).status_code
        == 404
    )


# --- Highlights: the selection's boxes and the text they cover --------------------------------

LINES = [[0.1, 0.2, 0.8, 0.23], [0.1, 0.24, 0.45, 0.27]]


def highlight(client, document, **fields):
    body = {
        "page": 1,
        "kind": "highlight",
        "rects": LINES,
        "quote": "A widget with a handle.",
        "colour": "#7bd389",
        **fields,
    }
    return client.post(notes_url(document), body, format="json")


def test_a_highlight_keeps_its_boxes_its_quote_and_their_bounding_box(examiner, claims):
    created = highlight(examiner, claims, text="novelty: D1 has no handle")
    assert created.status_code == 201, created.content
    made = created.json()
    assert (made["kind"], made["page"], made["colour"]) == ("highlight", 1, "#7bd389")
    assert made["rects"] == LINES
    assert made["rect"] == [0.1, 0.2, 0.8, 0.27]
    assert (made["quote"], made["text"]) == ("A widget with a handle.", "novelty: D1 has no handle")
    listed = examiner.get(notes_url(claims)).json()["results"]
    assert [(n["kind"], n["quote"], n["rects"]) for n in listed] == [
        ("highlight", "A widget with a handle.", LINES)
    ]
    # A note has neither.
    note = add(examiner, claims).json()
    assert (note["rects"], note["quote"]) == ([], "")


def test_a_highlight_given_one_area_covers_that_area(examiner, claims):
    made = add(examiner, claims, kind="highlight", text="", rect=[0.1, 0.2, 0.6, 0.25]).json()
    assert made["rects"] == [[0.1, 0.2, 0.6, 0.25]]


def test_a_private_highlight_is_its_authors_and_a_shared_one_the_divisions(
    examiner, other_examiner, public, claims
):
    mine = highlight(examiner, claims).json()
    shared = highlight(examiner, claims, visibility="shared", quote="painted blue").json()
    seen = other_examiner.get(notes_url(claims)).json()["results"]
    assert [(n["id"], n["quote"], n["own"]) for n in seen] == [
        (shared["id"], "painted blue", False)
    ]
    assert other_examiner.get(f"/api/v1/annotations/{mine['id']}").status_code == 404
    assert public.get(notes_url(claims)).status_code == 401


def test_its_author_changes_a_highlights_comment_colour_and_sharing_and_no_one_else(
    examiner, other_examiner, claims
):
    made = highlight(examiner, claims, visibility="shared").json()
    url = f"/api/v1/annotations/{made['id']}"
    refused = other_examiner.patch(url, {"colour": "#ffd400"}, format="json")
    assert (refused.status_code, refused["Content-Type"]) == (403, PROBLEM)
    assert other_examiner.delete(url).status_code == 403

    changed = examiner.patch(
        url, {"text": "see D2", "colour": "#FF9EC7", "visibility": "private"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["text"], body["colour"], body["visibility"]) == ("see D2", "#ff9ec7", "private")
    assert (body["rects"], body["quote"]) == (LINES, "A widget with a handle.")
    assert other_examiner.get(url).status_code == 404
    assert examiner.delete(url).status_code == 204
    assert examiner.get(url).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rects": []}, "rects"),
        ({"rects": [[0.1, 0.2, 0.3, 0.4]] * 201}, "rects"),
        ({"rects": [[0.1, 0.2, 0.3]]}, "rects"),
        ({"rects": [[0.1, 0.2, 0.3, 1.2]]}, "rects"),
        ({"rects": [[-0.1, 0.2, 0.3, 0.4]]}, "rects"),
        ({"rects": [[0.1, 0.2, "x", 0.4]]}, "rects"),
        ({"rects": [[0.1, 0.2, True, 0.4]]}, "rects"),
        ({"rects": [[0.5, 0.2, 0.3, 0.4]]}, "rects"),
        ({"rects": [0.1, 0.2, 0.3, 0.4]}, "rects"),
        ({"rects": "everything"}, "rects"),
        ({"colour": "#123456"}, "colour"),
        ({"quote": "x" * 20001}, "quote"),
    ],
)
def test_bad_highlights_are_problems(examiner, claims, fields, field):
    response = highlight(examiner, claims, **fields)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"].split(".")[0] == field


def test_a_note_covers_no_text(examiner, claims):
    response = add(examiner, claims, rects=LINES, quote="A widget")
    assert response.status_code == 400
    assert response.json()["field"] == "rects"


def test_a_highlight_never_changes_the_file(examiner, claims):
    made = highlight(examiner, claims).json()
    examiner.patch(f"/api/v1/annotations/{made['id']}", {"text": "comment"}, format="json")
    content = examiner.get(f"/api/v1/documents/{claims.id}/versions/1/content").getvalue()
    assert hashlib.sha256(content).hexdigest() == hashlib.sha256(CONTENT).hexdigest()
    assert Version.objects.get(document=claims).blob_id == hashlib.sha256(CONTENT).hexdigest()


# --- The dossier export: annotations.json only when asked ----------------------------------


def export(client, **params) -> zipfile.ZipFile:
    response = client.get(f"/api/v1/dossiers/{KEY}/export", params)
    assert response.status_code == 200, response.content
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_adds_the_notes_only_when_asked(examiner, other_examiner, claims):
    add(examiner, claims, text="private to erika")
    add(other_examiner, claims, text="shared by otto", visibility="shared")
    add(other_examiner, claims, text="private to otto")

    plain = export(examiner)
    assert "annotations.json" not in plain.namelist()
    assert json.loads(plain.read("manifest.json"))["selection"]["annotations"] is False

    with_notes = export(examiner, annotations="1")
    assert with_notes.namelist()[:2] == ["manifest.json", "annotations.json"]
    body = json.loads(with_notes.read("annotations.json"))
    assert body["format"] == "edms-annotations"
    assert body["dossier"] == KEY
    assert sorted(n["text"] for n in body["annotations"]) == ["private to erika", "shared by otto"]
    first = body["annotations"][0]
    assert (first["document"], first["version"], first["page"]) == (str(claims.id), 1, 1)
    # The files are exported as they are: the notes never touch them.
    exported = [name for name in with_notes.namelist() if name.startswith("BG-P-2024-000321/")]
    assert [with_notes.read(name) for name in exported] == [CONTENT]


def test_the_export_carries_highlights_with_the_notes_only_when_asked(examiner, claims):
    highlight(examiner, claims, text="novelty")
    assert "annotations.json" not in export(examiner).namelist()
    body = json.loads(export(examiner, annotations="1").read("annotations.json"))
    [exported] = body["annotations"]
    assert (exported["kind"], exported["quote"], exported["text"]) == (
        "highlight",
        "A widget with a handle.",
        "novelty",
    )
    assert exported["rects"] == LINES


def test_the_public_export_never_carries_notes(public, examiner, claims):
    add(examiner, claims, text="shared", visibility="shared")
    archive = export(public, annotations="true")
    assert json.loads(archive.read("annotations.json"))["annotations"] == []
