"""The image of one page of the PDF the viewer shows, painted before pdf.js has drawn the page
(issue 16, point 2): rendered in the sandbox and kept by `ingest.page_images`.

The reader is shown the image of the PDF they would be shown, with the same rules: the
redacted copy's page to the public of a redacted document (never the original's), the PDF/A of
a scan, the PDF of an office document, a PDF itself; nothing of an expunged version (410)."""

from __future__ import annotations

from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseGone,
    HttpResponseNotModified,
)
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dossier import actions, redaction
from dossier.audit import actor_of
from dossier.models import Blob, Document, Rendition, RenditionKind, Version
from frontend.views.visible import document_or_404
from ingest import page_images

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"}
# How long a browser keeps an image whose URL names its content (`?v=`): for good.
IMMUTABLE = "private, max-age=31536000, immutable"


def viewer_kind(media_type: str) -> str:
    """How the browser shows a version: pdf.js, an <img> (raster images only: an SVG is a
    document that can run script), or its extracted text."""
    if media_type == "application/pdf":
        return "pdf"
    if media_type in IMAGE_TYPES:
        return "image"
    return "text"


def shown_rendition(kind: str, renditions: dict[str, Rendition]) -> str | None:
    """Which rendition the viewer shows instead of the original, if any: a scan's PDF/A (it
    carries the OCR text layer), an office document's PDF."""
    if RenditionKind.PDFA in renditions:
        return RenditionKind.PDFA
    if kind == "text" and RenditionKind.PDF in renditions:
        return RenditionKind.PDF
    return None


def shown_pdf(user, document: Document, version: Version) -> Blob | None:
    """The PDF the viewer shows `user` for `version` (not expunged), as the viewer chooses it;
    None if it shows no PDF (an image, a text) or none the user may read."""
    if redaction.reads_redacted(user, document):
        copy = redaction.redacted(version)
        return copy.blob if copy is not None else None
    renditions = {r.kind: r for r in version.renditions.select_related("blob")}
    kind = viewer_kind(version.detected_media_type or version.media_type)
    shown = shown_rendition(kind, renditions)
    if shown is not None:
        return renditions[shown].blob
    return version.blob if kind == "pdf" else None


def etag(blob: Blob, page: int, width: int) -> str:
    return f'"{blob.sha256[:32]}-{page}-{width}"'


@require_GET
def page_image(request, document_id, number: int, page: int):
    """Page `page` of the PDF the viewer shows the reader for version `number`, as a WebP
    (`?width=`: one of `ingest.page_images.WIDTHS`, the next larger served). Cached by the
    browser for good when the URL names the content (`?v=`, as the viewer links it), else
    revalidated by its ETag."""
    document = document_or_404(request.user, document_id)
    version = (
        Version.objects.select_related("blob", "document__dossier")
        .filter(document=document, number=number)
        .first()
    )
    if version is None:
        raise Http404(_("The document has no such version."))
    if version.expunged_at is not None:
        # Never from the cache either: its images are forgotten with the content.
        return HttpResponseGone(_("This version was expunged: its content is gone for good."))
    source = shown_pdf(request.user, document, version)
    if source is None:
        raise Http404(_("This version is not shown as a PDF."))
    if source.is_corrupt:
        # Before the ETag: an image of content that failed its integrity check is neither
        # served from the cache nor confirmed (no 304) until the content is repaired.
        return content_corrupt_response()
    asked = request.GET.get("width", "")
    width = page_images.allowed_width(int(asked) if asked.isdecimal() else None)
    tag = etag(source, page, width)
    immutable = request.GET.get("v") == source.sha256[:16]
    caching = IMMUTABLE if immutable else "private, no-cache"
    if tag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            path = page_images.page_image(source.sha256, page, width)
        except page_images.NoPageImage as exc:
            raise Http404(str(exc)) from None
        response = FileResponse(open(path, "rb"), content_type=page_images.MEDIA_TYPE)
        # Seeing a page is reading the document: audited like the PDF it is an image of.
        actions.record_download(version, actor=actor_of(request), rendition="page-image")
    response["ETag"] = tag
    response["Cache-Control"] = caching
    response["X-Content-Type-Options"] = "nosniff"
    return response


def content_corrupt_response() -> HttpResponse:
    """A plain 503 naming the damage (the UI's counterpart of the API's problem)."""
    response = HttpResponse(
        _(
            "The stored content failed its integrity check. It is shown again once an "
            "operator restores it or the same file is uploaded again."
        ),
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


def page_image_sources(base: str, source: Blob) -> dict[str, str]:
    """The viewer's `src` and `srcset` for a page's image: `base` (this view's URL for the
    page) at the default and at each offered width, naming the content so that the browser
    keeps it for good."""
    named = f"{base}?v={source.sha256[:16]}"
    return {
        "src": f"{named}&width={page_images.allowed_width(None)}",
        "srcset": ", ".join(f"{named}&width={width} {width}w" for width in page_images.WIDTHS),
    }
