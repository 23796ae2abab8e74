"""`POST /api/v1/marks/similar`: mark images filed as documents are processed by the real
pipeline (its first-page image), described by the duplicate check's task, and found again from
a changed copy, among the dossiers the caller may see, with filters; bad queries are problems."""

from __future__ import annotations

import io
import random
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from dossier.actions import upsert_dossier
from dossier.actions.errors import InvalidChange
from dossier.audit import Actor
from dossier.models import AuditEvent, DocumentType, Dossier, Event, EventKind
from dossier.roles import Role
from similarity.duplicate_models import MarkImage
from tests.bench.marks import logo, variant
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/marks/similar"


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def logos():
    chooser = random.Random(11)
    return [logo(chooser) for _ in range(4)]


@pytest.fixture
def register(logos, settle):
    """Four marks: a trademark, a secret trademark, a design, a refused trademark."""
    dossiers = [
        create_dossier("BG/T/2024/000001", ip_type="trademark", status="registered"),
        create_dossier("BG/T/2024/000002", ip_type="trademark", secret=True),
        create_dossier("BG/D/2024/000003", ip_type="design", status="registered"),
        create_dossier("BG/T/2024/000004", ip_type="trademark", status="refused"),
    ]
    documents = [
        file_document(
            dossier,
            png(image),
            type_code="DREP" if dossier.ip_type == "design" else "MARK",
            filename="mark.png",
        )
        for dossier, image in zip(dossiers, logos, strict=True)
    ]
    settle()
    assert DocumentType.objects.filter(code__in=["MARK", "DREP"]).count() == 2
    assert MarkImage.objects.count() == 4
    return documents


def ask(client, image: Image.Image, **fields):
    upload = io.BytesIO(png(image))
    upload.name = "query.png"
    return client.post(URL, {"image": upload, **fields}, format="multipart")


def test_a_changed_copy_finds_its_mark_first(examiner, logos, register):
    chooser = random.Random(3)
    for kind in ("rotated", "recoloured", "words added"):
        response = ask(examiner, variant(logos[0], kind, chooser))
        assert response.status_code == 200, response.content
        results = response.json()["results"]
        assert results[0]["document"] == str(register[0].id), kind
        assert results[0]["dossier"] == "BG/T/2024/000001"
        assert results[0]["ip_type"] == "trademark"
        assert results[0]["score"] > results[-1]["score"]
        assert results[0]["image_url"].endswith("/versions/1/renditions/thumbnail")


def test_a_mark_the_caller_may_not_see_is_never_answered(examiner, admin_client, logos, register):
    seen = [r["document"] for r in ask(examiner, logos[1]).json()["results"]]
    assert str(register[1].id) not in seen and len(seen) == 3
    assert ask(admin_client, logos[1]).json()["results"][0]["document"] == str(register[1].id)


def test_filters_by_ip_type_and_status(examiner, logos, register):
    trademarks = ask(examiner, logos[2], ip_type="trademark").json()["results"]
    assert {r["ip_type"] for r in trademarks} == {"trademark"}
    refused = ask(examiner, logos[0], status="refused").json()["results"]
    assert [r["document"] for r in refused] == [str(register[3].id)]


def test_bad_queries_are_problems(examiner, register, settings):
    not_an_image = io.BytesIO(b"%PDF-1.4 not an image at all")
    not_an_image.name = "query.png"
    response = examiner.post(URL, {"image": not_an_image}, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/bad-image")
    blank = ask(examiner, Image.new("RGB", (100, 100), "white"))
    assert blank.status_code == 400 and "blank" in blank.json()["detail"]
    settings.EDMS_MARK_QUERY_MAX_BYTES = 2000
    big = ask(examiner, Image.effect_noise((200, 200), 80))
    assert big.status_code == 413 and big.json()["limit"] == 2000
    assert examiner.post(URL, {}, format="multipart").status_code == 400


def test_the_page_shows_the_matches_beside_the_query(logos, register):
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))
    assert 'id="mark-query"' in client.get("/marks/similar").content.decode()
    upload = io.BytesIO(png(variant(logos[2], "cropped", random.Random(5))))
    upload.name = "query.png"
    page = client.post("/marks/similar", {"image": upload}).content.decode()
    assert 'src="data:image/png;base64,' in page  # the query, beside the matches
    matches = re.findall(r'<li data-document="([0-9a-f-]+)">', page)
    assert matches[0] == str(register[2].id)
    assert str(register[1].id) not in matches  # the secret dossier's mark
    assert f"/api/v1/documents/{register[2].id}/versions/1/renditions/thumbnail" in page
    upload = io.BytesIO(b"not an image")
    upload.name = "query.png"
    refused = client.post("/marks/similar", {"image": upload})
    assert refused.status_code == 400
    assert "This file is not an image that can be compared." in refused.content.decode()
    assert Client().get("/marks/similar").status_code == 302


