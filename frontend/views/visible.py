"""The dossier or document a page is about, if the caller may see it; else a 404 that does not
tell a missing one from a hidden one."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from dossier import access
from dossier.models import Document, Dossier
from dossier.numbering import InvalidFileNumber


def dossier_or_404(user, key: str) -> Dossier:
    try:
        return access.get_dossier_for(user, key)
    except (access.NotFound, InvalidFileNumber):
        raise Http404(_("No dossier %(key)s, or you may not see it.") % {"key": key}) from None


def document_or_404(user, document_id) -> Document:
    try:
        return access.get_document_for(user, document_id)
    except access.NotFound:
        raise Http404(_("No such document, or you may not see it.")) from None
