"""Charset and markup: text and HTML decoded by their real charset, XML recognised by its
content, patent XML (ST.36, ST.96, ST.32) read into its fields, and no entity ever fetched."""

from __future__ import annotations

import http.server
import threading

import pytest

from dossier import blobstore
from ingest import markup
from ingest.identify import sniff_markup
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from tests.ingest_support import corpus_file, file_version

ST96 = corpus_file("bb3de881_PatentPublication_Example.xml")
JP_GAZETTE = corpus_file("fb23bfca_2021193879.xml")  # ST.36 (JP), no `<?xml` declaration
US_GRANT = corpus_file("278d1f88_US06859910.xml")  # ST.36 (US grant, v4.0)
US_ST32 = corpus_file("9285a394_US06337117.xml")  # declares external entities in its DOCTYPE
GREENBOOK = corpus_file("d7b40ffa_US03937375.greenbook")  # USPTO APS full text, 1976

ARABIC = (
    "يتعلق الاختراع بجهاز لتنقية المياه باستخدام الطاقة الشمسية، "
    "ويتضمن الطلب ثلاث مطالبات مستقلة قدمها المودع إلى المكتب الوطني."
)
FRENCH = (
    "Le déposant a présenté une requête en délivrance d'un brevet européen \N{EN DASH} "
    "l'élève étudie à l'école où l'on parle français, même très tôt le matin. "
    "Prière de répondre « oui » ou « non »."
)
EP_WITHOUT_DECLARATION = """<ep-patent-document id="EP1000000B1" lang="en" country="EP">
<SDOBI lang="en"><B500><B540><B541>de</B541><B542>Filtervorrichtung</B542>
<B541>en</B541><B542>Filter device</B542></B540></B500></SDOBI>
<abstract lang="en"><p>A filter device with a <b>ceramic</b> membrane.</p></abstract>
<description lang="en"><heading>Field</heading><p>The invention relates to filters.</p>
<p>It works at high temperature.</p></description>
<claims id="claims01" lang="en"><claim num="0001"><claim-text>A filter device comprising a
ceramic membrane.</claim-text></claim><claim num="0002"><claim-text>The device of claim 1,
wherein the membrane is porous.</claim-text></claim></claims>
<claims id="claims02" lang="de"><claim num="0001"><claim-text>Filtervorrichtung mit einer
keramischen Membran.</claim-text></claim></claims>
</ep-patent-document>
"""
US_PRE_GRANT_WITHOUT_DECLARATION = """<us-patent-application lang="EN" country="US">
<us-bibliographic-data-application lang="EN" country="US">
<publication-reference><document-id><country>US</country><doc-number>20250000001</doc-number>
<kind>A1</kind></document-id></publication-reference>
<invention-title id="d2e43">Hinge</invention-title></us-bibliographic-data-application>
<abstract id="abstract"><p id="p-0001" num="0000">A hinge with a pin.</p></abstract>
<description id="description"><p id="p-0002" num="0001">Hinges are old.</p></description>
<claims id="claims"><claim id="CLM-00001" num="00001"><claim-text>1. A hinge comprising a pin.
</claim-text></claim></claims>
</us-patent-application>
"""


def processed(dossier, content: bytes, filename: str) -> Processing:
    version = file_version(dossier, content, filename)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def step(processing: Processing, name: str) -> dict | None:
    return next((s for s in processing.steps if s["name"] == name), None)


# --- Charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "declared"),
    [
        ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', "iso-8859-1"),
        ("", ""),
    ],
    ids=["wrong-declaration", "no-declaration"],
)
def test_arabic_html_with_a_wrong_or_no_charset_comes_out_in_arabic(dossier, declaration, declared):
    page = (
        f"<html><head>{declaration}<title>براءة اختراع</title></head>"
        f"<body><p>{ARABIC}</p></body></html>"
    )
    processing = processed(dossier, page.encode("windows-1256"), "brevet.html")

    assert processing.state == State.DONE
    assert ARABIC in text_of(processing)
    assert processing.media_type == "text/html"
    assert processing.metadata["charset"] == "cp1256"
    assert processing.metadata["declared_charset"] == declared
    assert "decoded as cp1256" in step(processing, "decode")["detail"]
    assert processing.languages == ["ar"]


