"""What travels over the wire: gzip for pages and API JSON, never for documents; static files by
hashed names, cached for a year, with Brotli and gzip copies; the favicon."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

from dossier.roles import Role
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SOURCE_STATIC = Path(settings.BASE_DIR) / "frontend" / "static" / "frontend"
A_YEAR_OR_MORE = 365 * 24 * 3600


def _max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))


def test_an_api_json_list_is_gzipped_for_a_client_that_accepts_it(registry):
    for serial in range(1, 9):
        create_dossier(f"BG/P/2024/{serial:06d}", title=f"Escapement for a clock, model {serial}")

    response = registry.get("/api/v1/dossiers", HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = json.loads(gzip.decompress(response.content))
    assert body["count"] == 8
    assert len(response.content) < len(gzip.decompress(response.content)) / 2


def test_an_api_answer_stays_plain_for_a_client_that_does_not_accept_gzip(registry):
    create_dossier("BG/P/2024/000001")

    response = registry.get("/api/v1/dossiers")

    assert "Content-Encoding" not in response
    assert json.loads(response.content)["count"] == 1


def test_a_page_is_gzipped_and_its_csrf_token_differs_in_every_answer(db):
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))

    pages = [client.get("/", HTTP_ACCEPT_ENCODING="gzip") for _ in range(2)]

    assert all(page["Content-Encoding"] == "gzip" for page in pages)
    html = [gzip.decompress(page.content).decode() for page in pages]
    assert "<html" in html[0]
    # Django masks the token afresh in each answer: nothing constant to guess through BREACH.
    tokens = [re.search(r'name="csrf-token" content="([^"]+)"', page).group(1) for page in html]
    assert tokens[0] != tokens[1]


def test_a_document_download_and_a_byte_range_are_never_compressed(registry, dossier):
    # JSON and HTML-looking content, compressible if anything is: sent as stored all the same.
    content = json.dumps({"claims": ["A clock escapement comprising a pallet."] * 200}).encode()
    document = file_document(dossier, content, filename="claims.json")
    url = f"/api/v1/documents/{document.id}/versions/1/content"

    whole = registry.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    part = registry.get(url, HTTP_ACCEPT_ENCODING="gzip, br", HTTP_RANGE="bytes=0-99")

    assert whole.status_code == 200
    assert "Content-Encoding" not in whole
    assert b"".join(whole.streaming_content) == content
    assert part.status_code == 206
    assert "Content-Encoding" not in part
    assert b"".join(part.streaming_content) == content[:100]


@pytest.fixture
def static_root(settings, tmp_path):
    """The UI's own static files collected by the real storage (hashes, `.gz` and `.br`); the
    vendored packages are left out, which only makes it quicker."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command(
        "collectstatic",
        interactive=False,
        verbosity=0,
        ignore_patterns=["vendor", "admin", "rest_framework", "drf_spectacular_sidecar"],
    )
    return settings.STATIC_ROOT


def test_static_files_have_hashed_names_cached_for_a_year_and_come_in_brotli(static_root):
    url = static("frontend/app.css")
    assert re.fullmatch(r"/static/frontend/app\.[0-9a-f]{12}\.css", url)

    brotli_answer = Client().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    gzip_answer = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    unhashed = Client().get("/static/frontend/app.css")

    source = (SOURCE_STATIC / "app.css").read_bytes()
    assert brotli_answer.status_code == 200
    assert brotli_answer["Content-Encoding"] == "br"
    assert brotli.decompress(b"".join(brotli_answer.streaming_content)) == source
    assert "immutable" in brotli_answer["Cache-Control"]
    assert _max_age(brotli_answer) >= A_YEAR_OR_MORE
    assert gzip_answer["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(gzip_answer.streaming_content)) == source
    # A name without its hash may change content at any time: cached for a minute only.
    assert unhashed.status_code == 200
    assert _max_age(unhashed) <= 60


def test_the_favicon_is_linked_from_every_page_and_served(static_root):
    page = Client().get("/login").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    assert re.fullmatch(r"/static/frontend/favicon\.[0-9a-f]{12}\.svg", icon)

    served = Client().get(icon)
    legacy = Client().get("/favicon.ico")

    assert served.status_code == 200
    assert served["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(served.streaming_content)
    assert _max_age(served) >= A_YEAR_OR_MORE
    assert legacy.status_code == 302
    assert legacy["Location"] == icon
