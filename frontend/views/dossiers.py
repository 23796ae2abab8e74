"""Finding dossiers, one dossier's file wrapper (sorted, grouped, filtered), its paper location
and the ZIP of the documents chosen in it."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from annotations import access as annotation_access
from annotations import export as annotation_export
from dossier import access, actions, packages, redaction, zipstream
from dossier.audit import actor_of
from dossier.models import (
    Direction,
    Document,
    IpType,
    Rendition,
    RenditionKind,
    Version,
    Visibility,
)
from dossier.numbering import InvalidFileNumber
from dossier.roles import Role, role_of
from exchange.das import listing as das_listing
from frontend.labels import type_labels
from frontend.views.case_events import kind_choices, may_record_case_events
from frontend.views.visible import dossier_or_404
from frontend.views.watch import is_watching
from ingest.models import Processing, State
from metrics.instruments import counted_zip
from search.criteria import DocumentFilterSerializer

DOSSIERS_PER_PAGE = 50
NIL_UUID = uuid.UUID(int=0)
# Rows of the file wrapper a page shows: a 500-document dossier is five pages, not 1,000 tab
# stops and 330 KiB of HTML (the rows also keep one tab stop between them: dossier.js).
DOCUMENTS_PER_PAGE = 100
# Columns of the file wrapper a user may sort by, and the fields (or annotations) behind them;
# each ends with the filing order so that equal values keep a stable order across pages.
SORTS = {
    "date": ("official_date", "created_at", "id"),
    "type": ("doc_type_id", "official_date", "created_at", "id"),
    "direction": ("direction", "official_date", "created_at", "id"),
    "title": ("title", "official_date", "created_at", "id"),
    # What the column shows: the registry's page count, else the one processing counted.
    "pages": ("pages_shown", "official_date", "created_at", "id"),
    "visibility": ("visibility", "official_date", "created_at", "id"),
    "processing": ("processing_state", "official_date", "created_at", "id"),
}
# What the file wrapper can be grouped by, and the field behind it.
GROUPS = {"type": "doc_type_id", "direction": "direction"}


# --- Finding dossiers ---------------------------------------------------------------------------


@require_GET
def dossier_list(request):
    dossiers = access.visible_dossiers(request.user)
    filters = {name: request.GET.get(name, "").strip() for name in ("ip_type", "status", "year")}
    filters["published"] = request.GET.get("published", "")
    if filters["ip_type"]:
        dossiers = dossiers.filter(ip_type=filters["ip_type"])
    if filters["status"]:
        dossiers = dossiers.filter(status=filters["status"])
    # isdecimal, not isdigit: int() refuses "²"; and dates end at year 9999.
    if filters["year"].isdecimal() and 1 <= int(filters["year"]) <= 9999:
        dossiers = dossiers.filter(filing_date__year=int(filters["year"]))
    today = timezone.localdate()
    if filters["published"] == "yes":
        dossiers = dossiers.filter(published_at__lte=today)
    elif filters["published"] == "no":
        dossiers = dossiers.exclude(published_at__lte=today)
    page = Paginator(dossiers.order_by("key"), DOSSIERS_PER_PAGE).get_page(request.GET.get("page"))
    statuses = (
        access.visible_dossiers(request.user)
        .exclude(status="")
        .order_by("status")
        .values_list("status", flat=True)
        .distinct()
    )
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "frontend/dossier_list.html",
        {
            "page": page,
            "filters": filters,
            "query": urlencode(query),
            "ip_types": IpType.choices,
            "statuses": list(statuses),
            "today": today,
        },
    )


@require_GET
def go_to_dossier(request):
    """Jump to a dossier from any accepted form of its file number."""
    number = request.GET.get("number", "").strip()
    try:
        dossier = access.get_dossier_for(request.user, number)
    except InvalidFileNumber as exc:
        messages.error(request, _("Not a file number: %(error)s") % {"error": exc})
    except access.NotFound:
        messages.error(
            request, _("No dossier %(number)s, or you may not see it.") % {"number": number}
        )
    else:
        return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))
    return HttpResponseRedirect(reverse("frontend:home"))


# --- A dossier and its file wrapper -------------------------------------------------------------


def _latest_processing_state():
    """Each document's latest version's processing state, as a subquery (no N+1)."""
    return Subquery(
        Processing.objects.filter(
            version__document=OuterRef("pk"), version__number=OuterRef("latest_version")
        ).values("state")[:1]
    )


def _latest_version_fact(field: str):
    """A fact processing recorded on each document's latest version, as a subquery (no N+1)."""
    return Subquery(
        Version.objects.filter(document=OuterRef("pk"), number=OuterRef("latest_version")).values(
            field
        )[:1]
    )


def _latest_thumbnail():
    """Whether each document's latest version has a thumbnail, as a subquery (no N+1)."""
    return Exists(
        Rendition.objects.filter(
            version__document=OuterRef("pk"),
            version__number=OuterRef("latest_version"),
            kind=RenditionKind.THUMBNAIL,
        )
    )


