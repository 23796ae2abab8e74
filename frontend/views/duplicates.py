"""The review list of near-duplicate flags for records staff (`similarity.near_duplicates`):
which documents are probably re-filings of which, side by side, marked reviewed or not a
duplicate. Nothing about the documents changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from similarity import near_duplicates
from similarity.duplicate_models import DuplicateStatus

SHOWN = 200


def _require_reviewer(request):
    if not near_duplicates.can_review(request.user):
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.get_full_path())
    return None


@require_GET
def duplicates(request):
    """Flags in one status (open by default), newest first, among documents the reader may
    read."""
    if (refused := _require_reviewer(request)) is not None:
        return refused
    status = request.GET.get("status", DuplicateStatus.OPEN)
    if status not in DuplicateStatus.values:
        status = DuplicateStatus.OPEN
    flags = (
        near_duplicates.visible_flags(request.user)
        .filter(status=status)
        .select_related(
            "document__dossier",
            "document__doc_type",
            "original__dossier",
            "original__doc_type",
            "version",
            "original_version",
            "reviewed_by",
        )
        .order_by("-created_at", "-id")[:SHOWN]
    )
    return render(
        request,
        "frontend/duplicates.html",
        {"flags": flags, "status": status, "statuses": DuplicateStatus.choices},
    )


@require_POST
def review_duplicate(request, flag_id):
    if (refused := _require_reviewer(request)) is not None:
        return refused
    flag = near_duplicates.visible_flags(request.user).filter(pk=flag_id).first()
    if flag is None:
        raise Http404(_("No such near-duplicate flag."))
    status = request.POST.get("status", "")
    if status not in DuplicateStatus.values:
        raise Http404(_("No such review status."))
    near_duplicates.review_flag(flag, status, user=request.user)
    messages.success(request, _("Review recorded."))
    return HttpResponseRedirect(reverse("frontend:duplicates"))