def test_a_latin1_declaration_over_windows_1252_bytes_keeps_the_dash(dossier):
    # Browsers read an ISO-8859-1 declaration as Windows-1252; the embedded Tika does not.
    page = f'<html><head><meta charset="iso-8859-1"></head><p>{FRENCH}</p></html>'
    processing = processed(dossier, page.encode("cp1252"), "lettre.html")
    ascii_page = page.replace(FRENCH, "Fee paid on time.").encode("ascii")
    untouched = processed(dossier, ascii_page, "receipt.html")

    assert FRENCH in " ".join(text_of(processing).split())
    assert processing.metadata["charset"] == "cp1252"
    assert step(untouched, "decode") is None  # the same text either way: left as it is


@pytest.mark.parametrize("filename", ["lettre.txt", "lettre"])
def test_windows_1252_text_without_a_declaration_comes_out_whole(dossier, filename):
    # Named or not: the embedded Tika alone reads the first as ISO-8859-1 (the dash becomes
    # U+FFFD) and the second as binary (no text at all).
    processing = processed(dossier, FRENCH.encode("cp1252"), filename)

    assert processing.state == State.DONE
    assert text_of(processing).strip() == FRENCH
    assert processing.media_type == "text/plain"
    assert processing.metadata["charset"] == "cp1252"


def test_utf8_text_and_html_are_left_as_they_are(dossier):
    text = processed(dossier, FRENCH.encode("utf-8"), "lettre.txt")
    page = processed(
        dossier, f'<html><head><meta charset="utf-8"></head><p>{ARABIC}</p>'.encode(), "a.html"
    )

    for processing in (text, page):
        assert processing.state == State.DONE
        assert step(processing, "decode") is None  # nothing to do: no step recorded
    assert text_of(text).strip() == FRENCH
    assert ARABIC in text_of(page)


@pytest.mark.parametrize(
    "name", ["4e8755a5_testTXT.txt", "ac9e9919_testIgnoreCharset.txt", "54b6e00d_testHTML_metadata"]
)
def test_the_corpus_text_and_html_in_their_declared_charset_are_read_as_before(dossier, name):
    corpus = corpus_file(name)
    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE and processing.text_id
    assert step(processing, "decode") is None
    assert "charset" not in processing.metadata


# --- XML by content -------------------------------------------------------------------------


def test_xml_is_recognised_by_its_content():
    assert sniff_markup(JP_GAZETTE.path.read_bytes()[:8192]) == "application/xml"
    assert sniff_markup(US_ST32.path.read_bytes()[:8192]) == "application/xml"
    assert sniff_markup(EP_WITHOUT_DECLARATION.encode()) == "application/xml"
    assert sniff_markup(b"<!DOCTYPE html>\n<p>hello") == "text/html"
    assert sniff_markup(b"<reply to this letter> please, by Monday\n") is None
    assert sniff_markup(FRENCH.encode()) is None


def test_a_jp_gazette_without_declaration_or_name_is_read_as_patent_xml(dossier):
    processing = processed(dossier, JP_GAZETTE.path.read_bytes(), "2021193879")
    text = text_of(processing)

    assert processing.state == State.DONE
    assert processing.media_type == "application/xml"
    assert "<" not in text and "kind-of-jp" not in text
    patent = processing.metadata["patent"]
    assert patent["shape"] == "st36"
    assert patent["title"].startswith("練り製品管理装置")
    assert text.startswith(patent["title"])
    assert processing.metadata["title"] == patent["title"]
    assert patent["abstract"].startswith("【課題】練り製品の温度制御工程")
    assert len(patent["claims"]) == 15
    assert patent["description_chars"] > 5000
    assert processing.languages == ["ja"]


