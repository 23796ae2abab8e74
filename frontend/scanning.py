"""The records staff's pages: the digitization dashboard, scan batches, the quality-control queue
and page-by-page checking of a part, and cover-sheet printing.

Reads go through `scanning.qc.visible_parts` (which asks `dossier.access`), and every
change through the same operation table as the API (`scanning.operations`), so the UI and the API
accept the same fields and the domain audits both alike.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseGone, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.exceptions import ValidationError

from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import DocumentType
from dossier.numbering import InvalidFileNumber
from dossier.uploads import staged_from_upload
from frontend.labels import type_labels
from scanning import coversheets, qc, splitting, stats, thumbnails
from scanning.models import OPEN_PART_STATES, BatchState, PartState, ScanBatch, ScanPart
from scanning.operations import OPERATIONS, run_operation

PARTS_PER_PAGE = 25
BATCHES_SHOWN = 50
DASHBOARD_DAYS = (7, 30, 90, 365)
MAX_SHEETS = 1000
# After these a part is closed: the clerk goes on to the batch's next open part.
CLOSING_OPERATIONS = {"approve", "reject"}


def records_staff(view):
    """Only roles that do quality control; anyone else is sent to sign in, or refused."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not access.can_do_quality_control(request.user):
            if request.user.is_authenticated:
                raise PermissionDenied
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return checked


def _part_or_404(user, part_id) -> ScanPart:
    try:
        return qc.get_part_for(user, part_id)
    except access.NotFound:
        raise Http404(_("No such scan part, or you may not see it.")) from None


def _batches_with_counts():
    filed = Q(parts__document__isnull=False) & ~Q(parts__state=PartState.MERGED)
    return ScanBatch.objects.annotate(
        documents=Count("parts", filter=filed),
        unassigned=Count("parts", filter=Q(parts__state=PartState.UNASSIGNED)),
        open_parts=Count("parts", filter=Q(parts__state__in=OPEN_PART_STATES)),
    )


# --- Dashboard and batches ----------------------------------------------------------------------


@require_GET
@records_staff
def dashboard(request):
    """Backlog, throughput per day, station and operator, rates, and the latest batches."""
    raw_days = request.GET.get("days", "30")
    days = int(raw_days) if raw_days.isdecimal() and int(raw_days) in DASHBOARD_DAYS else 30
    return render(
        request,
        "frontend/scanning/dashboard.html",
        {
            "figures": stats.dashboard(days),
            "days": days,
            "day_choices": DASHBOARD_DAYS,
            "batches": _batches_with_counts().order_by("-created_at")[:BATCHES_SHOWN],
            "in_progress": (BatchState.QUEUED, BatchState.SPLITTING),
        },
    )


@require_POST
@records_staff
def submit_batch(request):
    """A scanner's file from the upload form: stored, then split in the background."""
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the scanned file (PDF or TIFF) to submit."))
        return HttpResponseRedirect(reverse("frontend:scanning"))
    try:
        batch = splitting.submit_batch(
            staged_from_upload(upload),
            actor=actor_of(request),
            station=request.POST.get("station", "").strip()[:100],
            drop_blank_pages=request.POST.get("drop_blank_pages") == "on",
            origin="ui",
        )
    except splitting.NotAScan as exc:
        messages.error(request, _("Not a scan batch: %(error)s") % {"error": exc})
        return HttpResponseRedirect(reverse("frontend:scanning"))
    messages.success(request, _("Batch received; it is being split."))
    return HttpResponseRedirect(reverse("frontend:scan-batch", args=[batch.id]))


@require_GET
@records_staff
def batch_detail(request, batch_id):
    batch = _batches_with_counts().filter(id=batch_id).first()
    if batch is None:
        raise Http404(_("No such scan batch."))
    parts = (
        qc.visible_parts(request.user)
        .filter(batch=batch)
        .select_related("document__dossier", "content")
        .order_by("index")
    )
    return render(
        request,
        "frontend/scanning/batch.html",
        {
            "batch": batch,
            "parts": parts,
            "in_progress": batch.state in (BatchState.QUEUED, BatchState.SPLITTING),
            "status_url": reverse("api:scan-batch-detail", args=[batch.id]),
        },
    )


# --- The quality-control queue and one part -----------------------------------------------------


