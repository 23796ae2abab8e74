"""Fallback chains: a file the embedded Tika refuses is read by the next reader for its kind
(`ingest.fallbacks`), each in the sandbox, and the extract step says which reader produced the
text. Images whose metadata Tika cannot parse (made here), and corpus files Tika refuses."""

from __future__ import annotations

import hashlib
import io
import os
import shutil

import pillow_heif
import pytest
from PIL import Image, TiffImagePlugin, TiffTags

from dossier import blobstore
from ingest import sandbox
from ingest.models import Processing, Stage, State
from ingest.pipeline import run_to_completion
from tests.ingest_support import (
    OCR_PROGRAMS,
    OFFICE_PROGRAMS,
    corpus_file,
    file_version,
    require_font,
    require_programs,
)
from tests.scans import DPI, page

REFUSED_BY_TIKA = "after tika-embedded failed: "
# The EXIF GPS tag, which points to the GPS data's directory; and an EXIF block whose byte-order
# mark is neither "II" nor "MM": both make Tika's image parsers throw, while Pillow reads the
# pixels (as cameras and phone apps write such files).
GPS_DIRECTORY_TAG = 34853
UNREADABLE_EXIF = b"XX\x00\x2a\x00\x00\x00\x08" + b"\x00" * 32


def processed(dossier, content: bytes, filename: str) -> Processing:
    version = file_version(dossier, content, filename)
    run_to_completion(version.id)
    return Processing.objects.get(version=version)


def text_of(processing: Processing) -> str:
    return b"".join(blobstore.read_chunks(processing.text_id)).decode()


def extract_detail(processing: Processing) -> str:
    (step,) = [s for s in processing.steps if s["name"] == "extract"]
    assert step["state"] == "done", step
    return step["detail"]


def scanned_pages(*lines: str) -> list[Image.Image]:
    dejavu = require_font("DejaVu Sans")
    return [page([line], dejavu) for line in lines]


def lzw_tiff_with_a_gps_pointer_past_its_end(pages: list[Image.Image]) -> bytes:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[GPS_DIRECTORY_TAG] = 0xFFFFFF0
    tags.tagtype[GPS_DIRECTORY_TAG] = TiffTags.LONG
    buffer = io.BytesIO()
    pages[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=pages[1:],
        compression="tiff_lzw",
        tiffinfo=tags,
        dpi=(DPI, DPI),
    )
    return buffer.getvalue()


def webp_with_unreadable_exif(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", lossless=True, exif=b"Exif\x00\x00" + UNREADABLE_EXIF)
    return buffer.getvalue()


def heic(image: Image.Image) -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="HEIF", quality=90)
    return buffer.getvalue()


def test_a_multi_page_lzw_tiff_tika_refuses_is_converted_and_ocrd(dossier):
    require_programs(*OCR_PROGRAMS)
    pages = scanned_pages("First page of the application", "Second page about widgets")

    processing = processed(dossier, lzw_tiff_with_a_gps_pointer_past_its_end(pages), "scan.tif")

    assert processing.state == State.DONE, processing.reason
    assert (processing.stage, processing.page_count) == (Stage.OCR, 2)
    assert processing.metadata["reader"] == "img2pdf"
    assert f"0 characters by img2pdf {REFUSED_BY_TIKA}" in extract_detail(processing)
    text = text_of(processing)
    assert "First page of the application" in text and "Second page about widgets" in text


def test_a_webp_tika_refuses_is_converted_and_ocrd(dossier):
    require_programs(*OCR_PROGRAMS)
    (image,) = scanned_pages("Trademark filed in colour")

    processing = processed(dossier, webp_with_unreadable_exif(image), "mark.webp")

    assert processing.state == State.DONE, processing.reason
    assert processing.stage == Stage.OCR
    # img2pdf embeds only what a PDF holds as is; a WebP is converted by Pillow.
    assert processing.metadata["reader"] == "pillow"
    assert f"by pillow {REFUSED_BY_TIKA}" in extract_detail(processing)
    assert "Trademark filed in colour" in text_of(processing)


def test_a_heic_photo_is_converted_and_ocrd(dossier):
    require_programs(*OCR_PROGRAMS)
    (image,) = scanned_pages("Design photographed by the applicant")

    processing = processed(dossier, heic(image), "design.heic")

    assert processing.state == State.DONE, processing.reason
    assert (processing.media_type, processing.stage) == ("image/heic", Stage.OCR)
    assert "Design photographed by the applicant" in text_of(processing)
    kinds = set(processing.version.renditions.values_list("kind", flat=True))
    assert kinds == {"pdfa", "thumbnail"}, processing.steps


