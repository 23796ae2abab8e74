"""The pages of the web UI. Each reads through `dossier.access` and writes through
`dossier.actions`, exactly as the API does; no view decides a permission on its own.

What processing found (detected media type, pages, renditions) is read from the version's facts
in `dossier`; `ingest` is read only to show how its processing is going (state, reason, queues)
and to ask for it again — presentation may read ingest's run state, nothing else does."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dossier import access, actions, packages, zipstream
from dossier.audit import actor_of
from dossier.lanes import Lane
from dossier.models import Direction, Document, DocumentType, Dossier, IpType, Version, Visibility
from dossier.numbering import InvalidFileNumber
from ingest import pipeline
from ingest.models import Processing, Stage, State
from operations import broker
from search import documents as search_documents
from search import find, indexer
from search.backends import SearchUnavailable
from search.criteria import DocumentFilterSerializer, SearchParamsSerializer
from search.models import IndexedDocument
from search.querylang import QuerySyntaxError

DOSSIERS_PER_PAGE = 50
NIL_UUID = uuid.UUID(int=0)
# Columns of the file wrapper a user may sort by, and the model fields behind them.
SORTS = {
    "date": ("official_date", "created_at"),
    "type": ("doc_type_id", "official_date"),
    "direction": ("direction", "official_date"),
    "title": ("title", "official_date"),
    "pages": ("page_count", "official_date"),
}
# What the file wrapper can be grouped by, and the field behind it.
GROUPS = {"type": "doc_type_id", "direction": "direction"}
# Not SVG: it can carry scripts, and is shown as its extracted text instead.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"}


def ui_language() -> str:
    """The UI language's base code (`fr` for `fr-ca`), the key of `DocumentType.labels`."""
    return (get_language() or "en").split("-")[0]


def type_labels() -> dict[str, str]:
    """Every document type's label in the UI language (one query)."""
    language = ui_language()
    return {t.code: t.label(language) for t in DocumentType.objects.all()}


def _dossier_or_404(user, key: str) -> Dossier:
    try:
        return access.get_dossier_for(user, key)
    except (access.NotFound, InvalidFileNumber):
        raise Http404(_("No dossier %(key)s, or you may not see it.") % {"key": key}) from None


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


def _sort_of(raw: str) -> tuple[str, list[str]]:
    name = raw.removeprefix("-")
    if name not in SORTS:
        return "date", list(SORTS["date"])
    descending = raw.startswith("-")
    return raw, [f"-{f}" if descending else f for f in SORTS[name]]


@require_GET
def dossier_detail(request, key):
    dossier = _dossier_or_404(request.user, key)
    documents = (
        access.visible_documents(request.user)
        .filter(dossier=dossier)
        .select_related("doc_type")
        .annotate(
            processing_state=_latest_processing_state(),
            detected_pages=_latest_version_fact("page_count"),
        )
    )
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
    rows = list(documents.order_by(*ordering))
    _prepare_rows(rows, labels)
    for document in rows if group else ():
        document.group_label = document.type_group if group == "type" else document.direction_label
    filter_query = {k: v for k, v in request.GET.items() if k != "sort" and v}
    return render(
        request,
        "frontend/dossier_detail.html",
        {
            "dossier": dossier,
            "documents": rows,
            "sort": sort,
            "group": group,
            "filters": request.GET,
            "filter_query": urlencode(filter_query),
            "type_choices": sorted(labels.items()),
            "directions": Direction.choices,
            "visibilities": Visibility.choices,
            "can_file": access.can_file_documents(request.user),
            "can_record_paper": _can_record_paper(request.user),
            "select_label": _("Select"),
            "cancelled_label": _("Cancelled"),
            "today": timezone.localdate(),
        },
    )


def _can_record_paper(user) -> bool:
    return access.can_do_quality_control(user) or access.can_manage_dossiers(user)


