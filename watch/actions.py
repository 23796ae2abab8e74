"""What a user chooses to be told of: saving and deleting searches, watching and unwatching
dossiers, marking notifications read. The UI's views and the API's call these; each refuses
bad input with a `WatchError` (a `DomainError`: the API answers it as problem+json)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dossier.actions import DomainError
from dossier.models import Dossier
from search import find, querylang
from watch.models import DossierWatch, Notification, SavedSearch
from watch.queries import criteria_of, saved_params


class WatchError(DomainError):
    code = "invalid-watch"


class WatchLimitReached(WatchError):
    code = "watch-limit-reached"


def save_search(owner, *, name: str, params: QueryDict | str) -> SavedSearch:
    """Save the search page's parameters (`q`, `dossier`, dates, facet filters) under `name`.

    The query is checked as the search checks it, so a saved search can always run."""
    name = name.strip()
    if not name:
        raise WatchError(_("Give the saved search a name."), field="name")
    if len(name) > SavedSearch._meta.get_field("name").max_length:
        raise WatchError(_("The name is too long."), field="name")
    stored = saved_params(params)
    if not stored:
        raise WatchError(_("Save a search with a query or a filter."), field="q")
    if len(stored) > SavedSearch._meta.get_field("params").max_length:
        raise WatchError(_("The search is too long to save."), field="params")
    try:
        criteria = criteria_of(stored)
        querylang.parse(criteria.q)
        find.filters_of(criteria)  # a malformed file number in `dossier=`
    except (ValueError, querylang.QuerySyntaxError) as exc:
        raise WatchError(
            _("The query is not valid: %(error)s") % {"error": exc}, field="q"
        ) from exc
    try:
        with transaction.atomic():
            return SavedSearch.objects.create(owner=owner, name=name, params=stored)
    except IntegrityError:
        raise WatchError(
            _("You have a saved search named “%(name)s” already.") % {"name": name}, field="name"
        ) from None


def delete_search(search: SavedSearch) -> None:
    search.delete()


def watch_dossier(owner, dossier: Dossier) -> DossierWatch:
    """Watch `dossier` (the caller checked that `owner` may see it); watching it again is
    harmless. Refused beyond `EDMS_WATCH_MAX_DOSSIERS` dossiers per user."""
    limit = settings.EDMS_WATCH_MAX_DOSSIERS
    with transaction.atomic():
        existing = DossierWatch.objects.filter(owner=owner, dossier=dossier).first()
        if existing is not None:
            return existing
        # Counted in the transaction that adds one; two tabs racing may pass one over.
        if DossierWatch.objects.filter(owner=owner).count() >= limit:
            raise WatchLimitReached(
                ngettext(
                    "You watch %(limit)d dossier, the most one person may: stop watching "
                    "it before watching another.",
                    "You watch %(limit)d dossiers, the most one person may: stop watching "
                    "one before watching another.",
                    limit,
                )
                % {"limit": limit},
                field="dossier",
            )
        return DossierWatch.objects.create(owner=owner, dossier=dossier)


def unwatch_dossier(owner, dossier: Dossier) -> bool:
    """Stop watching `dossier`; whether it was watched."""
    deleted, _rows = DossierWatch.objects.filter(owner=owner, dossier=dossier).delete()
    return bool(deleted)


def mark_read(user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (those in `ids`, or all); how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