NOTES = b"<notes><note to='examiner'>Priority claim checked</note><note>Fee paid</note></notes>"
ARTICLE = (  # a journal article (JATS) cited as prior art: an abstract, but no patent
    b"<article><front><article-meta><title-group><article-title>Priority claim checked"
    b"</article-title></title-group><abstract><p>Short.</p></abstract></article-meta></front>"
    b"<body><p>Fee paid</p></body></article>"
)


@pytest.mark.parametrize("content", [NOTES, ARTICLE], ids=["notes", "journal-article"])
def test_other_xml_without_declaration_is_extracted_without_tags(dossier, content):
    processing = processed(dossier, content, "notes.txt")
    text = text_of(processing)

    assert processing.state == State.DONE
    assert processing.media_type == "application/xml"
    assert "patent" not in processing.metadata
    assert "Priority claim checked" in text and "Fee paid" in text
    assert "<" not in text and "examiner" not in text


# --- Patent fields --------------------------------------------------------------------------


def test_st96_gives_title_abstract_claims_and_description(dossier):
    processing = processed(dossier, ST96.path.read_bytes(), ST96.name)
    patent = processing.metadata["patent"]
    text = text_of(processing)

    assert processing.state == State.DONE
    assert patent["shape"] == "st96"
    assert patent["title"] == "Manufcaturing method for room-temperature substrate bonding"
    assert patent["abstract"].startswith("A device is provided with: a first substrate")
    assert len(patent["claims"]) == 10
    assert patent["claims"][0].startswith("1. A device manufacture method, comprising:")
    assert patent["description_chars"] > 10000
    # Reading order: title, abstract, claims, description; no bibliographic numbers first.
    positions = [text.index(part[:60]) for part in (patent["title"], patent["abstract"])]
    positions.append(text.index(patent["claims"][0][:60]))
    assert positions == sorted(positions) and positions[0] == 0
    assert "<" not in text and "08936998" not in text


def test_a_green_book_full_text_gives_title_abstract_claims_and_description(dossier):
    processing = processed(dossier, GREENBOOK.path.read_bytes(), GREENBOOK.name)
    patent = processing.metadata["patent"]
    text = text_of(processing)

    assert processing.state == State.DONE
    assert patent["shape"] == "greenbook"
    assert patent["title"] == processing.metadata["title"] == "Bumper support for a boat loader"
    assert patent["abstract"].startswith("A unit mountable on a rear bumper of a vehicle")
    assert len(patent["claims"]) == patent["claim_count"] == 3
    assert patent["claims"][0].startswith("1. In a bumper support for a boat loader")
    assert patent["claims"][2].endswith("to protect said car bumper from being scratched thereby.")
    assert patent["description_chars"] > 3000
    # Reading order, and none of the fixed-field tags or bibliographic numbers.
    assert text.startswith("Bumper support for a boat loader\n")
    assert text.index(patent["abstract"][:60]) < text.index(patent["claims"][0][:60])
    assert text.index(patent["claims"][0][:60]) < text.index("reference numeral 10 represents")
    assert "PAR  " not in text and "WKU" not in text and "039373754" not in text