@require_POST
def paper_location(request, key):
    """Where the dossier's paper file is now (records staff keep it current while scanning)."""
    if not _can_record_paper(request.user):
        raise PermissionDenied
    dossier = _dossier_or_404(request.user, key)
    location = request.POST.get("paper_location", "").strip()[:200]
    actions.upsert_dossier(dossier.key, {"paper_location": location}, actor=actor_of(request))
    messages.success(request, _("Paper location recorded."))
    return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))


def _prepare_rows(rows: list, labels: dict[str, str]) -> None:
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
        document.date_text = document.official_date.isoformat() if document.official_date else "—"
        # The registry's page count if it sent one, else what ingestion counted.
        document.pages = document.page_count or document.detected_pages


@require_POST
def download_zip(request, key):
    """The selected documents' latest versions as one ZIP, streamed; each download audited.

    The selection follows the export's rules (`dossier.packages`): no cancelled document, no
    scan held for quality control; content missing from storage is listed in `MISSING.txt`.
    """
    dossier = _dossier_or_404(request.user, key)
    wanted = Document.objects.filter(id__in=_uuids(request.POST.getlist("document")))
    chosen = packages.select_documents(request.user, dossier, wanted)
    versions = packages.select_versions(chosen.active)
    if not versions:
        messages.error(request, _("Select at least one document to download."))
        return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))
    gone = packages.missing_content(v.blob_id for v in versions)
    actor = actor_of(request)
    for version in versions:
        if version.blob_id not in gone:
            actions.record_download(version, actor=actor)
    archive = zipstream.stream_zip(_zip_members(versions, gone))
    response = StreamingHttpResponse(archive, content_type="application/zip")
    filename = f"{dossier.display_key.replace('/', '-')}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _zip_members(versions: list[Version], gone: set[str]):
    members = list(zipstream.version_members(versions))
    missing = [m for m in members if m.sha256 in gone]
    yield from (m for m in members if m.sha256 not in gone)
    if missing:
        lines = [f"{m.name}\tsha256:{m.sha256}\t{m.size} bytes" for m in missing]
        text = "Missing from storage, not in this ZIP:\n" + "\n".join(lines) + "\n"
        yield zipstream.Member.of_bytes("MISSING.txt", text.encode(), timezone.now())


def _uuids(values: list[str]) -> list[str]:
    pattern = re.compile(r"^[0-9a-fA-F-]{32,36}$")
    return [v for v in values if pattern.match(v)]


# --- The viewer ---------------------------------------------------------------------------------


def viewer_kind(media_type: str) -> str:
    """How the browser shows a version: pdf.js, an <img> (raster images only: an SVG is a
    document that can run script), or its extracted text."""
    if media_type == "application/pdf":
        return "pdf"
    if media_type in IMAGE_TYPES:
        return "image"
    return "text"


def _rendition_to_show(kind: str, renditions: dict) -> str | None:
    """Which rendition the viewer shows instead of the original, if any."""
    if "pdfa" in renditions:
        return "pdfa"
    if kind == "text" and "pdf" in renditions:
        return "pdf"
    return None


