"""Saved searches, watched dossiers and notifications in the UI: saving a search from the
search page, the watch button of a dossier, and the notifications page (which also lists what
the user saved and watches). The rules are `watch.actions`'; these views only ask and show."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dossier.models import Dossier
from frontend.views.visible import dossier_or_404
from watch import actions
from watch.inbox import notifications_for, unread_count
from watch.models import DossierWatch, SavedSearch
from watch.queries import describe
from watch.wording import display_key, headline, link

# The newest notifications the page shows; older ones stay stored (and counted as unread).
PAGE_SIZE = 100


def is_watching(user, dossier: Dossier) -> bool:
    if not user.is_authenticated:
        return False
    return DossierWatch.objects.filter(owner=user, dossier=dossier).exists()


@login_required
@require_POST
def save_search(request):
    """Save the search whose parameters the search page posts (`params`) under `name`."""
    params = request.POST.get("params", "")
    back = f"{reverse('frontend:search')}?{params}" if params else reverse("frontend:search")
    try:
        saved = actions.save_search(request.user, name=request.POST.get("name", ""), params=params)
    except actions.WatchError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Search saved as “%(name)s”: you will be told of new documents it finds.")
            % {"name": saved.name},
        )
    return HttpResponseRedirect(back)


@login_required
@require_POST
def delete_search(request, search_id: int):
    saved = get_object_or_404(SavedSearch, pk=search_id, owner=request.user)
    actions.delete_search(saved)
    messages.success(request, _("Saved search “%(name)s” deleted.") % {"name": saved.name})
    return HttpResponseRedirect(reverse("frontend:notifications"))


@login_required
@require_POST
def watch_dossier(request, key):
    """Watch (or, with `stop`, stop watching) a dossier the user may see."""
    dossier = dossier_or_404(request.user, key)
    if request.POST.get("stop"):
        actions.unwatch_dossier(request.user, dossier)
        messages.success(request, _("You no longer watch this dossier."))
    else:
        try:
            actions.watch_dossier(request.user, dossier)
        except actions.WatchError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("You watch this dossier: you will be told of changes."))
    return _back(request, reverse("frontend:dossier", args=[dossier.display_key]))


@login_required
@require_POST
def mark_read(request):
    """Mark one notification read (`notification`), or all of them."""
    raw = request.POST.get("notification", "")
    ids = [int(raw)] if raw.isdigit() else None
    actions.mark_read(request.user, ids)
    return HttpResponseRedirect(reverse("frontend:notifications"))


@login_required
@require_POST
def open_notification(request, notification_id: int):
    """Mark a notification read and open what it is about."""
    notification = get_object_or_404(notifications_for(request.user), pk=notification_id)
    actions.mark_read(request.user, [notification.pk])
    return HttpResponseRedirect(link(notification))


@login_required
@require_GET
def notifications(request):
    rows = list(notifications_for(request.user).select_related("saved_search")[:PAGE_SIZE])
    for row in rows:
        row.text = headline(row)
    searches = list(SavedSearch.objects.filter(owner=request.user))
    for saved in searches:
        saved.summary = describe(saved.params)
        saved.url = f"{reverse('frontend:search')}?{saved.params}"
    watches = list(DossierWatch.objects.filter(owner=request.user).select_related("dossier"))
    for watch in watches:
        watch.display_key = display_key(watch.dossier.key)
    return render(
        request,
        "frontend/notifications.html",
        {
            "notifications": rows,
            "unread": unread_count(request.user),
            "saved_searches": searches,
            "watches": watches,
        },
    )


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)