@require_GET
@records_staff
def qc_queue(request):
    """Every part still needing a clerk, oldest batch first, with its first page."""
    parts = (
        qc.open_parts(request.user)
        .select_related("batch", "document__dossier", "content")
        .order_by("batch__created_at", "index")
    )
    wanted = request.GET.get("state", "")
    if wanted in OPEN_PART_STATES:
        parts = parts.filter(state=wanted)
    page = Paginator(parts, PARTS_PER_PAGE).get_page(request.GET.get("page"))
    labels = type_labels()
    set_aside = qc.set_aside_pages({part.batch_id for part in page})
    for part in page:
        part.type_label = labels.get(part.type_code, part.type_code)
        part.set_aside = set_aside.get(part.batch_id, [])
    return render(request, "frontend/scanning/queue.html", {"page": page, "state": wanted})


def _next_open_part(part: ScanPart, user) -> ScanPart | None:
    return (
        qc.open_parts(user)
        .filter(batch_id=part.batch_id)
        .exclude(id=part.id)
        .order_by("index")
        .first()
    )


@require_GET
@records_staff
def part_detail(request, part_id):
    part = _part_or_404(request.user, part_id)
    labels = type_labels()
    siblings = (
        qc.open_parts(request.user)
        .filter(batch_id=part.batch_id)
        .exclude(id=part.id)
        .order_by("index")
    )
    dossier_key = part.document.dossier.display_key if part.document_id else part.dossier_key
    thumb = reverse("frontend:scan-part-page", args=[part.id, 0]).removesuffix("0")
    is_open = part.state in OPEN_PART_STATES and part.batch.state == BatchState.QC
    # Pages expunged since the split: a tombstone, nothing to show; it can only be rejected.
    expunged = qc.content_expunged(part)
    return render(
        request,
        "frontend/scanning/part.html",
        {
            "part": part,
            "batch": part.batch,
            "is_open": is_open,
            "expunged": expunged,
            "set_aside": _set_aside_pages(part) if is_open and not expunged else [],
            "dossier_key": dossier_key,
            "type_label": labels.get(part.type_code, part.type_code),
            "pages": []
            if expunged
            else [
                {"number": n, "thumbnail": f"{thumb}{n}?c={part.content_id}"}
                for n in range(1, part.page_count + 1)
            ],
            "siblings": siblings,
            "type_choices": sorted(labels.items()),
            "content_url": "" if expunged else reverse("api:scan-part-content", args=[part.id]),
            "document_url": (
                reverse("frontend:viewer", args=[part.document_id]) if part.document_id else ""
            ),
        },
    )


def _set_aside_pages(part: ScanPart) -> list[dict]:
    """The batch's pages judged blank, each with its thumbnail, to put back into `part`."""
    blank = qc.blank_part(part.batch_id)
    if blank is None:
        return []
    thumb = reverse("frontend:scan-part-page", args=[blank.id, 0]).removesuffix("0")
    return [
        {"source_page": source, "thumbnail": f"{thumb}{number}?c={blank.content_id}"}
        for number, source in enumerate(blank.source_pages, start=1)
    ]