def test_the_corpus_heif_photo_ends_done_with_its_text_or_why_it_has_none(dossier):
    require_programs(*OCR_PROGRAMS)
    corpus = corpus_file("testHEIF.heic")  # a photo: the embedded Tika's HeifParser fails on it

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.stage == Stage.OCR
    # Pillow decodes it through pillow-heif: img2pdf does (its Pillow has the opener when
    # OCRmyPDF, which registers it too, is loaded in the sandbox), else our Pillow fallback.
    assert processing.metadata["reader"] in ("img2pdf", "pillow")
    assert REFUSED_BY_TIKA in extract_detail(processing)
    if processing.text_id is None:
        assert processing.quality_reason == (
            "no text: OCR found none in the image (a photo, a drawing or a blank page)"
        )


def test_an_image_no_reader_decodes_keeps_tikas_reason(dossier):
    # A PNG signature, then nothing an image decoder can use.
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 200

    processing = processed(dossier, broken, "broken.png")

    assert processing.state == State.FAILED
    assert processing.reason_code == "unreadable-file"
    assert processing.steps[-1]["detail"].startswith("tika-embedded: ")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("558c09c5_testVISIO.vsdx", "This is a test."),  # Visio: Tika's OOXML parser throws
        ("bcdf381d_testQuattro.wq1", "4001 7/3/96"),  # Quattro Pro: Tika's OLE parser throws
    ],
)
def test_an_office_file_tika_refuses_is_read_through_libreoffice(dossier, name, words):
    require_programs(*OFFICE_PROGRAMS)
    corpus = corpus_file(name)

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "libreoffice"
    assert f"by libreoffice {REFUSED_BY_TIKA}" in extract_detail(processing)
    assert words in text_of(processing)


def test_an_office_file_tika_finds_no_text_in_is_read_through_libreoffice(dossier):
    require_programs(*OFFICE_PROGRAMS)
    corpus = corpus_file("testLotus123-lotusftp.wk4")  # Tika has no Lotus 1-2-3 parser

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "libreoffice"
    assert "by libreoffice after tika-embedded found no text" in extract_detail(processing)
    assert "67543 8/13/88" in text_of(processing)


def test_a_binary_libreoffice_does_not_know_is_not_read_as_plain_text(dossier):
    # LibreOffice imports an unknown binary as text: a Microsoft Project file's "text" would be
    # its bytes. Its extension is not one LibreOffice reads, so it is not asked.
    corpus = corpus_file("testPROJECT2007.mpp")

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "tika-embedded"
    assert not processing.text_chars


def test_a_pdf_tika_refuses_is_read_by_pdfium(dossier):
    corpus = corpus_file("56e73c75_issue12823.pdf")  # PDFBox cannot map this CID font

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "pdfium"
    assert f"by pdfium {REFUSED_BY_TIKA}Unable to extract PDF content" in extract_detail(processing)
    assert "知识库" in text_of(processing)


def test_a_pdf_qpdf_refuses_is_still_read_by_tika(dossier):
    corpus = corpus_file("e651252b_poppler-742-0-fuzzed.pdf")  # a fuzzed form

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "tika-embedded"
    assert "by tika-embedded although qpdf refused it: " in extract_detail(processing)
    assert "date: 2015-08-02" in text_of(processing)


def test_a_pdf_no_reader_opens_keeps_qpdfs_reason(dossier):
    corpus = corpus_file("9900c4c7_unreadablemetadata.pdf")

    processing = processed(dossier, corpus.path.read_bytes(), corpus.name)

    assert processing.state == State.FAILED
    assert processing.reason_code == "damaged-pdf"
    # Every reader's own words go into the step's detail, for operators.
    detail = processing.steps[-1]["detail"]
    assert detail.startswith("qpdf refused it: root of pages tree has no /Kids array; ")
    assert "; pdfium: " in detail
    (identify,) = [s for s in processing.steps if s["name"] == "identify"]
    assert identify["detail"].endswith("; trying other readers")


