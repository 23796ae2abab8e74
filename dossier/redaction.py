"""Redacted copies for the public: what a redacted PDF must be, and who reads it instead of the
original.

A document can carry, for a version, a redacted copy (`RenditionKind.REDACTED`: a PDF with
personal data blacked out and flattened, uploaded by staff through
`actions.store_redacted_copy`) and the text extracted from that copy
(`RenditionKind.REDACTED_TEXT`). The original and its text never change.

The public reads a document through its redacted copy only, wherever the words could leak:
content, text, renditions (processing's PDF/A or thumbnail show the original), search and
exports. It does so whenever the document is marked `redaction_required` or has a redacted copy
of any version: a version without one is then not served to the public at all. A document that
is `redaction_required` and whose latest version has no redacted copy is invisible to the
public (`access.visible_documents`). Internal users read the original as before.

Flattened, checked honestly: a PDF that still carries redaction annotations (`/Redact`: marked,
not applied, the words still under the box) is refused; and the public text is what can be
extracted from the copy itself, never the original's, so whatever text a badly made copy still
hides under its black boxes is all that the public could ever find.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from dossier.models import UPLOADED_RENDITIONS, Document, Rendition, RenditionKind, Version
from dossier.roles import Role, role_of


class NotARedactedPdf(Exception):
    """The file is not a flattened PDF (not a PDF, unreadable, or redactions not applied)."""


def check_flattened(path: str) -> int:
    """The page count of the PDF at `path`; raise `NotARedactedPdf` if it is no PDF, cannot be
    read, or still carries redaction annotations that were never applied."""
    import pikepdf  # imported when needed: not on every process start (it logs on import)

    try:
        with pikepdf.open(path) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                for annotation in page.obj.get("/Annots", None) or []:
                    if annotation.get("/Subtype") == pikepdf.Name.Redact:
                        raise NotARedactedPdf(
                            f"page {number} has a redaction that was marked but never applied "
                            "(the words are still under it): apply the redactions and flatten"
                        )
            return len(pdf.pages)
    except pikepdf.PdfError as exc:
        raise NotARedactedPdf(f"not a readable PDF: {exc}") from None


def extract_text(path: str) -> str:
    """The text a reader could copy out of the PDF at `path`, page after page, a form feed
    between pages (as extraction separates them: a public search hit names its page of the
    copy by them); raise `NotARedactedPdf` if it cannot be read."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        raise NotARedactedPdf(f"not a readable PDF: {exc}") from None
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\f".join(pages)
    finally:
        pdf.close()


def reads_redacted(user, document: Document) -> bool:
    """Whether `user` reads `document` only through its redacted copies: the public, for a
    document that requires redaction or has a redacted copy."""
    if role_of(user) != Role.PUBLIC:
        return False
    if document.redaction_required:
        return True
    # A listing annotates it (`with_redacted_copies`): one query for the page, not one a row.
    annotated = getattr(document, "has_redacted_copies", None)
    return annotated if annotated is not None else has_redacted_copy(document)


def with_redacted_copies(documents: QuerySet[Document]) -> QuerySet[Document]:
    """`documents` annotated with whether any version has a redacted copy (`reads_redacted`)."""
    copies = Rendition.objects.filter(version__document=OuterRef("pk"), kind=RenditionKind.REDACTED)
    return documents.annotate(has_redacted_copies=Exists(copies))


def renditions_shown(renditions: Iterable[Rendition], *, only_redacted: bool) -> list[Rendition]:
    """Which of a version's `renditions` a reader is shown (listed, linked): to one who reads
    the document only redacted (`reads_redacted`), only the redacted copy and its text, since
    processing's PDF/A, PDF and thumbnail show the original and answer that reader 404."""
    if not only_redacted:
        return list(renditions)
    return [rendition for rendition in renditions if rendition.kind in UPLOADED_RENDITIONS]


def read_only_redacted_q() -> Q:
    """The documents the public reads only through redacted copies (as `reads_redacted`)."""
    copies = Rendition.objects.filter(version__document=OuterRef("pk"), kind=RenditionKind.REDACTED)
    return Q(redaction_required=True) | Q(Exists(copies))


def has_redacted_copy(document: Document, *, version_number: int | None = None) -> bool:
    """Whether a version of `document` (`version_number`, or any) has a redacted copy."""
    copies = Rendition.objects.filter(version__document=document, kind=RenditionKind.REDACTED)
    if version_number is not None:
        copies = copies.filter(version__number=version_number)
    return copies.exists()


def redacted(version: Version, kind: str = RenditionKind.REDACTED) -> Rendition | None:
    """The version's redacted copy (or its text, `kind=REDACTED_TEXT`), blob loaded; None."""
    return Rendition.objects.select_related("blob").filter(version=version, kind=kind).first()
