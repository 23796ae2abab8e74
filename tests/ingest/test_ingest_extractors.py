"""The extractor interface and its two backends. The Tika server is not contacted here: only the
request edms would send and the reading of its answers are tested (tests/ingest/test_tika_server.py
runs the extractor against a real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from ingest import extractors, tika_metadata
from ingest.extractors import (
    ExtractionFailed,
    Extractor,
    ExtractorUnavailable,
    embedded,
    tika_server,
)
from tests.ingest_support import corpus_file

EMBEDDED = {"BACKEND": "ingest.extractors.embedded.Extractor", "OPTIONS": {}}
SERVER = {
    "BACKEND": "ingest.extractors.tika_server.Extractor",
    "OPTIONS": {"url": "http://tika:9998"},
}


@pytest.mark.parametrize("config", [EMBEDDED, SERVER])
def test_every_backend_implements_the_interface(config):
    extractor = extractors.load(config)
    assert isinstance(extractor, Extractor)
    assert extractor.name


def test_unknown_options_are_rejected():
    with pytest.raises(ImproperlyConfigured, match=r"does not take option.*ocr_language"):
        extractors.load({**EMBEDDED, "OPTIONS": {"ocr_language": "fra"}})


def test_unknown_keys_and_backends_are_rejected():
    with pytest.raises(ImproperlyConfigured, match="unknown key"):
        extractors.load({**EMBEDDED, "OPTION": {}})
    with pytest.raises(ImproperlyConfigured, match="cannot be loaded"):
        extractors.load({"BACKEND": "ingest.extractors.nowhere.Extractor"})


def test_a_bad_extractor_setting_is_a_system_check_error(settings):
    settings.EDMS_EXTRACTOR = {**SERVER, "OPTIONS": {"url": "tika:9998"}}
    errors = [e for e in run_checks() if e.id == "ingest.E001"]
    assert len(errors) == 1 and "http(s) url" in errors[0].msg


def test_the_server_backend_is_chosen_when_tika_server_url_is_set():
    # Settings are read once at start-up: ask a fresh interpreter.
    probe = "from django.conf import settings; print(settings.EDMS_EXTRACTOR['BACKEND'])"
    env = {
        "TIKA_SERVER_URL": "http://tika.internal:9998",
        "DJANGO_SETTINGS_MODULE": "edms.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "ingest.extractors.tika_server.Extractor"


# --- Embedded Tika ----------------------------------------------------------------------------


def test_embedded_extracts_text_and_metadata():
    found = embedded.Extractor().extract(
        str(corpus_file("67797f56_testWORD.docx").path), max_chars=10_000
    )
    assert "Sample Word Document" in found.text
    assert found.media_type.endswith("wordprocessingml.document")
    assert tika_metadata.summary(found.metadata)["author"] == "Keith Bennett"
    assert not found.truncated


def test_embedded_caps_the_text_and_says_so():
    found = embedded.Extractor().extract(
        str(corpus_file("67797f56_testWORD.docx").path), max_chars=100
    )
    assert len(found.text) <= 100 and found.truncated


def test_embedded_refuses_encrypted_office_files():
    with pytest.raises(ExtractionFailed) as failure:
        embedded.Extractor().extract(
            str(corpus_file("93bc474d_testODTEncrypted.odt").path), max_chars=10_000
        )
    assert failure.value.code == "encrypted-document"


def test_embedded_reports_parse_errors_readably():
    with pytest.raises(ExtractionFailed) as failure:
        embedded.Extractor().extract(
            str(corpus_file("8bb91125_testWORD_truncated.docx").path), max_chars=10_000
        )
    assert failure.value.code == "unreadable-file"
    assert failure.value.detail == "Couldn't find core part."


# --- Tika server ------------------------------------------------------------------------------


def test_server_request_names_the_endpoint_and_caps_the_text():
    extractor = tika_server.Extractor(url="http://tika.internal:9998/", timeout=30)
    call = extractor.request("/tmp/claims.pdf", max_chars=5000)

    assert call.endpoint == "http://tika.internal:9998"
    assert call.service == "/tika/xml"  # JSON: the XHTML (with its pages) and the metadata
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Content-Disposition"] == "attachment; filename*=UTF-8''claims.pdf"
    assert call.headers["writeLimit"] == "5000"
    assert call.headers["X-Tika-OCRskipOcr"] == "true"
    assert call.request_options == {"timeout": 30, "verify": True}


def test_server_request_carries_configured_headers():
    extractor = tika_server.Extractor(
        url="https://tika:9998", headers={"Authorization": "Bearer x"}
    )
    assert extractor.request("/tmp/a.pdf", max_chars=10).headers["Authorization"] == "Bearer x"


@pytest.mark.parametrize("url", ["", "tika:9998", "ftp://tika/", "http://"])
def test_server_needs_an_http_url(url):
    with pytest.raises(ImproperlyConfigured, match="http"):
        tika_server.Extractor(url=url)


def test_the_tika_client_never_starts_or_downloads_a_server():
    client = tika_server.client_only()
    import tika.tika

    assert tika.tika.TikaClientOnly is True
    assert client.callServer is not None


def test_server_answers_are_read_like_embedded_ones():
    found = tika_server.interpret(
        {
            "status": 200,
            "content": "\nA widget with a handle.\n",
            "metadata": {"Content-Type": "application/pdf", "dc:creator": ["Ada", "Grace"]},
        },
        max_chars=1000,
    )
    assert found.text.strip() == "A widget with a handle."
    assert found.media_type == "application/pdf"
    assert tika_metadata.summary(found.metadata)["author"] == "Ada; Grace"


def test_server_answers_are_parsed_from_json_and_keep_the_pages():
    xhtml = (
        "<html><head><title>Title, not text</title></head><body>"
        '<div class="page"><p>Claims</p></div>'
        '<div class="page"><p>1. A widget &amp; a handle.</p></div></body></html>'
    )
    answer = json.dumps({"Content-Type": "application/pdf", "X-TIKA:content": xhtml})
    parsed = tika_server.parse_answer(200, answer.encode())
    assert parsed == {
        "status": 200,
        "content": "Claims\f1. A widget & a handle.",
        "metadata": {"Content-Type": "application/pdf"},
    }


def test_a_servers_parse_error_is_read_from_its_stack_trace():
    encrypted = "org.apache.tika.exception.EncryptedDocumentException: Unable to process\n\tat …"
    damaged = (
        "org.apache.tika.exception.TikaException: Unexpected RuntimeException from "
        "org.apache.tika.parser.microsoft.ooxml.OOXMLParser@1a2b3c\n\tat …\n"
        "Caused by: java.lang.RuntimeException: Couldn't find core part."
    )
    with pytest.raises(ExtractionFailed, match=r"^encrypted-document: "):
        tika_server.interpret(tika_server.parse_answer(422, encrypted.encode()), max_chars=10)
    with pytest.raises(ExtractionFailed, match=r"^unreadable-file: Unexpected Runtime"):
        tika_server.interpret(tika_server.parse_answer(422, damaged.encode()), max_chars=10)
    # With `returnStackTrace` the server answers 200 and puts the trace in the metadata.
    answer = {"X-TIKA:EXCEPTION:container_exception": damaged, "X-TIKA:content": ""}
    with pytest.raises(ExtractionFailed, match=r"^unreadable-file: Unexpected Runtime"):
        tika_server.interpret(
            tika_server.parse_answer(200, json.dumps(answer).encode()), max_chars=10
        )
    # A server that does not send its stack traces: the reason says what is known.
    with pytest.raises(ExtractionFailed, match=r"refused the file \(HTTP 422\)"):
        tika_server.interpret(tika_server.parse_answer(422, b""), max_chars=10)


def test_server_failures_are_permanent_or_transient():
    with pytest.raises(ExtractionFailed, match="encrypted"):
        tika_server.interpret(
            {"status": 422, "error": "EncryptedDocumentException: password"}, max_chars=10
        )
    with pytest.raises(ExtractionFailed, match="HTTP 415"):
        tika_server.interpret({"status": 415}, max_chars=10)
    with pytest.raises(ExtractorUnavailable):
        tika_server.interpret({"status": 503}, max_chars=10)