def bomb_png(side: int = 30_000) -> bytes:
    """A decompression bomb: a PNG header saying `side` x `side` pixels over a few hundred kB of
    zlib-compressed zeros (1 bit per pixel, so it is quick to make)."""
    row = b"\x00" * (1 + side // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def test_a_bomb_a_truncated_jpeg_and_a_non_image_are_refused_by_the_sandbox(examiner, register):
    """Each is decoded (or refused) in the sandbox: a 400 problem, never a 500."""
    jpeg = Path("/work/shared/corpus/image/643dbb91_testJPEG.jpg")
    cases = {
        "bomb.png": (bomb_png(), "too many pixels"),
        "cut.jpg": (jpeg.read_bytes()[: jpeg.stat().st_size // 2], "not an image edms can read"),
        "notes.png": (b"just some words, not an image\n" * 50, "not an image edms can read"),
    }
    for name, (data, said) in cases.items():
        upload = io.BytesIO(data)
        upload.name = name
        response = examiner.post(URL, {"image": upload}, format="multipart")
        assert response.status_code == 400, (name, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].endswith("/bad-image")
        assert said in response.json()["detail"], name
    whole = io.BytesIO(jpeg.read_bytes())
    whole.name = "whole.jpg"
    assert examiner.post(URL, {"image": whole}, format="multipart").status_code == 200


def test_the_page_says_when_no_mark_may_be_compared(logos):
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))
    for fields, said in (
        ({}, "No mark you may see is stored yet."),
        ({"ip_type": "design"}, "No mark of this IP type that you may see is stored yet."),
    ):
        upload = io.BytesIO(png(logos[0]))
        upload.name = "query.png"
        page = client.post("/marks/similar", {"image": upload, **fields}).content.decode()
        assert 'id="mark-query-image"' in page and said in page


def test_the_registry_sets_vienna_codes_through_the_audited_dossier_update(registry):
    url = "/api/v1/dossiers/BG/T/2024/000009"
    created = registry.put(url, {"ip_type": "trademark"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["vienna_codes"] == []
    body = {"vienna_codes": ["27.05.01", "26.01.03", "26.01.03"]}
    response = registry.put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["vienna_codes"] == ["26.01.03", "27.05.01"]  # sorted, once each
    dossier = Dossier.objects.get(id=response.json()["id"])
    update = AuditEvent.objects.filter(action="dossier.update", object_id=str(dossier.id)).get()
    assert update.detail == {"fields": ["vienna_codes"]}
    event = Event.objects.filter(kind=EventKind.DOSSIER_UPDATED, dossier_key=dossier.key).get()
    assert event.payload["fields"] == ["vienna_codes"]
    assert registry.put(url, body, format="json").status_code == 200  # the same data again
    assert AuditEvent.objects.filter(action="dossier.update").count() == 1
    for bad in (["26.1.3"], ["2601.03"], ["26.01"], [""], ["26.01.03.01"], [3], "26.01.03"):
        refused = registry.put(url, {"vienna_codes": bad}, format="json")
        assert refused.status_code == 400, bad
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["field"].startswith("vienna_codes"), refused.json()
    assert Dossier.objects.get(pk=dossier.pk).vienna_codes == ["26.01.03", "27.05.01"]
    with pytest.raises(InvalidChange):  # the action checks them too, whoever calls it
        upsert_dossier(dossier.key, {"vienna_codes": ["A 26.01.03"]}, actor=Actor(label="t"))


@pytest.fixture
def classified(register):
    """The registry's Vienna codes on three of the four marks' dossiers (the secret one too)."""
    codes = {
        "BG/T/2024/000001": ["26.01.03", "27.05.01"],
        "BG/T/2024/000002": ["26.01.03"],
        "BG/D/2024/000003": ["26.04.01"],
    }
    for key, vienna_codes in codes.items():
        ip_type = "design" if "/D/" in key else "trademark"
        create_dossier(key, ip_type=ip_type, vienna_codes=vienna_codes)
    return register


def test_filters_by_vienna_code_or_prefix_and_shows_the_codes(examiner, logos, classified):
    full = ask(examiner, logos[0], vienna="26.01.03").json()["results"]
    assert [r["document"] for r in full] == [str(classified[0].id)]  # not the secret one
    assert full[0]["vienna_codes"] == ["26.01.03", "27.05.01"]
    category = ask(examiner, logos[0], vienna="26").json()["results"]
    assert {r["document"] for r in category} == {str(classified[0].id), str(classified[2].id)}
    division = ask(examiner, logos[0], vienna="26.04").json()["results"]
    assert [r["document"] for r in division] == [str(classified[2].id)]
    either = ask(examiner, logos[0], vienna=["27.05", "26.04.01"]).json()["results"]
    assert len(either) == 2
    # "26.0" is no prefix of "26.01.03": a division is two digits.
    assert ask(examiner, logos[0], vienna="26.05").json()["results"] == []
    combined = ask(examiner, logos[0], vienna="26", ip_type="design").json()["results"]
    assert [r["document"] for r in combined] == [str(classified[2].id)]
    unclassified = ask(examiner, logos[3]).json()["results"]
    assert {r["vienna_codes"] == [] for r in unclassified} == {True, False}


def test_a_malformed_vienna_filter_is_a_problem(examiner, logos, classified):
    for bad in ("26.0", "2", "26.01.03.01", "26-01", "x"):
        response = ask(examiner, logos[0], vienna=bad)
        assert response.status_code == 400, bad
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["field"].startswith("vienna"), response.json()


def test_the_vienna_filter_keeps_permissions(admin_client, examiner, logos, classified):
    secret = str(classified[1].id)
    assert secret not in {
        r["document"] for r in ask(examiner, logos[1], vienna="26").json()["results"]
    }
    answered = ask(admin_client, logos[1], vienna="26.01.03").json()["results"]
    assert answered[0]["document"] == secret


def test_only_readable_marks_come_from_the_best_scored_window(
    admin_client, examiner, logos, register
):
    """With many marks, the permissions of the best-scored few are checked first (not of every
    mark): copies of the secret mark fill that window, and still none is answered."""
    secret_mark = MarkImage.objects.get(document=register[1])
    open_dossier = create_dossier("BG/T/2024/000005", ip_type="trademark", status="registered")
    secret_dossier = register[1].dossier
    for number in range(40):
        dossier = secret_dossier if number % 2 else open_dossier
        copy = file_document(dossier, png(logos[1]), type_code="MARK", filename="copy.png")
        MarkImage.objects.create(
            version=copy.versions.get(), document=copy, vectors=secret_mark.vectors
        )
    open_copies = {
        str(d)
        for d in MarkImage.objects.filter(document__dossier=open_dossier).values_list(
            "document_id", flat=True
        )
    }
    with CaptureQueriesContext(connection) as queries:
        found = ask(examiner, logos[1], limit=2).json()["results"]
    assert len(found) == 2 and {r["document"] for r in found} <= open_copies
    assert all(r["score"] > 0.99 for r in found)
    # The window's check: a few ids, and the documents the caller may read (a subquery).
    windowed = [
        q["sql"]
        for q in queries
        if '"similarity_markimage"."id" IN (' in q["sql"] and "IN (SELECT" in q["sql"]
    ]
    assert windowed, "the window's permission check did not run"
    everyone = ask(admin_client, logos[1], limit=100).json()["results"]
    assert len(everyone) == 44 and str(register[1].id) in {r["document"] for r in everyone}


def test_the_page_filters_by_vienna_codes_and_shows_them(logos, classified):
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))
    assert 'id="mark-vienna"' in client.get("/marks/similar").content.decode()
    upload = io.BytesIO(png(logos[0]))
    upload.name = "query.png"
    page = client.post("/marks/similar", {"image": upload, "vienna": "27.05, 26.04.01"})
    matches = re.findall(r'<li data-document="([0-9a-f-]+)">', page.content.decode())
    assert matches == [str(classified[0].id), str(classified[2].id)]
    assert '<span class="vienna-codes"' in page.content.decode()
    assert "26.01.03, 27.05.01" in page.content.decode()
    upload.seek(0)
    refused = client.post("/marks/similar", {"image": upload, "vienna": "26.1"})
    assert refused.status_code == 400
    assert "Vienna codes are written 26, 26.01 or 26.01.03." in refused.content.decode()


def test_a_selective_filter_checks_its_own_best_marks_and_keeps_permissions(
    examiner, logos, register
):
    """When the best-scored marks do not match the filter, the marks the filter keeps are found
    first (no permission rules), then the best of them are checked: a secret one is still never
    answered."""
    secret_mark = MarkImage.objects.get(document=register[1])
    exact = np.frombuffer(bytes(secret_mark.vectors), dtype=np.float32).reshape(2, -1)
    blurred = exact + np.random.default_rng(2).normal(0, 0.05, exact.shape).astype(np.float32)
    blurred /= np.linalg.norm(blurred, axis=1, keepdims=True)
    open_coded = create_dossier("BG/T/2024/000005", ip_type="trademark", vienna_codes=["26.01.03"])
    secret_coded = create_dossier(
        "BG/T/2024/000006", ip_type="trademark", secret=True, vienna_codes=["26.01.03"]
    )
    placed = [(register[1].dossier, exact)] * 36 + [(secret_coded, exact)] * 2
    placed += [(open_coded, blurred)] * 6
    for dossier, vectors in placed:
        copy = file_document(dossier, png(logos[1]), type_code="MARK", filename="copy.png")
        MarkImage.objects.create(
            version=copy.versions.get(), document=copy, vectors=vectors.tobytes()
        )
    with CaptureQueriesContext(connection) as queries:
        found = ask(examiner, logos[1], vienna="26", limit=1).json()["results"]
    filter_only = [q for q in queries if "LIKE" in q["sql"] and "IN (SELECT" not in q["sql"]]
    assert filter_only, "the filter's own marks were not looked up"
    assert len(found) == 1 and found[0]["dossier"] == "BG/T/2024/000005"
    assert 0.5 < found[0]["score"] < 0.999  # a blurred copy: below the secret exact ones
    assert ask(examiner, logos[1], vienna="26", limit=2).json()["results"][1]["dossier"] == (
        "BG/T/2024/000005"
    )
