"""Restoring an older version from the viewer (as `POST .../versions/{n}/restore` does in the
API): its content becomes the document's next version, with the reason the examiner gave."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import Version
from frontend.views.visible import document_or_404

# The API's limit on a reason (VersionRestoreSerializer), so both doors accept the same text.
REASON_MAX_LENGTH = 2000


def may_restore_versions(user) -> bool:
    """Who sees the button: the API's check for the same call, so the two never disagree."""
    return access.can_file_documents(user)


def viewer_url(document_id, number: int) -> str:
    return f"{reverse('frontend:viewer', args=[document_id])}?version={number}"


@require_POST
def restore_version(request, document_id, number: int) -> HttpResponseRedirect:
    """Restore version `number`; on success show the new version, else the old one with why."""
    # The role first, as the API does: a caller without it learns nothing about the document.
    if not may_restore_versions(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    version = Version.objects.filter(document=document, number=number).first()
    if version is None:
        raise Http404(_("No such version."))
    back = HttpResponseRedirect(viewer_url(document.id, number))
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give a reason to restore a version."))
        return back
    if len(reason) > REASON_MAX_LENGTH:
        messages.error(
            request,
            _("The reason is too long (at most %(limit)d characters).")
            % {"limit": REASON_MAX_LENGTH},
        )
        return back
    try:
        restored = actions.restore_version(version, reason=reason, actor=actor_of(request))
    except actions.DocumentCancelledError:
        messages.error(request, _("The document is cancelled; it takes no new versions."))
        return back
    except actions.ContentExpunged:
        messages.error(request, _("This version was expunged; it cannot be restored."))
        return back
    messages.success(
        request,
        _("Version %(old)d restored as version %(new)d.")
        % {"old": version.number, "new": restored.number},
    )
    return HttpResponseRedirect(viewer_url(document.id, restored.number))