def _sort_of(raw: str) -> tuple[str, list]:
    """The sort asked for (a column, `-` before it for descending) and its ordering; rows
    without a value (no date, no page count) come last either way."""
    name = raw.removeprefix("-")
    if name not in SORTS:
        raw, name = "date", "date"
    descending = raw.startswith("-")
    ordering = [
        F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        for field in SORTS[name]
    ]
    return raw, ordering


def wrapper_documents(user, dossier):
    """The dossier's documents `user` sees, with what a file-wrapper row shows (no N+1)."""
    documents = (
        access.visible_documents(user)
        .filter(dossier=dossier)
        .select_related("doc_type")
        .annotate(
            processing_state=_latest_processing_state(),
            detected_pages=_latest_version_fact("page_count"),
            has_thumbnail=_latest_thumbnail(),
        )
        .annotate(pages_shown=Coalesce("page_count", "detected_pages"))
    )
    if role_of(user) == Role.PUBLIC:
        # Whether the public reads a row only redacted (no thumbnail of the original then).
        documents = redaction.with_redacted_copies(documents)
    return documents


def row_context(user) -> dict:
    """What every file-wrapper row needs besides its document (`frontend/wrapper_row.html`):
    the edit link only for those the API lets change documents."""
    return {
        "select_label": _("Select"),
        "cancelled_label": _("Cancelled"),
        "edit_label": _("Edit"),
        "can_change": access.can_change_documents(user),
    }


@require_GET
def dossier_detail(request, key):
    dossier = dossier_or_404(request.user, key)
    documents = wrapper_documents(request.user, dossier)
    filters = DocumentFilterSerializer(data={k: v for k, v in request.GET.items() if v})
    if filters.is_valid():
        documents = filters.apply(documents)
    else:
        messages.error(request, _("Some filters were ignored: they are not valid."))
    sort, ordering = _sort_of(request.GET.get("sort", "date"))
    group = request.GET.get("group", "")
    if group in GROUPS:
        ordering = [GROUPS[group], *ordering]  # rows of a group together, sorted within it
    else:
        group = ""
    labels = type_labels()
    page = Paginator(documents.order_by(*ordering), DOCUMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    prepare_rows(rows, labels, request.user)
    may_see_das = access.can_see_operations(request.user)
    may_annotate = annotation_access.may_annotate(request.user)
    notes = annotation_access.dossier_notes(request.user, dossier) if may_annotate else []
    if len(notes) < annotation_access.DOSSIER_NOTES_SHOWN:
        counts = Counter(note.document_id for note in notes)  # all of them: no query
    else:
        counts = annotation_access.count_by_document(request.user, [r.id for r in rows])
    for document in rows:
        document.note_count = counts.get(document.id, 0)
    for document in rows if group else ():
        document.group_label = document.type_group if group == "type" else document.direction_label
    # Sorting goes back to the first page and keeps the filters; paging keeps both.
    filter_query = {k: v for k, v in request.GET.items() if k not in ("sort", "page") and v}
    return render(
        request,
        "frontend/dossier_detail.html",
        {
            "dossier": dossier,
            "documents": rows,
            "page": page,
            "page_query": urlencode({**filter_query, "sort": sort}),
            "thumbnail_url": reverse(
                "api:version-rendition", args=[NIL_UUID, 1, RenditionKind.THUMBNAIL]
            ),
            # The registry's legal-status history, oldest first ...
            "case_events": dossier.case_events.order_by("date", "recorded_at", "id"),
            # ... and the registry's form to record one (the API's rule for who may).
            "can_record_case_events": may_record_case_events(request.user),
            "case_event_kinds": kind_choices(),
            "sort": sort,
            "sort_columns": _sort_columns(sort),
            "group": group,
            "filters": request.GET,
            "filter_query": urlencode(filter_query),
            "type_choices": sorted(labels.items()),
            "directions": Direction.choices,
            "visibilities": Visibility.choices,
            "can_file": access.can_file_documents(request.user),
            "can_record_paper": _can_record_paper(request.user),
            "can_cancel": access.can_cancel_documents(request.user),
            "watching": is_watching(request.user, dossier),
            # Priority documents registered with or retrieved from WIPO DAS, and their state.
            "das_requests": das_listing.requests_of(dossier) if may_see_das else [],
            "das_configured": bool(settings.EDMS_DAS_URL),
            "can_see_das": may_see_das,
            "today": timezone.localdate(),
            **row_context(request.user),
            # Notes on the documents (yours and shared ones): a count per row and a list.
            "may_annotate": may_annotate,
            "notes": notes,
        },
    )


def _sort_columns(sort: str) -> list[dict]:
    """The file wrapper's column headings: each sorts by its column, the sorted one (marked for
    screen readers with `aria-sort`) the other way round."""
    labels = {
        "date": _("Official date"),
        "type": _("Type"),
        "direction": _("Direction"),
        "title": _("Title"),
        "pages": _("Pages"),
        "visibility": _("Visibility"),
        "processing": _("Processing"),
    }
    columns = []
    for name, label in labels.items():
        order = {name: "ascending", f"-{name}": "descending"}.get(sort, "")
        columns.append(
            {"label": label, "order": order, "next": f"-{name}" if sort == name else name}
        )
    return columns


def _can_record_paper(user) -> bool:
    return access.can_do_quality_control(user) or access.can_manage_dossiers(user)


@require_POST
def paper_location(request, key):
    """Where the dossier's paper file is now (records staff keep it current while scanning)."""
    if not _can_record_paper(request.user):
        raise PermissionDenied
    dossier = dossier_or_404(request.user, key)
    location = request.POST.get("paper_location", "").strip()[:200]
    actions.upsert_dossier(dossier.key, {"paper_location": location}, actor=actor_of(request))
    messages.success(request, _("Paper location recorded."))
    return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))