@require_GET
@records_staff
def part_page(request, part_id, number):
    """A page of the part as a PNG thumbnail. The URL carries the part's content digest, so a
    page changed by a QC operation gets a new URL and the old image can be cached for good."""
    part = _part_or_404(request.user, part_id)
    if not 1 <= number <= part.page_count:
        raise Http404(_("No such page."))
    if qc.content_expunged(part):
        # Never from the cache either: its thumbnails are forgotten with the content.
        return HttpResponseGone(_("The pages of this part were expunged."))
    path = thumbnails.thumbnail_path(part.content_id, number)
    response = FileResponse(open(path, "rb"), content_type="image/png")
    if request.GET.get("c") == part.content_id:
        response["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "private, no-cache"
    return response


def _form_data(request) -> dict:
    """The POSTed fields as the operation serializers expect them (lists stay lists)."""
    data = {key: request.POST.get(key) for key in request.POST if key != "csrfmiddlewaretoken"}
    for key in ("pages", "source_pages"):
        if key in request.POST:
            data[key] = request.POST.getlist(key)
    for key, upload in request.FILES.items():
        data[key] = upload
    for optional in ("official_date", "title"):  # left empty: unchanged
        if data.get(optional) == "":
            data.pop(optional)
    return data


def _error_text(exc: ValidationError) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(
            f"{field}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))}"
            for field, msgs in detail.items()
        )
    return " ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)


@require_POST
@records_staff
def part_operation(request, part_id, operation):
    """One quality-control operation from the part page's forms; back to the part (or on to
    the batch's next open part once this one is decided)."""
    if operation not in OPERATIONS:
        raise Http404(_("No such operation."))
    part = _part_or_404(request.user, part_id)
    here = reverse("frontend:scan-part", args=[part.id])
    try:
        result = run_operation(
            operation, part, _form_data(request), actor=actor_of(request), user=request.user
        )
    except ValidationError as exc:
        messages.error(request, _("Not done: %(error)s") % {"error": _error_text(exc)})
        return HttpResponseRedirect(here)
    except (actions.DomainError, access.NotFound, InvalidFileNumber) as exc:
        messages.error(request, _("Not done: %(error)s") % {"error": exc})
        return HttpResponseRedirect(here)
    messages.success(request, _done_message(operation, result))
    if operation == "split":
        return HttpResponseRedirect(here)
    if operation in CLOSING_OPERATIONS:
        following = _next_open_part(part, request.user)
        if following is not None:
            return HttpResponseRedirect(reverse("frontend:scan-part", args=[following.id]))
        return HttpResponseRedirect(reverse("frontend:scan-batch", args=[part.batch_id]))
    return HttpResponseRedirect(reverse("frontend:scan-part", args=[result.id]))


def _done_message(operation: str, part: ScanPart) -> str:
    values = {"n": part.index + 1, "pages": part.page_count}
    messages_by_operation = {
        "approve": _("Part %(n)s approved: the document is filed."),
        "reject": _("Part %(n)s rejected."),
        "assign": _("Part %(n)s assigned."),
        "split": _("Split: the pages from there on are now part %(n)s."),
        "merge": _("Merged: part %(n)s now has %(pages)s pages."),
        "put-back": _("Put back: part %(n)s now has %(pages)s pages."),
    }
    default = _("Pages changed: part %(n)s has %(pages)s pages.")
    return messages_by_operation.get(operation, default) % values


# --- Cover sheets -------------------------------------------------------------------------------


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@records_staff
def cover_sheets(request):
    """Print cover sheets for one or many dossiers (one file number per line), or separators."""
    labels = type_labels()
    context = {"type_choices": sorted(labels.items()), "form": request.POST, "errors": []}
    if request.method == "GET":
        return render(request, "frontend/scanning/cover_sheets.html", context)
    if "separator" in request.POST:
        count = request.POST.get("separators", "1")
        count = min(int(count), MAX_SHEETS) if count.isdecimal() and int(count) > 0 else 1
        return _pdf([coversheets.separator_sheet() for _ in range(count)], "separator-sheets")
    errors = context["errors"]
    doc_type = DocumentType.objects.filter(code=request.POST.get("type", ""), active=True).first()
    if doc_type is None:
        errors.append(_("Choose a document type."))
    raw_date = request.POST.get("official_date", "").strip()
    official_date = _parse_date(raw_date)
    if raw_date and official_date is None:
        errors.append(_("The official date must be a date (YYYY-MM-DD)."))
    numbers = [line.strip() for line in request.POST.get("dossiers", "").splitlines()]
    numbers = [n for n in numbers if n]
    if not numbers:
        errors.append(_("Enter at least one file number."))
    if len(numbers) > MAX_SHEETS:
        errors.append(_("At most %(n)s sheets at a time.") % {"n": MAX_SHEETS})
    dossiers = []
    for number in numbers[:MAX_SHEETS]:
        try:
            dossiers.append(access.get_dossier_for(request.user, number))
        except (access.NotFound, InvalidFileNumber):
            errors.append(_("No dossier %(number)s, or you may not see it.") % {"number": number})
    if errors:
        return render(request, "frontend/scanning/cover_sheets.html", context, status=400)
    title = request.POST.get("title", "").strip()[:500]
    sheets = [coversheets.cover_sheet(d, doc_type, official_date, title) for d in dossiers]
    return _pdf(sheets, "cover-sheets")


def _pdf(sheets: list, name: str) -> HttpResponse:
    response = HttpResponse(coversheets.sheets_pdf(sheets), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response