@require_GET
def viewer(request, document_id):
    try:
        document = access.get_document_for(request.user, document_id)
    except access.NotFound:
        raise Http404(_("No such document, or you may not see it.")) from None
    versions = list(
        Version.objects.filter(document=document)
        .select_related("blob", "created_by", "processing")
        .order_by("-number")
    )
    if not versions:
        raise Http404(_("The document has no content yet."))
    wanted = request.GET.get("version", "")
    current = next((v for v in versions if str(v.number) == wanted), versions[0])
    processing = getattr(current, "processing", None)
    media_type = current.detected_media_type or current.media_type
    content_url = reverse("api:version-content", args=[document.id, current.number])
    renditions = {r.kind: r for r in current.renditions.all()}
    kind = viewer_kind(media_type)
    # Only a PDF or a raster image is loaded inline; anything else (HTML, SVG, XML, ...) is
    # shown as its extracted text and never loaded from the content URL at all.
    shown_url = f"{content_url}?disposition=inline" if kind != "text" else ""
    shown = _rendition_to_show(kind, renditions)
    if shown is not None:
        # A scan's PDF/A carries the OCR text layer (find, search highlights); an office
        # document is shown as its PDF rendition. The original stays the download.
        kind = "pdf"
        shown_url = reverse("api:version-rendition", args=[document.id, current.number, shown])
    page = request.GET.get("page", "")
    return render(
        request,
        "frontend/viewer.html",
        {
            "document": document,
            "dossier": document.dossier,
            "type_label": document.doc_type.label(ui_language()),
            "versions": versions,
            "current": current,
            "processing": processing,
            "pages": document.page_count or current.page_count,
            "kind": kind,
            "media_type": media_type,
            "content_url": content_url,
            "inline_url": shown_url,
            "renditions": [
                (
                    r.kind,
                    reverse("api:version-rendition", args=[document.id, current.number, r.kind]),
                )
                for r in renditions.values()
            ],
            "renditions_pending": processing is not None
            and processing.renditions_state in (State.PENDING, State.RUNNING),
            "text_url": reverse("api:version-text", args=[document.id, current.number]),
            "document_url": reverse("api:document-detail", args=[document.id]),
            "page": int(page) if page.isdecimal() and int(page) > 0 else 1,
            "terms": request.GET.get("hl", "") or request.GET.get("q", ""),
        },
    )


@require_GET
def document_state(request, document_id):
    """What the upload form polls: the latest version's processing state, and whether the
    search index holds the document as it is now (`searchable`)."""
    try:
        document = access.get_document_for(request.user, document_id)
    except access.NotFound:
        raise Http404(_("No such document, or you may not see it.")) from None
    latest = (
        Version.objects.filter(document=document, number=document.latest_version)
        .select_related("processing")
        .first()
    )
    processing = getattr(latest, "processing", None)
    state = processing.state if processing else State.PENDING
    searchable = False
    if state == State.DONE:
        source = search_documents.Source(document, latest)
        searchable = IndexedDocument.objects.filter(
            document_id=document.id, stamp=source.stamp
        ).exists()
    shown = "searchable" if searchable else state
    return JsonResponse({"state": state, "searchable": searchable, "label": _(shown)})


# --- Search -------------------------------------------------------------------------------------


def _marked_terms(snippets: list[str]) -> str:
    """The words the engine highlighted, to find them again in the pdf.js text layer."""
    words = []
    for snippet in snippets:
        for word in re.findall(r"<mark>(.*?)</mark>", snippet):
            if word.lower() not in (w.lower() for w in words):
                words.append(word)
    return " ".join(words)


def _hit_link(hit: dict, query: str) -> str:
    params = {"version": hit["version"]} if hit.get("version") else {}
    pages = [p for p in hit.get("pages") or [] if p]
    if pages:
        params["page"] = pages[0]
    terms = _marked_terms(hit.get("snippets") or [])
    if terms or query:
        params["hl"] = terms or query
    url = reverse("frontend:viewer", args=[hit["document"]])
    return f"{url}?{urlencode(params)}" if params else url


def _facet_links(request, facets: dict, labels: dict[str, str]) -> list[dict]:
    """Each facet value as a link that toggles it as a filter; counts from the engine."""
    names = {
        "ip_type": _("IP type"),
        "type": _("Document type"),
        "direction": _("Direction"),
        "year": _("Year"),
        "language": _("Language"),
        "status": _("Status"),
    }
    value_labels = {
        "ip_type": dict(IpType.choices),
        "type": labels,
        "direction": dict(Direction.choices),
    }
    groups = []
    for name, values in facets.items():
        chosen = set(request.GET.getlist(name))
        items = []
        for entry in values:
            value = str(entry["value"])
            params = request.GET.copy()
            params.pop("page", None)
            current = params.getlist(name)
            params.setlist(name, [v for v in current if v != value] or [])
            if value not in chosen:
                params.appendlist(name, value)
            label = value_labels.get(name, {}).get(value, value)
            items.append(
                {
                    "value": value,
                    "label": f"{value} — {label}" if name == "type" else label,
                    "count": entry["count"],
                    "selected": value in chosen,
                    "url": f"?{params.urlencode()}",
                }
            )
        if items:
            groups.append({"name": names.get(name, name), "items": items})
    return groups


