"""Expunging from the viewer (as `POST /api/v1/documents/{id}/expunge` does in the API): one
version, or the whole document, removed for good on a court order or an erasure request. Only
administrators see the forms; the reason and the reference are required, and so is ticking the
box that says the content cannot be brought back (the confirm step, which needs no script)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import Document, Version
from frontend.views.versions import viewer_url
from frontend.views.visible import document_or_404

# The API's limits (ExpungeSerializer), so both doors accept the same text.
REASON_MAX_LENGTH = 2000
REFERENCE_MAX_LENGTH = 200
# The value of the box ticked to confirm.
CONFIRMED = "yes"


def may_expunge(user) -> bool:
    """Who sees the forms: the API's check for the same call, so the two never disagree."""
    return access.can_expunge(user)


@require_POST
def expunge_version(request, document_id, number: int) -> HttpResponseRedirect:
    """Expunge version `number`; back to it, now a tombstone, or with why it was refused."""
    if not may_expunge(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    if not Version.objects.filter(document=document, number=number).exists():
        raise Http404(_("No such version."))
    return _expunge(request, document, [number], back=viewer_url(document.id, number))


@require_POST
def expunge_document(request, document_id) -> HttpResponseRedirect:
    """Expunge every version of the document; back to the viewer, showing the tombstones."""
    # The role first, as the API does: a caller without it learns nothing about the document.
    if not may_expunge(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    return _expunge(request, document, None, back=reverse("frontend:viewer", args=[document.id]))


def _expunge(
    request, document: Document, versions: list[int] | None, *, back: str
) -> HttpResponseRedirect:
    redirect = HttpResponseRedirect(back)
    reason = request.POST.get("reason", "").strip()
    reference = request.POST.get("reference", "").strip()
    if problem := _refusal(reason, reference, request.POST.get("confirm", "")):
        messages.error(request, problem)
        return redirect
    try:
        expunged = actions.expunge_document(
            document, reason=reason, reference=reference, versions=versions, actor=actor_of(request)
        )
    except (actions.InvalidChange, actions.LegalHoldActive) as exc:
        # A legal hold names itself (reference, who placed it): shown as the API's 409 says it.
        messages.error(request, str(exc))
        return redirect
    if not expunged:
        messages.info(request, _("Nothing to expunge: the content is expunged already."))
    else:
        count = len(expunged)
        messages.success(
            request,
            ngettext("Version %(numbers)s expunged.", "Versions %(numbers)s expunged.", count)
            % {"numbers": ", ".join(str(v.number) for v in expunged)},
        )
    return redirect


def _refusal(reason: str, reference: str, confirm: str) -> str:
    """Why the form is refused as sent, in the user's language; empty if it is not."""
    if not reason:
        return _("Give the reason the content is expunged.")
    if len(reason) > REASON_MAX_LENGTH:
        return _("The reason is too long (at most %(limit)d characters).") % {
            "limit": REASON_MAX_LENGTH
        }
    if not reference:
        return _("Give the reference of the court order, decision or request.")
    if len(reference) > REFERENCE_MAX_LENGTH:
        return _("The reference is too long (at most %(limit)d characters).") % {
            "limit": REFERENCE_MAX_LENGTH
        }
    if confirm != CONFIRMED:
        return _("Confirm that the content is to be removed for good.")
    return ""
