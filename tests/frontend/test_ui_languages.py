"""Right-to-left pages keep dates and file numbers in order; facet values, rendition names and
counts are in the page's language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from dossier.models import RenditionKind
from dossier.roles import Role
from ingest.renditions import save_rendition
from search import indexer
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.redaction_support import text_pdf
from tests.search_support import give_text

pytestmark = pytest.mark.django_db


def examiner_in(language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(UserFactory(role=Role.EXAMINER))
    return client


@pytest.fixture
def claims():
    dossier = create_dossier(
        "BG/P/2024/004242", title="ساعة ميكانيكية", filing_date=dt.date(2024, 1, 9)
    )
    return file_document(
        dossier,
        text_pdf("A clock escapement"),
        filename="claims.pdf",
        title="Claims as filed",
        official_date=dt.date(2024, 3, 1),
        direction="in",
    )


def test_an_arabic_dossier_page_isolates_its_dates_and_file_number(claims):
    page = examiner_in("ar").get("/dossiers/BG/P/2024/004242").content.decode()

    assert '<html lang="ar" dir="rtl">' in page
    # Each ISO date is a left-to-right island: it cannot trade places with its neighbours.
    assert '<time datetime="2024-01-09" dir="ltr">2024-01-09</time>' in page  # filing date
    assert '<td><time datetime="2024-03-01" dir="ltr">2024-03-01</time></td>' in page  # the row's
    assert "<bdi>BG/P/2024/004242</bdi>" in page
    assert "<bdi>ساعة ميكانيكية</bdi>" in page
    assert 'dir="auto">Claims as filed</a>' in page


def test_an_arabic_viewer_isolates_a_version_date_and_time_and_names_renditions(claims, tmp_path):
    version = claims.versions.get(number=1)
    pdf = tmp_path / "pdfa.pdf"
    pdf.write_bytes(text_pdf("A clock escapement"))
    save_rendition(version, RenditionKind.PDFA, str(pdf), "application/pdf", "pdfa.pdf")

    page = examiner_in("ar").get(f"/documents/{claims.id}").content.decode()

    stamp = re.search(r'<time datetime="[^"]+" dir="ltr">(\d{4}-\d\d-\d\d \d\d:\d\d)</time>', page)
    assert stamp, "the version's date and time are not isolated"
    assert "<bdi>claims.pdf</bdi>" in page
    assert "ملف PDF/A قابل للبحث (التعرف الضوئي)</a>" in page
    assert ">pdfa</a>" not in page


@pytest.mark.parametrize(
    ("language", "one", "two", "eleven"),
    [
        ("ar", "وثيقة واحدة", "وثيقتان", "11 وثيقة"),
        ("fr", "1 document", "2 documents", "11 documents"),
    ],
)
def test_document_counts_take_the_languages_plural_forms(language, one, two, eleven):
    dossier = create_dossier("BG/P/2024/000777")
    client = examiner_in(language)
    counts = []
    for wanted in (1, 2, 11):
        while dossier.documents.count() < wanted:
            file_document(dossier)
        page = client.get("/dossiers/BG/P/2024/000777").content.decode()
        counts.append(re.search(r'<span class="count">([^<]+)</span>', page).group(1))
    assert counts == [one, two, eleven]


def test_search_facets_name_their_values_in_the_pages_language(claims, search_backend):
    give_text(claims, "The escapement locks the train.", languages=["ar"])
    indexer.sync()

    page = examiner_in("fr").get("/search", {"q": "escapement"}).content.decode()

    facets = page[page.index('class="facets"') : page.index('class="hits"')]
    assert ">Brevet</a>" in facets  # ip_type "patent"
    assert ">Entrant</a>" in facets  # direction "in"
    assert ">Arabe</a>" in facets  # language "ar", as Django's French catalogue names it
    assert ">Patent</a>" not in facets and ">Incoming</a>" not in facets