def test_a_pdf_whose_embedded_files_alone_are_encrypted_opens_without_a_password(dossier):
    # qpdf and Tika ask for the password, which only the attachment needs.
    processing = processed(dossier, pdf_with_an_encrypted_attachment(), "attachment.pdf")

    assert processing.state == State.DONE, processing.reason
    assert processing.metadata["reader"] == "pdfium"
    assert extract_detail(processing).startswith(
        "25 characters by pdfium after tika-embedded failed: "
    )
    assert "encrypted" in extract_detail(processing)  # Tika's words: it asked for the password
    assert text_of(processing).strip() == "Claims of the application"
    assert processing.metadata["encrypted"] is True


def test_pdftotext_reads_a_pdf_pdfium_cannot_open(tmp_path):
    # The second PDF reader of the chain, in the sandbox as the chain runs it: a PDF whose header
    # follows 1,600 bytes of something else (a mail gateway's banner, say), which poppler finds
    # and pdfium, looking in the first kilobyte only, does not.
    require_programs("pdftotext")
    text = b"BT /F1 24 Tf 72 700 Td (Recovered by poppler) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out, offsets = bytearray(b"banner\n" * 230 + b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    pdf = tmp_path / "after-a-banner.pdf"
    pdf.write_bytes(bytes(out))
    params = {"path": str(pdf), "text_path": str(tmp_path / "text.txt"), "max_chars": 10_000}
    limits = sandbox.Limits(timeout_s=60)

    with pytest.raises(sandbox.SandboxFailure, match=r"^damaged-pdf: Data format error"):
        sandbox.run(
            "ingest.readers:read",
            params | {"reader": "pdfium"},
            limits=limits,
            workdir=str(tmp_path),
        )
    found = sandbox.run(
        "ingest.readers:read",
        params | {"reader": "pdftotext", "program": shutil.which("pdftotext")},
        limits=limits,
        workdir=str(tmp_path),
    )

    assert (found["reader"], found["pages"]) == ("pdftotext", 1)
    assert (tmp_path / "text.txt").read_text().strip() == "Recovered by poppler"


# --- A PDF whose embedded files alone are encrypted -------------------------------------------
# Standard security handler, revision 4 (PDF 1.7, 7.6.4): streams and strings use the /Identity
# crypt filter, embedded files AES-128 (/EFF), with a user password. The O and U entries are
# computed as the specification's algorithms 2, 3 and 5 say, so qpdf accepts the password.

PASSWORD_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def pdf_with_an_encrypted_attachment(user: bytes = b"secret", owner: bytes = b"owner") -> bytes:
    document_id, permissions = os.urandom(16), -4
    owner_entry = _rc4_rounds(_md5_rounds(_padded(owner)), _padded(user))
    key = _md5_rounds(_padded(user) + owner_entry, permissions, document_id)
    user_entry = _rc4_rounds(key, hashlib.md5(PASSWORD_PADDING + document_id).digest())
    text = b"BT /F1 24 Tf 72 700 Td (Claims of the application) Tj ET"
    attachment = os.urandom(48)  # stands for AES-encrypted content: nobody reads it here
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R"
        b" /Names << /EmbeddedFiles << /Names [(secret.txt) 6 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Filespec /F (secret.txt) /EF << /F 7 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length %d >>\nstream\n%s\nendstream"
        % (len(attachment), attachment),
        b"<< /Filter /Standard /V 4 /R 4 /Length 128 /P %d /O <%s> /U <%s>"
        b" /CF << /StdCF << /CFM /AESV2 /AuthEvent /EFOpen /Length 16 >> >>"
        b" /StmF /Identity /StrF /Identity /EFF /StdCF >>"
        % (permissions, owner_entry.hex().encode(), (user_entry + bytes(16)).hex().encode()),
    ]
    out, offsets = bytearray(b"%PDF-1.6\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 8 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        document_id.hex().encode(),
        document_id.hex().encode(),
    )
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % xref)


def _padded(password: bytes) -> bytes:
    return (password + PASSWORD_PADDING)[:32]


def _md5_rounds(*parts) -> bytes:
    """Algorithm 2/3: MD5 of the parts (an int as 4 bytes little-endian), then 50 more times."""
    digest = hashlib.md5(
        b"".join(p.to_bytes(4, "little", signed=True) if isinstance(p, int) else p for p in parts)
    ).digest()
    for _ in range(50):
        digest = hashlib.md5(digest[:16]).digest()
    return digest[:16]


def _rc4_rounds(key: bytes, data: bytes) -> bytes:
    """RC4 with the key, then 19 more times with the key's bytes XORed with the round."""
    for round_number in range(20):
        data = _rc4(bytes(byte ^ round_number for byte in key), data)
    return data


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)
