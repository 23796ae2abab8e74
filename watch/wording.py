"""What a notification says and where it leads, in the reader's language (UI and e-mail)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from dossier.models import EventKind
from dossier.numbering import InvalidFileNumber, parse_file_number
from watch.models import Notification, Reason


def display_key(key: str) -> str:
    try:
        return parse_file_number(key).display
    except InvalidFileNumber:
        return key


def headline(notification: Notification) -> str:
    """One line: what happened, in which dossier (and for which saved search)."""
    dossier = display_key(notification.dossier_key)
    if notification.reason == Reason.SEARCH_MATCH:
        name = notification.saved_search.name if notification.saved_search else ""
        return _("A new document in %(dossier)s matches your saved search “%(name)s”.") % {
            "dossier": dossier,
            "name": name,
        }
    texts = {
        EventKind.DOCUMENT_REGISTERED: _("A new document was filed in %(dossier)s."),
        EventKind.VERSION_ADDED: _("A new version of a document was added in %(dossier)s."),
        EventKind.DOCUMENT_CANCELLED: _("A document was cancelled in %(dossier)s."),
        EventKind.CASE_EVENT: _("A case event was recorded in %(dossier)s."),
    }
    text = texts.get(notification.kind, _("The dossier %(dossier)s changed."))
    return text % {"dossier": dossier}


def link(notification: Notification) -> str:
    """The page to open: the document in the viewer, else the dossier (a path, no host).

    Written out rather than `reverse`d: the e-mail task runs in a Celery worker, which never
    imports the URLconf (see `edms.celery`); `tests/frontend/test_ui_watch.py` checks that the
    paths are the UI's."""
    if notification.document_id:
        return f"/documents/{notification.document_id}"
    return f"/dossiers/{display_key(notification.dossier_key)}"