@pytest.mark.parametrize(
    ("content", "filename", "title", "claims", "first_claim"),
    [
        (US_GRANT.path.read_bytes(), US_GRANT.name, "Methods and systems for transactional "
         "tunneling", 2, "1. A method of executing an electronic transaction, comprising:"),
        (EP_WITHOUT_DECLARATION.encode(), "EP1000000.xml", "Filter device", 3,
         "A filter device comprising a ceramic membrane."),
        (US_PRE_GRANT_WITHOUT_DECLARATION.encode(), "US20250000001", "Hinge", 1,
         "1. A hinge comprising a pin."),
    ],
    ids=["us-grant", "ep-without-declaration", "us-pre-grant-without-declaration"],
)  # fmt: skip
def test_st36_gives_title_abstract_claims_and_description(
    dossier, content, filename, title, claims, first_claim
):
    processing = processed(dossier, content, filename)
    patent = processing.metadata["patent"]

    assert processing.state == State.DONE
    assert (patent["title"], len(patent["claims"])) == (title, claims)
    assert " ".join(patent["claims"][0].split()).startswith(first_claim)
    assert patent["abstract"] and patent["description_chars"] > 0
    assert "<" not in text_of(processing)


def test_st32_with_external_entity_declarations_is_read_and_nothing_fetched(dossier):
    processing = processed(dossier, US_ST32.path.read_bytes(), US_ST32.name)
    patent = processing.metadata["patent"]

    assert processing.state == State.DONE
    assert (patent["shape"], patent["title"]) == ("st32", "Optical memory device")
    assert len(patent["claims"]) == patent["claim_count"] == 39
    # `&ldquo;` is declared by a DTD never loaded: read as the HTML entity of that name.
    assert "(hereinafter referred to as a “luminous intensity”)" in patent["abstract"]


# --- Entities are never resolved ------------------------------------------------------------


class _Listener(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"FETCHED-OVER-HTTP")

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    _Listener.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def hostile_xml(secret_path, port: int, *, patent: bool) -> bytes:
    body = "&secret;&remote;"
    if patent:
        body = (
            f"<invention-title>Valve</invention-title><abstract><p>A valve. {body}</p>"
            "</abstract><claims><claim><claim-text>A valve.</claim-text></claim></claims>"
        )
    return (
        f'<!DOCTYPE doc [<!ENTITY secret SYSTEM "file://{secret_path}">'
        f'<!ENTITY remote SYSTEM "http://127.0.0.1:{port}/leak">]>\n'
        f"<doc><title>Letter</title><p>{body}</p></doc>"
    ).encode()


@pytest.mark.parametrize("patent", [True, False], ids=["patent-xml", "other-xml"])
def test_an_external_entity_is_never_read_nor_fetched(dossier, tmp_path, listener, patent):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    content = hostile_xml(secret, listener.server_address[1], patent=patent)
    processing = processed(dossier, content, "doc.xml")
    text = text_of(processing) if processing.text_id else ""

    assert processing.state == State.DONE
    assert ("patent" in processing.metadata) is patent
    assert "TOP-SECRET-CONTENT" not in text and "FETCHED-OVER-HTTP" not in text
    assert "Letter" in text or "Valve" in text
    # The parser itself resolves nothing, even outside the sandbox's empty network namespace.
    source = tmp_path / "doc.xml"
    source.write_bytes(content)
    found = markup.prepare(path=str(source), workdir=str(tmp_path), media_type="application/xml")
    if patent:
        made = open(found["path"], encoding="utf-8").read()
        assert "A valve." in made and "TOP-SECRET" not in made and "FETCHED" not in made
    assert _Listener.requests == []


def test_the_stored_fields_are_bounded_and_the_text_holds_every_claim(dossier):
    claims = "".join(
        f"<claim><claim-text>{n}. A valve {'with a seat ' * 600}.</claim-text></claim>"
        for n in range(1, 31)
    )
    content = (
        f"<patent-document><invention-title>Valve</invention-title><abstract><p>A valve.</p>"
        f"</abstract><claims>{claims}</claims></patent-document>"
    ).encode()
    processing = processed(dossier, content, "valve.xml")
    patent = processing.metadata["patent"]

    assert patent["claim_count"] == 30
    assert all(len(claim) <= 5000 for claim in patent["claims"])
    assert sum(len(claim) for claim in patent["claims"]) <= 50000 < 30 * 600 * 12
    assert "30. A valve with a seat" in text_of(processing)
