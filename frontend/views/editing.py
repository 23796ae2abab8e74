"""Changing a document from the UI, as the API's `PATCH /documents/{id}` and
`POST /documents/{id}/versions` do: the same role checks (`dossier.access`, checked first, so a
caller without the role learns nothing about the document), the same actions (audited), and a
refusal shown as a message with nothing changed.

Every form is a plain POST with its CSRF token (the viewer's side panel) answered by a redirect
with a message; the dossier page enhances the same forms (`dossier.js`: inline edit, a file
dropped on a row) by posting them with `Accept: application/json`, and gets the message and the
file-wrapper row drawn anew (`wrapper_row.html`), so the row changes without a reload.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dossier import access, actions
from dossier.audit import actor_of
from dossier.models import Document, DocumentType, Visibility
from dossier.numbering import InvalidFileNumber
from dossier.uploads import staged_from_upload
from frontend.labels import type_labels
from frontend.views.dossiers import prepare_rows, row_context, wrapper_documents
from frontend.views.visible import document_or_404

# The API's limit on a title (DocumentPatchSerializer), so both doors accept the same text.
TITLE_MAX_LENGTH = 500
REASON_MAX_LENGTH = 2000
# What the edit form may change; the rest of the metadata stays the registry's (API only).
EDITABLE = ("type", "official_date", "title", "visibility")


class Refused(Exception):
    """Input the form cannot take; its message is shown, nothing is changed."""


# --- Answers: a redirect with a message, or JSON with the row drawn anew ----------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request, document: Document) -> HttpResponseRedirect:
    """Where the form came from (`next`, if it is ours), else the document's viewer."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("frontend:viewer", args=[document.id])
    return HttpResponseRedirect(target)


def _refused(request, document: Document, message: str, status: int = 400) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"message": message}, status=status)
    messages.error(request, message)
    return _back(request, document)


def _done(request, document: Document, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"message": message, "row": row_html(request, document)})
    messages.success(request, message)
    return _back(request, document)


def row_html(request, document: Document) -> str:
    """The document's file-wrapper row as its dossier page draws it; empty if the caller no
    longer sees it there (moved away, or hidden)."""
    rows = list(wrapper_documents(request.user, document.dossier).filter(id=document.id))
    if not rows:
        return ""
    prepare_rows(rows, type_labels(), request.user)
    return render_to_string(
        "frontend/wrapper_row.html",
        {"document": rows[0], **row_context(request.user)},
        request=request,
    )


def _domain_message(error: actions.DomainError) -> str:
    if isinstance(error, actions.DocumentCancelledError):
        return _("The document is cancelled; it cannot be changed.")
    return _("Refused: %(reason)s") % {"reason": error}


# --- The forms --------------------------------------------------------------------------------


def _changes_from(form) -> dict:
    """The metadata changes a form asks for (only the fields it sent), validated as the API
    validates them."""
    changes = {}
    if "type" in form:
        code = form["type"].strip().upper()
        found = DocumentType.objects.filter(code=code, active=True).first()
        if found is None:
            raise Refused(_("Unknown document type %(code)s.") % {"code": code})
        changes["doc_type"] = found
    if "official_date" in form:
        raw = form["official_date"].strip()
        try:
            changes["official_date"] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise Refused(_("Not a date: %(value)s (use YYYY-MM-DD).") % {"value": raw}) from None
    if "title" in form:
        title = form["title"].strip()
        if len(title) > TITLE_MAX_LENGTH:
            raise Refused(
                _("The title is too long (at most %(limit)d characters).")
                % {"limit": TITLE_MAX_LENGTH}
            )
        changes["title"] = title
    if "visibility" in form:
        if form["visibility"] not in Visibility.values:
            raise Refused(_("Unknown visibility."))
        changes["visibility"] = form["visibility"]
    return changes


@require_POST
def edit_document(request, document_id) -> HttpResponse:
    """Change the document's type, official date, title or visibility."""
    if not access.can_change_documents(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    try:
        changes = _changes_from(request.POST)
    except Refused as refusal:
        return _refused(request, document, str(refusal))
    if not changes:
        return _refused(request, document, _("Nothing to change."))
    revision = document.revision
    try:
        document = actions.update_document(document, changes, actor=actor_of(request))
    except actions.DomainError as error:
        return _refused(request, document, _domain_message(error), status=409)
    if document.revision == revision:
        return _done(request, document, _("Nothing was changed."))
    return _done(request, document, _("Document changed."))


@require_POST
def move_document(request, document_id) -> HttpResponse:
    """Move the document to another dossier (by its file number)."""
    if not access.can_change_documents(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    number = request.POST.get("dossier", "").strip()
    try:
        target = access.get_dossier_for(request.user, number)
    except InvalidFileNumber as error:
        return _refused(request, document, _("Not a file number: %(error)s") % {"error": error})
    except access.NotFound:
        return _refused(
            request,
            document,
            _("No dossier %(number)s, or you may not see it.") % {"number": number},
        )
    if target.pk == document.dossier_id:
        return _refused(request, document, _("The document is already in this dossier."))
    try:
        document = actions.update_document(document, {"dossier": target}, actor=actor_of(request))
    except actions.DomainError as error:
        return _refused(request, document, _domain_message(error), status=409)
    message = _("Moved to %(number)s.") % {"number": target.display_key}
    if _wants_json(request):
        # The row leaves this dossier's file wrapper.
        return JsonResponse({"message": message, "row": ""})
    messages.success(request, message)
    return HttpResponseRedirect(reverse("frontend:viewer", args=[document.id]))


@require_POST
def cancel_document(request, document_id) -> HttpResponse:
    """Cancel the document with a reason: it stays as a tombstone."""
    if not access.can_cancel_documents(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        return _refused(request, document, _("Give a reason to cancel the document."))
    if len(reason) > REASON_MAX_LENGTH:
        return _refused(
            request,
            document,
            _("The reason is too long (at most %(limit)d characters).")
            % {"limit": REASON_MAX_LENGTH},
        )
    try:
        document = actions.cancel_document(document, reason=reason, actor=actor_of(request))
    except actions.DomainError as error:
        return _refused(request, document, _domain_message(error), status=409)
    return _done(request, document, _("Document cancelled."))


@require_POST
def add_version(request, document_id) -> HttpResponse:
    """Add the uploaded `file` as the document's next version."""
    if not access.can_file_documents(request.user):
        raise PermissionDenied
    document = document_or_404(request.user, document_id)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _refused(request, document, _("Choose a file."))
    try:
        version = actions.add_version(
            document, staged_from_upload(uploaded), actor=actor_of(request)
        )
    except actions.DomainError as error:
        return _refused(request, document, _domain_message(error), status=409)
    document.refresh_from_db()
    return _done(request, document, _("Version %(number)d added.") % {"number": version.number})


@require_GET
def document_row(request, document_id) -> HttpResponse:
    """The document's file-wrapper row, for the dossier page to add it without a reload once
    an upload is filed."""
    document = document_or_404(request.user, document_id)
    return HttpResponse(row_html(request, document))