@require_GET
def search(request):
    """The same search as `GET /api/v1/search`: the same parameters, the same function."""
    context = {
        "q": request.GET.get("q", ""),
        "dossier": request.GET.get("dossier", ""),
        # Facet filters chosen so far stay on when the query is changed.
        "kept_filters": [
            (name, request.GET.getlist(name))
            for name in SearchParamsSerializer.LIST_PARAMS
            if request.GET.getlist(name)
        ],
    }
    params = SearchParamsSerializer(data=request.GET)
    if not params.is_valid():
        context["error"] = _("Some search parameters are not valid.")
        return render(request, "frontend/search.html", context)
    searched = bool(request.GET)
    if searched:
        criteria = find.Criteria(
            **params.validated_data, **SearchParamsSerializer.list_values(request.GET)
        )
        try:
            result = find.find_documents(request.user, criteria)
        except QuerySyntaxError as exc:
            context["error"] = _("The query is not valid: %(error)s") % {"error": exc}
        except SearchUnavailable:
            context["error"] = _("Search is unavailable at the moment; try again later.")
        else:
            labels = type_labels()
            for hit in result["results"]:
                hit["link"] = _hit_link(hit, criteria.q)
                hit["type_label"] = labels.get(hit["type"], hit["type"])
            context |= {
                "result": result,
                "facets": _facet_links(request, result["facets"], labels),
                "pages": _page_links(request, result),
            }
    context["searched"] = searched
    return render(request, "frontend/search.html", context)


def _page_links(request, result: dict) -> dict:
    last = max((result["count"] - 1) // result["page_size"] + 1, 1)

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    page = result["page"]
    return {
        "number": page,
        "last": last,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }


# --- Operations: the ingestion pipeline for records staff and admins ----------------------------

FAILED_SHOWN = 100


@require_GET
def operations(request):
    """Processing queue by state, index lag, failed versions with their reasons (and retry)."""
    if not access.can_see_operations(request.user):
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.get_full_path())
    readable = access.visible_documents(request.user)
    counts = dict(
        Processing.objects.filter(version__document__in=readable)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    states = {value: _(value) for value in State.values}
    # What waits on each pipeline queue: versions whose next stage is that queue's.
    waiting = dict(
        Processing.objects.filter(
            version__document__in=readable, state__in=[State.PENDING, State.RUNNING]
        )
        .values_list("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    failed = list(
        Processing.objects.filter(state=State.FAILED, version__document__in=readable)
        .select_related("version__document__dossier", "version__document__doc_type")
        .order_by("-finished_at")[:FAILED_SHOWN]
    )
    return render(
        request,
        "frontend/operations.html",
        {
            "counts": [(states[s], s, counts.get(s, 0)) for s in State.values],
            "queues": [(stage.value, waiting.get(stage.value, 0)) for stage in Stage],
            "lag": indexer.lag(),
            "failed": failed,
            "can_retry": access.can_change_documents(request.user),
            "broker": broker.broker_state(),
        },
    )


@require_POST
def retry_processing(request, document_id, number):
    """Run the pipeline on a version again (as `POST .../reprocess` does in the API)."""
    if not access.can_change_documents(request.user):
        raise PermissionDenied
    try:
        document = access.get_document_for(request.user, document_id)
    except access.NotFound:
        raise Http404(_("No such document, or you may not see it.")) from None
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Http404(_("No such version."))
    try:
        # Reprocessing is bulk work: it never delays what people are filing now.
        pipeline.request_processing(version, again=True, lane=Lane.BULK)
    except pipeline.AlreadyRunning:
        messages.error(request, _("This version is being processed right now."))
    else:
        messages.success(request, _("Processing queued again."))
    return HttpResponseRedirect(reverse("frontend:operations"))
