"""USPTO Open Data Portal shape: an office's public file wrappers as the ODP serves its own.

`GET /api/v1/patent/applications/{applicationNumberText}/documents` answers a `documentBag` in
the ODP's field names (shared/EXCHANGE.md), so that tools written for the USPTO read an edms
office's public file wrappers unchanged, pointed at edms instead of the USPTO. Every shape and
every mapping lives here, so a revision of the ODP is one edit; `api.views.uspto_odp` presents
it.

What is served is exactly what the public sees (`dossier.access`, read as an anonymous
caller whoever asks): published dossiers, never secret ones, and of them the public documents,
each in its public form (a redacted document as its redacted copy).

Application numbers. A USPTO client sends (and checks, before it sends) an eight-digit number
`NNNNNNNN` or the series-code form `NN/NNNNNN`. edms maps its file numbers
`{office}/{file type}/{series}/{serial}` onto that form as the two last digits of the series (the
year) followed by the serial zero-padded to six digits: `BG/P/2024/123` is `24000123`, and
`24000123` (or `24/000123`) is `{EDMS_ODP_OFFICE}/{EDMS_ODP_FILE_TYPE}/2024/123`. Only dossiers
of that one file type (patents, `P`, by default), a series from 2000 to 2099 and a serial of at
most six digits have such a number; every other dossier is still reachable by its own file number
(`…/applications/BG/U/2024/1234567/documents`), which a raw HTTP client can send but a USPTO
client library refuses before sending.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Prefetch

from dossier import access, redaction
from dossier.models import (
    Blob,
    Direction,
    Document,
    Dossier,
    Rendition,
    RenditionKind,
    Version,
)
from dossier.numbering import InvalidFileNumber, normalise_key, parse_file_number
from exchange.models import DocumentTypeCrosswalk

# The two forms a USPTO client sends: `24000123` and the series-code form `24/000123`.
_ODP_NUMBER = re.compile(r"^(\d{2})/?(\d{6})$")
_CENTURY = 2000

DIRECTION_CATEGORY = {
    Direction.IN: "INCOMING",
    Direction.OUT: "OUTGOING",
    Direction.INTERNAL: "INTERNAL",
}


# edms's seed document types (shared/DOMAIN.md) with a USPTO document code of the same meaning.
# Types not listed keep their edms code, which the description text names.
def uspto_document_codes() -> dict[str, str]:
    """edms document type code → USPTO document code, as the exchange app's crosswalk maps them
    (seeded for the seed types, editable in the admin). An unmapped type keeps its edms code
    (`uspto_document_code`). One query: read once per answer, not per document."""
    mapped = DocumentTypeCrosswalk.objects.exclude(uspto_code="")
    return dict(mapped.values_list("doc_type_id", "uspto_code"))


def uspto_document_code(edms_code: str, codes: dict[str, str]) -> str:
    """The USPTO document code for an edms document type code in `codes`
    (`uspto_document_codes()`), or the edms code itself."""
    return codes.get(edms_code, edms_code)


def application_number_text(dossier: Dossier) -> str:
    """The number a USPTO client names `dossier` by: `YYNNNNNN` when its file number maps onto
    that form (see the module's docstring), else its edms file number."""
    number = parse_file_number(dossier.key)
    maps = (
        number.file_type == settings.EDMS_ODP_FILE_TYPE
        and (not settings.EDMS_ODP_OFFICE or number.office == settings.EDMS_ODP_OFFICE)
        and _CENTURY <= number.series < _CENTURY + 100
        and number.serial <= 999_999
    )
    if not maps:
        return dossier.key
    return f"{number.series % 100:02d}{number.serial:06d}"


def public_dossier(application_number: str) -> Dossier:
    """The dossier a USPTO-shaped application number (or an edms file number) names, if the
    public may see it; `access.NotFound` otherwise (unknown, unpublished, secret and
    unmapped numbers alike, so that nothing tells them apart)."""
    public = visible_dossiers()
    match = _ODP_NUMBER.match(application_number)
    if match is None:
        try:
            key = normalise_key(application_number)
        except InvalidFileNumber:
            raise access.NotFound("application", application_number) from None
        candidates = public.filter(key=key)
    else:
        year, serial = _CENTURY + int(match[1]), int(match[2])
        suffix = f"/{settings.EDMS_ODP_FILE_TYPE}/{year}/{serial}"
        if settings.EDMS_ODP_OFFICE:
            candidates = public.filter(key=f"{settings.EDMS_ODP_OFFICE}{suffix}")
        else:  # one office per installation: its office code need not be configured
            candidates = public.filter(key__endswith=suffix)
    found = list(candidates[:2])
    if len(found) != 1:  # none, or (offices unconfigured) one in each of two offices
        raise access.NotFound("application", application_number)
    return found[0]


def visible_dossiers():
    return access.visible_dossiers(AnonymousUser())


@dataclass(frozen=True)
class PdfForm:
    """What a PDF download of a document serves: the stored blob, and the form it is (None for
    the original, else the rendition kind, for the audit)."""

    version: Version
    blob: Blob
    rendition: str | None
    filename: str


def pdf_form(document: Document, version: Version) -> PdfForm | None:
    """The PDF the public reads of `version` (renditions loaded): the redacted copy for a
    document it reads only redacted, else the original if it is a PDF, else processing's PDF/A
    or viewing PDF; None if there is none (yet) or the version was expunged."""
    if version.expunged_at is not None:
        return None
    stem = version.filename.rsplit(".", 1)[0] or "document"
    renditions = {rendition.kind: rendition for rendition in version.renditions.all()}
    public = AnonymousUser()
    if redaction.reads_redacted(public, document):
        copy = renditions.get(RenditionKind.REDACTED)
        if copy is None:
            return None
        return PdfForm(version, copy.blob, copy.kind, f"{stem}.redacted.pdf")
    if version.media_type == "application/pdf":
        return PdfForm(version, version.blob, None, f"{stem}.pdf")
    for kind in (RenditionKind.PDFA, RenditionKind.PDF):
        if kind in renditions:
            return PdfForm(version, renditions[kind].blob, kind, f"{stem}.pdf")
    return None


def public_documents(
    dossier: Dossier, *, document_id: str | None = None
) -> list[tuple[Document, Version | None]]:
    """`dossier`'s documents the public sees (or the one of them `document_id` names), oldest
    official date first, each with its latest version (blob and renditions loaded): three
    queries, whatever the number of documents."""
    documents = access.visible_documents(AnonymousUser()).filter(dossier=dossier)
    if document_id is not None:
        try:
            documents = documents.filter(id=uuid.UUID(document_id))
        except ValueError:
            return []
    documents = list(
        redaction.with_redacted_copies(documents)
        .select_related("doc_type", "dossier")
        .order_by(F("official_date").asc(nulls_last=True), "created_at", "id")
    )
    latest = (
        Version.objects.filter(document__in=documents, number=F("document__latest_version"))
        .select_related("blob")
        .prefetch_related(Prefetch("renditions", Rendition.objects.select_related("blob")))
    )
    by_document = {version.document_id: version for version in latest}
    return [(document, by_document.get(document.id)) for document in documents]


def official_date_text(document: Document) -> str | None:
    """`officialDate` as the ODP writes it (`2020-08-31T01:20:29.000-0400`): edms keeps a date,
    so midnight UTC of it; a document without one (e.g. a legacy scan) falls back to the day
    it was filed in edms."""
    day = document.official_date or document.created_at.date()
    moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def document_entry(
    document: Document,
    version: Version | None,
    number_text: str,
    download_uri: str,
    codes: dict[str, str],
) -> dict:
    """One `documentBag` entry. The download's URI is given twice: as `downloadURI`, the field's
    name in the ODP's published data dictionary, and as `downloadUrl`, the name the live ODP
    answers with and USPTO client libraries read."""
    options = []
    form = pdf_form(document, version) if version is not None else None
    if form is not None:
        options.append(
            {
                "mimeTypeIdentifier": "PDF",
                "downloadURI": download_uri,
                "downloadUrl": download_uri,
                "pageTotalQuantity": version.page_count or document.page_count,
            }
        )
    return {
        "applicationNumberText": number_text,
        "officialDate": official_date_text(document),
        "documentIdentifier": str(document.id),
        "documentCode": uspto_document_code(document.doc_type_id, codes),
        "documentCodeDescriptionText": document.doc_type.label("en"),
        "documentDirectionCategory": DIRECTION_CATEGORY.get(document.direction, "INTERNAL"),
        "downloadOptionBag": options,
    }


def document_bag(
    dossier: Dossier,
    download_uri: Callable[[str, Document], str],
    *,
    document_codes: Iterable[str] = (),
    official_date_from: dt.date | None = None,
    official_date_to: dt.date | None = None,
) -> dict:
    """The ODP answer for `dossier` (which the public may see): `count` and `documentBag`,
    filtered as the ODP filters (`documentCodes`, `officialDateFrom`, `officialDateTo`).
    `download_uri(number_text, document)` makes a document's absolute download URI."""
    number_text = application_number_text(dossier)
    wanted = {code.strip() for code in document_codes if code.strip()}
    codes = uspto_document_codes()
    bag = []
    for document, version in public_documents(dossier):
        if wanted and uspto_document_code(document.doc_type_id, codes) not in wanted:
            continue
        day = document.official_date
        if official_date_from and (day is None or day < official_date_from):
            continue
        if official_date_to and (day is None or day > official_date_to):
            continue
        uri = download_uri(number_text, document)
        bag.append(document_entry(document, version, number_text, uri, codes))
    return {"count": len(bag), "documentBag": bag}


def public_pdf(dossier: Dossier, document_identifier: str) -> PdfForm:
    """The PDF form of one public document of `dossier`; `access.NotFound` if the public may not
    see the document (or it is not of that dossier) or it has no PDF form."""
    for document, version in public_documents(dossier, document_id=document_identifier):
        form = pdf_form(document, version) if version is not None else None
        if form is not None:
            form.version.document = document  # for the audit of the download
            return form
    raise access.NotFound("document", document_identifier)
