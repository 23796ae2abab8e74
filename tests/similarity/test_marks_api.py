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

import pytest
from django.test import Client
from PIL import Image

from dossier.models import DocumentType
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
