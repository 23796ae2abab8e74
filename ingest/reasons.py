"""The catalogue of reasons a version's processing fails for: each a stable code, one plain
sentence a clerk can act on, and what to do.

A failure carries a code from here and, separately, the raw technical detail (qpdf's or
pdfium's message, a Java exception, a signal): the processing keeps the code and the English
sentence (`Processing.reason_code`, `Processing.reason`, what the API returns), the detail goes
into the failing step's `detail` for operators, never into the reason. The UI shows the sentence
translated, from the code (`translated`), and the viewer what to do (`translated_action`).

The sentences, and what to do (the viewer of a failed version says both), are marked for
translation (`gettext_noop`, the keyword `makemessages` knows), not translated here: the
sentences are stored in English (stable, what API clients match on), and this module
runs in the sandbox child too, where Django is not configured (Django's own `gettext_noop`
reads the settings). Their translations live in `frontend/locale`. README's table of reasons is
checked against this catalogue by a test.
"""

from __future__ import annotations

from dataclasses import dataclass


def gettext_noop(message: str) -> str:
    """Marks `message` for translation; it stays as it is (see the module's doc)."""
    return message


@dataclass(frozen=True)
class Reason:
    code: str
    sentence: str  # English, marked for translation
    action: str  # what to do about it (README, the viewer), marked for translation


_CATALOGUE = (
    Reason(
        "encrypted-pdf",
        gettext_noop("password-protected PDF: ask the applicant for an unprotected copy"),
        gettext_noop("Ask the applicant for a copy without a password; add it as a new version."),
    ),
    Reason(
        "encrypted-document",
        gettext_noop("password-protected document: ask the applicant for an unprotected copy"),
        gettext_noop("Ask the applicant for a copy without a password; add it as a new version."),
    ),
    Reason(
        "damaged-pdf",
        gettext_noop("damaged PDF that no reader here can open: ask for the file again"),
        gettext_noop(
            "Ask the sender for the file again (it was probably cut off in transfer); add it as a "
            "new version."
        ),
    ),
    Reason(
        "zip-named-pdf",
        gettext_noop("not a PDF although named .pdf: it is a ZIP archive"),
        gettext_noop(
            "Unpack the archive and add the documents in it, or ask the applicant for the PDF."
        ),
    ),
    Reason(
        "unreadable-file",
        gettext_noop("the file cannot be read: it is damaged or not what its name says"),
        gettext_noop(
            "Open the file on your computer; if it does not open either, ask for it again."
        ),
    ),
    Reason(
        "unreadable-image",
        gettext_noop("the image cannot be read: it is damaged or in an unknown format"),
        gettext_noop("Ask for the image again as PDF, PNG, JPEG or TIFF."),
    ),
    Reason(
        "image-resolution-too-low",
        gettext_noop("the image's resolution is too low to read: ask for a sharper scan"),
        gettext_noop("Scan again at 300 dpi, or ask the applicant for a sharper copy."),
    ),
    Reason(
        "image-format-unsupported",
        gettext_noop("text cannot be recognised in this kind of image: ask for PDF, PNG or JPEG"),
        gettext_noop("Ask for the image as PDF, PNG, JPEG or TIFF."),
    ),
    Reason(
        "ocr-unavailable",
        gettext_noop("text recognition (OCR) is not available here: tell the operators"),
        gettext_noop(
            "Operators: install what the step detail names (Tesseract, OCRmyPDF), then retry."
        ),
    ),
    Reason(
        "ocr-failed",
        gettext_noop("text recognition (OCR) failed on this file: retry, then tell the operators"),
        gettext_noop("Retry once; operators read the step detail (the OCR engine's message)."),
    ),
    Reason(
        "conversion-failed",
        gettext_noop("the office document could not be converted to PDF: ask for a PDF of it"),
        gettext_noop("Ask the applicant for the document as PDF; operators read the step detail."),
    ),
    Reason(
        "preview-failed",
        gettext_noop("no preview could be made of this file; its text is still searchable"),
        gettext_noop(
            "Nothing for the text; operators read the step detail if previews are needed."
        ),
    ),
    Reason(
        "original-missing",
        gettext_noop("the original's content is missing from storage: restore it first"),
        gettext_noop("Operators: restore the file's blob from backup, then retry."),
    ),
    Reason(
        "timed-out",
        gettext_noop("reading the file took too long: ask for a simpler copy (printed to PDF)"),
        gettext_noop(
            "Retry once; if it fails again, ask for a simpler copy. Operators may raise "
            "EDMS_INGEST_TIMEOUT."
        ),
    ),
    Reason(
        "out-of-memory",
        gettext_noop("reading the file needed too much memory: ask for a smaller or simpler copy"),
        gettext_noop(
            "Ask for a smaller or simpler copy. Operators may raise EDMS_INGEST_MEMORY_MIB."
        ),
    ),
    Reason(
        "output-too-large",
        gettext_noop("the file unpacks to more than allowed: ask for a smaller copy"),
        gettext_noop("Ask for a smaller copy, or split the document."),
    ),
    Reason(
        "reader-crashed",
        gettext_noop("the file crashed its reader: ask for another copy, or tell the operators"),
        gettext_noop(
            "Ask for another copy (e.g. saved again or printed to PDF); operators read the step "
            "detail."
        ),
    ),
    Reason(
        "extractor-error",
        gettext_noop("the text extraction service failed: retry, then tell the operators"),
        gettext_noop("Retry; operators check the Tika server (its answer is in the step detail)."),
    ),
    Reason(
        "gave-up-retrying",
        gettext_noop("a service edms needs was unavailable, even after retries: retry later"),
        gettext_noop(
            "Operators check storage and the extraction service on the operations page, then retry."
        ),
    ),
    Reason(
        "internal-error",
        gettext_noop("internal error while processing: tell the operators"),
        gettext_noop("Operators read the logs (the step detail names the error), fix, then retry."),
    ),
)

