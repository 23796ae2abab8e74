"""Operations: the ingestion pipeline for records staff and admins (queues, index lag, failed
versions) and asking for a version's processing again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dossier import access
from dossier.fixity_pass import last_passes
from dossier.lanes import Lane
from dossier.models import Blob, Version
from exchange.das import listing as das_listing
from frontend.views.visible import document_or_404
from ingest import pipeline
from ingest.models import Processing, Stage, State
from operations import broker
from search import indexer
from similarity import near_duplicates
from similarity.duplicate_models import DuplicateStatus

FAILED_SHOWN = 100
CORRUPT_SHOWN = 100


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
        # An expunged version's failure is moot: there is nothing left to process.
        Processing.objects.filter(
            state=State.FAILED, version__document__in=readable, version__expunged_at__isnull=True
        )
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
            "fixity_pass": next(iter(last_passes(1)), None),
            "corrupt": corrupt_contents(readable),
            "das_requests": das_listing.needing_attention(access.visible_dossiers(request.user)),
            "open_duplicates": near_duplicates.visible_flags(request.user)
            .filter(status=DuplicateStatus.OPEN)
            .count(),
            "can_review_duplicates": near_duplicates.can_review(request.user),
        },
    )


def corrupt_contents(readable) -> list[tuple[Blob, list[Version]]]:
    """Content marked corrupt (oldest first), each with the versions the reader may see whose
    content it is; a blob of no such version (a rendition, a scan) is listed without them."""
    blobs = list(
        Blob.objects.filter(corrupt_since__isnull=False, expunged_at__isnull=True).order_by(
            "corrupt_since"
        )[:CORRUPT_SHOWN]
    )
    uses: dict[str, list[Version]] = {}
    for version in (
        Version.objects.filter(blob__in=blobs, document__in=readable, expunged_at__isnull=True)
        .select_related("document__dossier")
        .order_by("document_id", "number")
    ):
        uses.setdefault(version.blob_id, []).append(version)
    return [(blob, uses.get(blob.sha256, [])) for blob in blobs]


@require_POST
def retry_processing(request, document_id, number):
    """Run the pipeline on a version again (as `POST .../reprocess` does in the API)."""
    if not access.can_change_documents(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Http404(_("No such version."))
    if version.expunged_at is not None:
        messages.error(request, _("This version was expunged; there is nothing to process."))
        return HttpResponseRedirect(reverse("frontend:operations"))
    try:
        # Reprocessing is bulk work: it never delays what people are filing now.
        pipeline.request_processing(version, again=True, lane=Lane.BULK)
    except pipeline.AlreadyRunning:
        messages.error(request, _("This version is being processed right now."))
    else:
        messages.success(request, _("Processing queued again."))
    return HttpResponseRedirect(reverse("frontend:operations"))
