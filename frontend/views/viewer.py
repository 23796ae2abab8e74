"""The viewer (pdf.js, an image, or the extracted text) and the processing state the upload
form polls."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from annotations.access import may_annotate
from annotations.actions import HIGHLIGHT_PALETTE
from dossier import access, redaction
from dossier.models import DocumentState, TextQuality, Version, Visibility
from frontend.labels import rendition_label, type_labels, ui_language
from frontend.views.expunge import REASON_MAX_LENGTH, REFERENCE_MAX_LENGTH, may_expunge
from frontend.views.page_image import (
    page_image_sources,
    shown_pdf,
    shown_rendition,
    viewer_kind,
)
from frontend.views.versions import may_restore_versions
from frontend.views.visible import document_or_404
from ingest import reasons
from ingest.models import State
from search import documents as search_documents
from search.models import IndexedDocument

NIL_UUID = uuid.UUID(int=0)


@require_GET
def viewer(request, document_id):
    document = document_or_404(request.user, document_id)
    versions = list(
        Version.objects.filter(document=document)
        .select_related("blob", "created_by", "expunged_by", "processing")
        .order_by("-number")
    )
    if not versions:
        raise Http404(_("The document has no content yet."))
    _link_previous(versions)
    wanted = request.GET.get("version", "")
    # Unless one is asked for, the newest version whose content is still there.
    live = [v for v in versions if v.expunged_at is None]
    current = next((v for v in versions if str(v.number) == wanted), (live or versions)[0])
    processing = getattr(current, "processing", None)
    media_type = current.detected_media_type or current.media_type
    content_url = reverse("api:version-content", args=[document.id, current.number])
    only_redacted = redaction.reads_redacted(request.user, document)
    # The public reading the redacted copy (the content URL serves it) is never pointed at a
    # rendition of the original.
    listed = redaction.renditions_shown(current.renditions.all(), only_redacted=only_redacted)
    renditions = {r.kind: r for r in listed}
    kind = "pdf" if only_redacted else viewer_kind(media_type)
    if current.expunged_at is not None:
        # A tombstone: nothing of its content is loaded, not even its text.
        kind, renditions = "expunged", {}
    elif current.blob.is_corrupt and not only_redacted:
        # Its content failed its integrity check (`dossier.fixity`): say so plainly rather
        # than load what the content URL refuses (503) until it is repaired.
        kind, renditions = "corrupt", {}
    # Only a PDF or a raster image is loaded inline; anything else (HTML, SVG, XML, ...) is
    # shown as its extracted text and never loaded from the content URL at all.
    shown_url = f"{content_url}?disposition=inline" if kind in ("pdf", "image") else ""
    shown = shown_rendition(kind, renditions)
    if shown is not None:
        # A scan's PDF/A carries the OCR text layer (find, search highlights); an office
        # document is shown as its PDF rendition. The original stays the download.
        kind = "pdf"
        shown_url = reverse("api:version-rendition", args=[document.id, current.number, shown])
    page = request.GET.get("page", "")
    page = int(page) if page.isdecimal() and int(page) > 0 else 1
    first_paint = _first_paint(request.user, document, current, page) if kind == "pdf" else None
    failed = processing is not None and processing.state == State.FAILED
    cancelled = document.state in (DocumentState.CANCELLED, DocumentState.QC_REJECTED)

    # Notes go on the pages pdf.js shows; the public never sees or writes one.
    annotated = kind == "pdf" and may_annotate(request.user)
    return render(
        request,
        "frontend/viewer.html",
        {
            "document": document,
            "dossier": document.dossier,
            "type_label": document.doc_type.label(ui_language()),
            "versions": versions,
            "current": current,
            # Cancelled documents still show it: the refusal then says why.
            "can_restore": may_restore_versions(request.user),
            # Edit in place: the API's rules for each change; a cancelled document is frozen.
            "can_change": access.can_change_documents(request.user) and not cancelled,
            "can_cancel": access.can_cancel_documents(request.user) and not cancelled,
            "can_add_version": access.can_file_documents(request.user) and not cancelled,
            "type_choices": sorted(type_labels().items()) if not cancelled else [],
            "visibilities": Visibility.choices,
            "can_expunge": may_expunge(request.user),
            "expunge_limits": {"reason": REASON_MAX_LENGTH, "reference": REFERENCE_MAX_LENGTH},
            # The public learns that and when a version was expunged, never who did it, why,
            # or on what authority (as in the API's tombstone).
            "sees_expunge_details": access.sees_expunge_details(request.user),
            "all_expunged": not live,
            "processing": processing,
            # A failed version says why and what to do where it would be shown.
            "failed": failed,
            "failure_action": reasons.translated_action(processing.reason_code) if failed else "",
            "text_missing": _text_missing(processing),
            "pages": document.page_count or current.page_count,
            "kind": kind,
            "media_type": media_type,
            "content_url": content_url,
            "inline_url": shown_url,
            "renditions": [
                (
                    rendition_label(r.kind),
                    reverse("api:version-rendition", args=[document.id, current.number, r.kind]),
                )
                for r in renditions.values()
            ],
            "renditions_pending": kind not in ("expunged", "corrupt")
            and processing is not None
            and processing.renditions_state in (State.PENDING, State.RUNNING),
            "text_url": reverse("api:version-text", args=[document.id, current.number]),
            "document_url": reverse("api:document-detail", args=[document.id]),
            # Asked for when the reader opens the panel (frontend/similar.js), not with the page.
            "similar_url": reverse("api:document-similar", args=[document.id]),
            "viewer_base": reverse("frontend:viewer", args=[NIL_UUID]).removesuffix(str(NIL_UUID)),
            "page": page,
            # The page it opens on as an image, painted before pdf.js has drawn it.
            "first_paint": first_paint,
            "terms": request.GET.get("hl", "") or request.GET.get("q", ""),
            "annotations_url": reverse(
                "api:version-annotations", args=[document.id, current.number]
            )
            if annotated
            else "",
            "highlight_palette": HIGHLIGHT_PALETTE.items(),
            "annotation_base": reverse("api:annotation-detail", args=[NIL_UUID]).removesuffix(
                str(NIL_UUID)
            ),
        },
    )


def _first_paint(user, document, version: Version, page: int) -> dict | None:
    """The `src` and `srcset` of the image of `page` of the PDF shown (None: none is shown, or
    one too small for an image to be quicker than pdf.js)."""
    source = shown_pdf(user, document, version)
    if source is None or source.size < settings.EDMS_PAGE_IMAGE_MIN_BYTES:
        return None
    base = reverse("frontend:page-image", args=[document.id, version.number, page])
    return page_image_sources(base, source)


def _link_previous(versions: list[Version]) -> None:
    """Give each version (newest first) the number of the one it can be compared with: the
    version before it whose content is still there (`previous_number`, None if none)."""
    previous = None
    for version in reversed(versions):
        version.previous_number = previous
        if version.expunged_at is None:
            previous = version.number


def _text_missing(processing) -> str:
    """What the text view says when a version has no text (a failed one says why instead)."""
    if processing is None or processing.state in (State.PENDING, State.RUNNING):
        return _("Not read yet: its text appears here once processing is done.")
    return _("No text was found in this file.")


@require_GET
def document_state(request, document_id):
    """What the upload form polls: the latest version's processing state, whether the search
    index holds the document as it is now (`searchable`), and once done, a text-quality warning's
    reason (`quality_warning`: what is wrong with the text, or why there is none); once failed,
    why, in the user's language (`reason`)."""
    document = document_or_404(request.user, document_id)
    latest = (
        Version.objects.filter(document=document, number=document.latest_version)
        .select_related("processing")
        .first()
    )
    processing = getattr(latest, "processing", None)
    state = processing.state if processing else State.PENDING
    searchable = False
    if state == State.DONE:
        source = search_documents.Source(document, latest)
        searchable = IndexedDocument.objects.filter(
            document_id=document.id, stamp=source.stamp
        ).exists()
    shown = "searchable" if searchable else state
    answer = {"state": state, "searchable": searchable, "label": _(shown)}
    if state == State.DONE and latest.quality == TextQuality.WARNING:
        answer["quality_warning"] = latest.quality_reason
    if state == State.FAILED and processing.reason:
        answer["reason"] = processing.translated_reason
    return JsonResponse(answer)