REASONS: dict[str, Reason] = {reason.code: reason for reason in _CATALOGUE}


def get(code: str) -> Reason:
    """The catalogue's reason for `code`; an unknown code is a programming error (KeyError)."""
    return REASONS[code]


def translated_action(code: str) -> str:
    """What to do about the reason, in the active language ("" for a code not catalogued)."""
    from django.utils.translation import gettext  # see `translated`

    reason = REASONS.get(code)
    return gettext(reason.action) if reason else ""


def translated(code: str, fallback: str = "") -> str:
    """The reason's sentence in the active language; `fallback` (the stored English reason)
    for a code not in the catalogue, e.g. a processing that failed before codes existed."""
    # Imported here: Django's translation machinery (~6 MiB with asyncio) is never needed in
    # the sandbox zygote, which imports this module, and each of its children would copy it.
    from django.utils.translation import gettext

    reason = REASONS.get(code)
    return gettext(reason.sentence) if reason else fallback


class ReasonedFailure(Exception):
    """A failure with a catalogue reason (`code`) and, separately, the raw technical detail
    (`detail`: a tool's own message, for operators). The base of `ExtractionFailed`,
    `SandboxFailure` and `StepFailed`, so a reason travels unchanged from the sandbox child to
    the processing."""

    def __init__(self, code: str, detail: str = ""):
        self.reason_entry = get(code)
        super().__init__(self.reason_entry.sentence if not detail else f"{code}: {detail}")
        self.code = code
        self.detail = detail

    @property
    def sentence(self) -> str:
        """The plain English sentence (stored as the processing's `reason`)."""
        return self.reason_entry.sentence

    @property
    def described(self) -> str:
        """Sentence and detail on one line, for step details and logs (operators)."""
        return f"{self.sentence} ({self.detail})" if self.detail else self.sentence
