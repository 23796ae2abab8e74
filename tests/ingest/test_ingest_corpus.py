"""The corpus test: every file of ../shared/corpus (real files from public test suites, hostile
ones included) goes through the pipeline, each in the sandbox, and ends `done` or `failed` with a
specific reason; born-digital documents yield text. Prints the outcome per kind.

The corpus is required: if it is missing the test fails and says where it looked.
"""

from __future__ import annotations

from collections import Counter

from dossier.models import Rendition
from ingest import capabilities
from ingest.extractors import load as load_extractor
from ingest.models import Processing, State
from ingest.pipeline import run_to_completion
from tests.ingest_support import corpus_files, file_version

BORN_DIGITAL = {"pdf", "docx", "odt", "rtf", "html", "eml"}
NO_TEXT_EXPECTED = ("image-only", "no-extractable-text")
# Born-digital files that honestly have no text to give, and why (checked, so a change shows).
EXPECTED_EMPTY = {"8707c7b2_testHTML_head.html": "an HTML page whose <body> is empty"}
EXPECTED_FAILURES: dict[str, str] = {}
# Files the embedded Tika refuses (or finds no text in), read by the next reader for their kind
# (`ingest.fallbacks`); LibreOffice's only where it is installed.
RESCUED_BY = {
    # Tika (PDFBox) cannot map this CID font's glyphs to text.
    "56e73c75_issue12823.pdf": "pdfium",
    "558c09c5_testVISIO.vsdx": "libreoffice",
    "15494702_testVISIO_60489.vsdx": "libreoffice",
    "bcdf381d_testQuattro.wq1": "libreoffice",
    "74292e22_testLotus123-lotusftp.wk4": "libreoffice",
}
# Images the embedded Tika refuses, decoded by Pillow through pillow-heif (`ingest.image_formats`;
# img2pdf's Pillow, or ours) and OCR'd: done, with their text or why they have none.
READ_AS_IMAGES = {"4e5f21ca_testHEIF.heic": ("img2pdf", "pillow")}
GENERIC_REASONS = ("internal-error", "gave-up-retrying")


def test_every_corpus_file_ends_done_or_failed_with_a_specific_reason(dossier, settings):
    settings.EDMS_INGEST_TIMEOUT = 60
    outcomes: dict[str, Processing] = {}
    files = corpus_files()
    for corpus in files:
        version = file_version(dossier, corpus.path.read_bytes(), corpus.name)
        run_to_completion(version.id)
        outcomes[corpus.name] = Processing.objects.get(version=version)

    print_table(files, outcomes)
    # Every outcome is one a clerk can act on: text, or a reason (see `outcome_of`).
    unexplained = {n: outcome_of(p) for n, p in outcomes.items() if outcome_of(p) not in OUTCOMES}
    assert not unexplained, unexplained
    assert len(outcomes) == len(files) >= 150
    for name, processing in outcomes.items():
        assert processing.state in (State.DONE, State.FAILED), name
        if processing.state == State.FAILED:
            assert processing.reason and processing.reason_code, name
            assert processing.reason_code not in GENERIC_REASONS, (name, processing.steps)
            assert processing.reason_code != "timed-out", (name, processing.steps)
            # An error of the extractor itself (a bug of ours), however the reason reads.
            detail = processing.steps[-1]["detail"]
            assert not detail.startswith("the extractor failed"), (name, detail)

    for corpus in files:
        processing = outcomes[corpus.name]
        if corpus.name in EXPECTED_FAILURES:
            assert processing.reason == EXPECTED_FAILURES[corpus.name]
            continue
        if not born_digital(corpus) or corpus.name in EXPECTED_EMPTY:
            continue
        assert processing.state == State.DONE, (corpus.name, processing.reason)
        assert processing.text_chars and processing.text_id, corpus.name
    for name in EXPECTED_EMPTY:
        assert outcomes[name].state == State.DONE and outcomes[name].text_id is None
    embedded = load_extractor(settings.EDMS_EXTRACTOR).name == "tika-embedded"
    for name, reader in RESCUED_BY.items():
        if reader == "libreoffice" and not capabilities.office_capability().enabled:
            continue
        processing = outcomes[name]
        assert processing.state == State.DONE, (name, processing.reason)
        assert processing.text_chars, name
        if embedded:  # a Tika server (production) reads some of them itself
            assert processing.metadata["reader"] == reader, name

    for name, readers in READ_AS_IMAGES.items():
        processing = outcomes[name]
        assert processing.state == State.DONE, (name, processing.reason)
        assert processing.text_chars or processing.quality_reason.startswith("no text: "), name
        if embedded:
            assert processing.metadata["reader"] in readers, name

    # Scanned PDFs are OCR'd into a searchable PDF/A (when Tesseract is installed).
    if capabilities.ocr_capability().enabled:
        for corpus in files:
            if corpus.extension == "pdf" and "image-only" in corpus.notes:
                processing = outcomes[corpus.name]
                kinds = set(processing.version.renditions.values_list("kind", flat=True))
                assert "pdfa" in kinds, (corpus.name, processing.reason, processing.steps)

    # Never a silent "done": a version without text, or whose text failed the quality gate,
    # says why; every other done version's text passed it.
    for name, processing in outcomes.items():
        if processing.state != State.DONE:
            continue
        if processing.text_id is None:
            assert processing.quality == "warning", name
            assert processing.quality_reason.startswith("no text: "), name
        else:
            assert processing.quality in ("ok", "warning"), name
            assert (processing.quality == "warning") == bool(processing.quality_reason), name

    reasons = {name: processing.reason for name, processing in outcomes.items()}
    assert reasons["3e333bff_libreoffice-writer-password.pdf"] == (
        "password-protected PDF: ask the applicant for an unprotected copy"
    )
    assert reasons["93bc474d_testODTEncrypted.odt"] == (
        "password-protected document: ask the applicant for an unprotected copy"
    )
    assert outcomes["38caddee_issue18986.pdf"].reason_code == "damaged-pdf"
    assert outcomes["38caddee_issue18986.pdf"].steps[-1]["detail"].startswith("qpdf refused it: ")
    # A fuzzed OneNote file makes Tika's heap grow until the memory cap stops it.
    onenote = outcomes["3d3c8287_testOneNote-fuzz2.one"]
    assert onenote.reason_code == "out-of-memory"
    assert onenote.steps[-1]["detail"] == "ran out of memory (limit 1024 MiB)"