def prepare_rows(rows: list, labels: dict[str, str], user) -> None:
    """Everything a file-wrapper row shows, translated once per value rather than per row:
    a 500-row page spends its time in the template, so rows carry plain strings."""
    directions = {value: _(label) for value, label in Direction.choices}
    visibilities = {value: _(label) for value, label in Visibility.choices}
    states = {value: _(value) for value in State.values}
    viewer_base = reverse("frontend:viewer", args=[NIL_UUID]).removesuffix(str(NIL_UUID))
    for document in rows:
        document.type_label = labels.get(document.doc_type_id, document.doc_type_id)
        document.state_code = document.processing_state or State.PENDING
        document.state_label = states.get(document.state_code, document.state_code)
        document.direction_label = directions.get(document.direction, document.direction)
        document.visibility_label = visibilities.get(document.visibility, document.visibility)
        document.viewer_url = f"{viewer_base}{document.id}"
        document.type_group = f"{document.doc_type_id} — {document.type_label}"
        document.display_title = document.title or document.type_label
        # The registry's page count if it sent one, else what ingestion counted.
        document.pages = document.pages_shown
        # Processing's thumbnail shows the original: never to a reader of the redacted copy.
        document.thumbnail = document.has_thumbnail and not redaction.reads_redacted(user, document)


@require_POST
def download_zip(request, key):
    """The selected documents' latest versions as one ZIP, streamed; each download audited.

    The selection follows the export's rules (`dossier.packages`): no cancelled document, no
    scan held for quality control; content missing from storage is listed in `MISSING.txt`.
    """
    dossier = dossier_or_404(request.user, key)
    wanted = Document.objects.filter(id__in=selected_ids(request))
    chosen = packages.select_documents(request.user, dossier, wanted)
    versions, redacted = packages.redacted_for(
        request.user, packages.select_versions(chosen.active)
    )
    if not versions:
        messages.error(request, _("Select at least one document to download."))
        return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))
    members = list(_members(versions, redacted))
    gone = packages.missing_content(m.sha256 for m in members)
    actor = actor_of(request)
    for version, member in zip(versions, members, strict=True):
        if member.sha256 not in gone:
            copy = redacted.get(version.id)
            actions.record_download(version, actor=actor, rendition=copy.kind if copy else None)
    extra = []
    if request.POST.get("annotations") and annotation_access.may_annotate(request.user):
        # Only when asked: the notes the user may read on the versions in the ZIP.
        notes = annotation_export.annotations_of(request.user, versions)
        body = annotation_export.annotations_json(dossier.display_key, notes)
        extra.append(zipstream.Member.of_bytes(annotation_export.FILENAME, body, timezone.now()))
    archive = zipstream.stream_zip([*extra, *_zip_members(members, gone)])
    response = StreamingHttpResponse(counted_zip(archive), content_type="application/zip")
    filename = f"{dossier.display_key.replace('/', '-')}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _members(versions: list[Version], redacted: dict):
    """Each version's original, or its redacted copy for a reader who reads it only redacted."""
    for version, member in zip(versions, zipstream.version_members(versions), strict=True):
        copy = redacted.get(version.id)
        if copy is None:
            yield member
        else:
            yield zipstream.Member(
                name=f"{member.name.rsplit('.', 1)[0]}.redacted.pdf",
                modified=member.modified,
                sha256=copy.blob_id,
                size=copy.blob.size,
            )


def _zip_members(members: list[zipstream.Member], gone: set[str]):
    missing = [m for m in members if m.sha256 in gone]
    yield from (m for m in members if m.sha256 not in gone)
    if missing:
        lines = [f"{m.name}\tsha256:{m.sha256}\t{m.size} bytes" for m in missing]
        text = "Missing from storage or damaged, not in this ZIP:\n" + "\n".join(lines) + "\n"
        yield zipstream.Member.of_bytes("MISSING.txt", text.encode(), timezone.now())


def selected_ids(request) -> list[str]:
    """The ids of the documents ticked in the file wrapper's form (the rest ignored)."""
    pattern = re.compile(r"^[0-9a-fA-F-]{32,36}$")
    return [v for v in request.POST.getlist("document") if pattern.match(v)]
