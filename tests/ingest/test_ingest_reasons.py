"""The catalogue of failure reasons (`ingest/reasons.py`): every reason is raised somewhere, the
README's table is the catalogue's, and real files made here fail with their reason while the
raw technical detail stays in the failing step's detail."""

from __future__ import annotations

import ast
import io
import re
import zipfile
from pathlib import Path

import pikepdf
import pytest

from ingest import reasons
from ingest.models import Processing, State
from ingest.pipeline import process_version
from tests.ingest_support import file_version

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]
TABLE_START, TABLE_END = "<!-- reasons:start -->", "<!-- reasons:end -->"


def readme_table() -> str:
    """The README's table of reasons, as the catalogue would write it."""
    rows = ["| Code | What the clerk sees | What to do |", "| --- | --- | --- |"]
    rows += [
        f"| `{reason.code}` | {reason.sentence} | {reason.action} |"
        for reason in reasons.REASONS.values()
    ]
    return "\n".join(rows)


def test_the_readme_lists_every_reason_as_the_catalogue_says():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    table = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert table == readme_table(), f"README's table of reasons should be:\n{readme_table()}"


def codes_raised() -> set[str]:
    """Every reason code a failure is built with in ingest's code: the first argument of a
    `*Failed(…)`/`SandboxFailure(…)` call, a code returned as a reason's (`tika_metadata`,
    `_signal_reason`), or a code handed to `_finish` or written into a child's result."""
    found: set[str] = set()
    for path in (PROJECT / "ingest").rglob("*.py"):
        if "migrations" in path.parts or path.name == "reasons.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in reasons.REASONS:
                    found.add(node.value)
    return found


def test_every_reason_is_used_somewhere_and_every_code_is_catalogued():
    assert codes_raised() == set(reasons.REASONS)
    # Codes are stable identifiers: lower case words joined by hyphens.
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code) for code in reasons.REASONS)
    with pytest.raises(KeyError):
        reasons.ReasonedFailure("no-such-reason")


def processed(dossier, content: bytes, filename: str) -> Processing:
    version = file_version(dossier, content, filename)
    process_version(version.id)
    return Processing.objects.get(version=version)


def failed_step(processing: Processing) -> dict:
    step = processing.steps[-1]
    assert step["state"] == "failed"
    return step


def a_pdf(**save) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, **save)
    return out.getvalue()


def test_an_encrypted_pdf_asks_for_an_unprotected_copy(dossier):
    encrypted = a_pdf(encryption=pikepdf.Encryption(owner="o", user="secret"))

    processing = processed(dossier, encrypted, "claims.pdf")

    assert processing.state == State.FAILED
    assert processing.reason_code == "encrypted-pdf"
    assert processing.reason == (
        "password-protected PDF: ask the applicant for an unprotected copy"
    )
    # What each reader said is for operators, in the step, never in the reason.
    detail = failed_step(processing)["detail"]
    assert detail.startswith("qpdf refused it: a password is required; ")
    assert "; pdfium: " in detail
    assert "qpdf" not in processing.reason


def test_a_zip_archive_named_pdf_says_so(dossier):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:  # stored: the PDF's header is near the start
        zipped.writestr("claims.pdf", a_pdf())
        zipped.writestr("letter.txt", "Dear Sirs")

    processing = processed(dossier, archive.getvalue(), "application.pdf")

    assert processing.state == State.FAILED
    assert processing.reason_code == "zip-named-pdf"
    assert processing.reason == "not a PDF although named .pdf: it is a ZIP archive"
    step = failed_step(processing)
    assert step["name"] == "identify"
    assert step["detail"] == "named 'application.pdf', its content is application/zip"
    assert processing.media_type == "application/zip"


def test_a_zip_archive_named_zip_is_not_refused_as_a_pdf(dossier):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("letter.txt", "Dear Sirs, please find the claims")

    processing = processed(dossier, archive.getvalue(), "bundle.zip")

    assert processing.reason_code != "zip-named-pdf"


def test_a_truncated_pdf_is_damaged_with_every_readers_words_in_the_detail(dossier):
    whole = a_pdf()
    truncated = whole[: len(whole) // 3]  # cut off in transfer: no xref, no trailer

    processing = processed(dossier, truncated, "cut-off.pdf")

    assert processing.state == State.FAILED
    assert processing.reason_code == "damaged-pdf"
    assert processing.reason == ("damaged PDF that no reader here can open: ask for the file again")
    detail = failed_step(processing)["detail"]
    assert detail.startswith("qpdf refused it: ")
    assert "; tika-embedded: " in detail or "; tika-server: " in detail
    assert "; pdfium: " in detail
    assert "(" not in processing.reason  # no raw message crept in


def test_a_failure_carries_its_code_and_detail_separately():
    failure = reasons.ReasonedFailure("timed-out", "timed out after 2 s")
    assert failure.code == "timed-out"
    assert failure.sentence == reasons.get("timed-out").sentence
    assert failure.described == f"{failure.sentence} (timed out after 2 s)"
    assert str(failure) == "timed-out: timed out after 2 s"
