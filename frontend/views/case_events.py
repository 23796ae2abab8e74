"""Recording a legal-status case event from the dossier page (as `POST .../case-events` does in
the API): the registry, or an admin, appends it to the dossier's history."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dossier import access, actions
from dossier.audit import actor_of
from dossier.case_events import CaseEventKind
from frontend.views.visible import dossier_or_404

# The API's limit on a note (CaseEventWriteSerializer), so both doors accept the same text.
NOTE_MAX_LENGTH = 2000


def may_record_case_events(user) -> bool:
    """Who sees the form: the API's check for the same call, so the two never disagree."""
    return access.can_manage_dossiers(user)


def kind_choices() -> list[tuple[str, str]]:
    """The event kinds with their labels in the user's language, for the form's select."""
    return [(value, _(label)) for value, label in CaseEventKind.choices]


@require_POST
def record_case_event(request, key: str) -> HttpResponseRedirect:
    """Record the event the form describes; back to the dossier page with what happened."""
    # The role first, as the API does: a caller without it learns nothing about the dossier.
    if not may_record_case_events(request.user):
        raise PermissionDenied
    dossier = dossier_or_404(request.user, key)
    back = HttpResponseRedirect(
        reverse("frontend:dossier", args=[dossier.display_key]) + "#case-events-title"
    )
    kind = request.POST.get("kind", "")
    try:
        date = dt.date.fromisoformat(request.POST.get("date", "").strip())
    except ValueError:
        messages.error(request, _("Give the date the event took effect (YYYY-MM-DD)."))
        return back
    note = request.POST.get("note", "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        messages.error(
            request,
            _("The note is too long (at most %(limit)d characters).") % {"limit": NOTE_MAX_LENGTH},
        )
        return back
    try:
        event = actions.record_case_event(
            dossier,
            kind=kind,
            date=date,
            wipo_code=request.POST.get("wipo_code", ""),
            note=note,
            actor=actor_of(request),
        )
    except actions.InvalidChange as refusal:
        # The action's reason names the rule (a code's shape, the IP type's standard).
        messages.error(
            request, _("The case event was not recorded: %(reason)s") % {"reason": refusal}
        )
        return back
    messages.success(
        request,
        _("Case event recorded: %(kind)s on %(date)s.")
        % {"kind": _(event.get_kind_display()), "date": event.date.isoformat()},
    )
    return back