def born_digital(corpus) -> bool:
    return (
        corpus.kind != "malformed"
        and corpus.extension in BORN_DIGITAL
        and not any(note in corpus.notes for note in NO_TEXT_EXPECTED)
    )


def outcome_of(processing: Processing) -> str:
    """The corpus table's column for a version: done with text (its text passed the gate, or
    failed it with a reason), done without text with its reason, failed with its reason; and
    what the test fails on: either without a reason."""
    if processing.state == State.FAILED:
        return "failed, reason" if processing.reason else "failed, NO REASON"
    if processing.state != State.DONE:
        return str(processing.state)
    if processing.text_chars:
        if processing.quality == "warning":
            return "text, warned" if processing.quality_reason else "text, NO REASON"
        return "text"
    return "no text, reason" if processing.quality_reason else "no text, NO REASON"


OUTCOMES = ("text", "text, warned", "no text, reason", "failed, reason")


def print_table(files, outcomes: dict[str, Processing]) -> None:
    """Per kind: done with text (of which warned), done without text with a reason, failed
    with a reason, and the renditions made; a last column counts what has no reason (none)."""
    per_kind: dict[str, Counter] = {}
    for corpus in files:
        processing = outcomes[corpus.name]
        counts = per_kind.setdefault(corpus.kind, Counter())
        counts["files"] += 1
        counts[outcome_of(processing)] += 1
        for kind in Rendition.objects.filter(version=processing.version_id).values_list(
            "kind", flat=True
        ):
            counts[kind] += 1
    print(
        "\n                  done                            failed"
        "\nkind        files  with text (warned)  no text+reason  +reason  no reason"
        "  pdfa  pdf  thumbnail"
    )
    total = Counter()
    for kind, counts in [*sorted(per_kind.items()), ("all", None)]:
        if counts is None:
            counts = total
        else:
            total.update(counts)
        with_text = counts["text"] + counts["text, warned"]
        unexplained = sum(n for outcome, n in counts.items() if "NO REASON" in outcome)
        print(
            f"{kind:<10} {counts['files']:>6} {with_text:>10} {f'({counts[OUTCOMES[1]]})':>8}"
            f" {counts['no text, reason']:>15} {counts['failed, reason']:>8} {unexplained:>10}"
            f" {counts['pdfa']:>5} {counts['pdf']:>4} {counts['thumbnail']:>10}"
        )
    print("\ndone with a text-quality warning:")
    for name, processing in sorted(outcomes.items()):
        if processing.state == State.DONE and processing.quality == "warning":
            print(f"  {name}: {processing.quality_reason}")
    print("\nfailures:")
    for name, processing in sorted(outcomes.items()):
        if processing.state == State.FAILED:
            print(f"  {name}: {processing.reason}")
