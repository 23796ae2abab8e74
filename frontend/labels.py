"""Labels the templates translate from model choices and processing states, and the document
types' labels in the UI language.

The models keep plain English labels (the API shows those); listing them here with
`gettext_noop` lets `makemessages` collect them for the UI's catalogues.
"""

from django.utils.translation import get_language, get_language_info, gettext, gettext_noop

from dossier.models import DocumentType, RenditionKind

CHOICE_LABELS = (
    # IpType
    gettext_noop("Patent"),
    gettext_noop("Utility model"),
    gettext_noop("Trademark"),
    gettext_noop("Industrial design"),
    gettext_noop("Supplementary protection certificate"),
    gettext_noop("Geographical indication"),
    # Direction
    gettext_noop("Incoming"),
    gettext_noop("Outgoing"),
    gettext_noop("Internal"),
    # Visibility
    gettext_noop("Public after publication"),
    gettext_noop("Public"),
    gettext_noop("Confidential"),
    # Processing states (ingest.models.State values)
    gettext_noop("pending"),
    gettext_noop("running"),
    gettext_noop("done"),
    gettext_noop("failed"),
    # ... and once the search index holds the processed document
    gettext_noop("searchable"),
    # Scan batch states (scanning.models.BatchState labels)
    gettext_noop("Queued"),
    gettext_noop("Splitting"),
    gettext_noop("Waiting for quality control"),
    gettext_noop("Done"),
    gettext_noop("Failed"),
    # Scanned part states (scanning.models.PartState labels)
    gettext_noop("Unassigned"),
    gettext_noop("Approved"),
    gettext_noop("Rejected"),
    gettext_noop("Merged into another part"),
    gettext_noop("Set aside as blank"),
    # Rendition kinds (dossier.models.RenditionKind labels)
    gettext_noop("Searchable PDF/A (OCR)"),
    gettext_noop("PDF for viewing"),
    gettext_noop("First-page thumbnail"),
    gettext_noop("Redacted copy for the public"),
    gettext_noop("Text of the redacted copy"),
)


def rendition_label(kind: str) -> str:
    """A rendition's name in the UI language; its kind itself for a kind not (yet) listed."""
    try:
        return gettext(RenditionKind(kind).label)
    except ValueError:
        return kind


def language_name(code: str) -> str:
    """A language's name in the UI language (`ar`: "Arabe" in French, from Django's own
    catalogues); the code itself for a language Django does not name."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def ui_language() -> str:
    """The UI language's base code (`fr` for `fr-ca`), the key of `DocumentType.labels`."""
    return (get_language() or "en").split("-")[0]


def type_labels() -> dict[str, str]:
    """Every document type's label in the UI language (one query)."""
    language = ui_language()
    return {t.code: t.label(language) for t in DocumentType.objects.all()}
