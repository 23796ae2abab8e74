"""Comparing two versions of a document, or two documents (amended claims against the previous
claims): their extracted texts side by side, words deleted and inserted page by page
(`frontend.compare`), and their first pages with a difference image.

The reader must be allowed to read both (`access.get_document_for`, a 404 otherwise, as
everywhere), and reads each side as it would read it alone: the public, for a document it reads
only redacted (`redaction.reads_redacted`), compares the texts of the redacted copies and is
shown no image of the original's pages. Each text read is audited as a download of that text,
as the API's text endpoint does.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dossier import access, actions, blobstore, redaction
from dossier.audit import actor_of
from dossier.blob_interface import BlobMissing
from dossier.models import Document, Rendition, RenditionKind, Version
from frontend import compare
from frontend.labels import ui_language
from frontend.views.dossiers import selected_ids
from frontend.views.viewer import viewer_kind
from frontend.views.visible import document_or_404, dossier_or_404

# The most of each text read (UTF-8 bytes): a larger one is compared up to there, and says so.
MAX_TEXT_BYTES = 4 * 1024 * 1024
# The most of a first-page image read for the difference image (thumbnails are a few kB).
MAX_IMAGE_BYTES = 8 * 1024 * 1024


@dataclass
class Side:
    """One side of the comparison: a version of a document as its reader reads it."""

    document: Document
    version: Version | None  # None: the document has no such version
    redacted: bool  # the reader reads the redacted copy's text, and sees no page image
    text: str | None = None  # None: nothing to compare (`note` says why)
    note: str = ""

    @property
    def versions(self) -> list[Version]:
        return list(self.document.versions.order_by("-number"))


@require_GET
def compare_view(request, document_id):
    """`?a=&b=`: versions a (left) and b (right) of the document (b: the newest with content,
    a: the one before b). `?other=<document id>&a=&b=`: version a of this document against
    version b of the other (each by default its newest)."""
    document = document_or_404(request.user, document_id)
    left, right = _sides(request, document)
    context = {
        "document": document,
        "dossier": document.dossier,
        "type_label": document.doc_type.label(ui_language()),
        "left": left,
        "right": right,
        "other": right.document if right.document != document else None,
        "diff": None,
        "images": None,
    }
    if left.version is None or right.version is None:
        return render(request, "frontend/compare.html", context)
    for side in (left, right):
        _read_text(request, side)
    if left.text is not None and right.text is not None:
        context["diff"] = compare.diff_texts(left.text, right.text)
    context["images"] = _image_urls(left, right)
    context["pdf_urls"] = _pdf_urls(left, right)
    return render(request, "frontend/compare.html", context)


@require_GET
def difference_image(request, document_id):
    """A PNG of where the two sides' first pages differ (white where they agree), made from
    their thumbnails with Pillow; 404 if either has none the reader may see."""
    from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

    document = document_or_404(request.user, document_id)
    left, right = _sides(request, document)
    thumbnails = [_thumbnail(side) for side in (left, right)]
    if None in thumbnails:
        raise Http404(_("No first-page image to compare."))
    images = []
    try:
        for thumbnail in thumbnails:
            data = b"".join(blobstore.read_chunks(thumbnail.blob_id, 0, MAX_IMAGE_BYTES - 1))
            images.append(Image.open(io.BytesIO(data)).convert("RGB"))
    except (BlobMissing, UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Http404(_("No first-page image to compare.")) from None
    first, second = images
    if second.size != first.size:
        second = second.resize(first.size, Image.Resampling.LANCZOS)
    difference = ImageOps.invert(ImageChops.difference(first, second))
    actor = actor_of(request)
    for side in (left, right):
        actions.record_download(side.version, actor=actor, rendition=RenditionKind.THUMBNAIL)
    out = io.BytesIO()
    difference.save(out, format="PNG", optimize=True)
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
def compare_selected(request, key):
    """The file wrapper's "Compare the two selected": the older of the two ticked documents
    (by official date) on the left."""
    dossier = dossier_or_404(request.user, key)
    chosen = list(
        access.visible_documents(request.user)
        .filter(dossier=dossier, id__in=selected_ids(request))
        .order_by("official_date", "created_at")
    )
    if len(chosen) != 2:
        messages.error(request, _("Select exactly two documents to compare."))
        return HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))
    older, newer = chosen
    url = reverse("frontend:compare", args=[older.id])
    return HttpResponseRedirect(f"{url}?other={newer.id}")


def _sides(request, document: Document) -> tuple[Side, Side]:
    """The two sides the query names (see `compare_view`); a 404 for another document the
    reader may not read, or a version number the document does not have."""
    wanted_a, wanted_b = request.GET.get("a", ""), request.GET.get("b", "")
    other_id = request.GET.get("other", "")
    if other_id:
        try:
            other = document_or_404(request.user, uuid.UUID(other_id))
        except ValueError:
            raise Http404(_("No such document, or you may not see it.")) from None
        return (
            _side(request.user, document, _version(document, wanted_a)),
            _side(request.user, other, _version(other, wanted_b)),
        )
    newer = _version(document, wanted_b)
    before = newer.number if newer is not None else None
    older = _version(document, wanted_a, before=before)
    return _side(request.user, document, older), _side(request.user, document, newer)


def _side(user, document: Document, version: Version | None) -> Side:
    return Side(document, version, redacted=redaction.reads_redacted(user, document))


def _version(document: Document, wanted: str, *, before: int | None = None) -> Version | None:
    """Version `wanted` of the document (404 if it has none such); without one, its newest
    whose content is still there (below `before` if given), or None."""
    versions = Version.objects.filter(document=document).select_related("document__dossier")
    if wanted:
        version = versions.filter(number=int(wanted)).first() if wanted.isdecimal() else None
        if version is None:
            raise Http404(_("No such version."))
        return version
    live = versions.filter(expunged_at__isnull=True)
    if before is not None:
        live = live.filter(number__lt=before)
    return live.order_by("-number").first()


def _read_text(request, side: Side) -> None:
    """Fill in the side's text as its reader may read it (or a note on why there is none),
    and audit the reading."""
    version = side.version
    if version.expunged_at is not None:
        side.note = _("This version was expunged; its text is gone.")
        return
    if side.redacted:
        copy = redaction.redacted(version, RenditionKind.REDACTED_TEXT)
        if copy is None:
            side.note = _("This version is published only as a redacted copy, and has none.")
            return
        sha256, read_as = copy.blob_id, RenditionKind.REDACTED_TEXT
    elif version.text_id is None:
        side.note = _("This version has no extracted text (yet).")
        return
    else:
        sha256, read_as = version.text_id, "text"
    try:
        data = b"".join(blobstore.read_chunks(sha256, 0, MAX_TEXT_BYTES - 1))
    except BlobMissing:
        side.note = _("The text of this version cannot be read from storage.")
        return
    side.text = data.decode("utf-8", "replace")
    if len(data) >= MAX_TEXT_BYTES:
        side.note = _("The text is long: only its first %(size)s are compared.") % {
            "size": f"{MAX_TEXT_BYTES // (1024 * 1024)} MB"
        }
    actions.record_download(version, actor=actor_of(request), rendition=read_as)


def _pdf_url(side: Side) -> str | None:
    """The PDF the viewer would show for the side (its PDF/A, the original PDF, or an office
    document's PDF; the redacted copy for one who reads redacted), or None."""
    version = side.version
    if version is None or version.expunged_at is not None:
        return None
    kinds = set(Rendition.objects.filter(version=version).values_list("kind", flat=True))
    args = [side.document.id, version.number]
    if side.redacted:
        if RenditionKind.REDACTED not in kinds:
            return None
        return reverse("api:version-rendition", args=[*args, RenditionKind.REDACTED])
    if RenditionKind.PDFA in kinds:
        return reverse("api:version-rendition", args=[*args, RenditionKind.PDFA])
    if viewer_kind(version.detected_media_type or version.media_type) == "pdf":
        return f"{reverse('api:version-content', args=args)}?disposition=inline"
    if RenditionKind.PDF in kinds:
        return reverse("api:version-rendition", args=[*args, RenditionKind.PDF])
    return None


def _pdf_urls(left: Side, right: Side) -> dict | None:
    """Both sides' PDFs for the page-by-page visual compare (drawn by pdf.js in the browser),
    when both have one."""
    urls = {"left": _pdf_url(left), "right": _pdf_url(right)}
    return urls if None not in urls.values() else None


def _thumbnail(side: Side) -> Rendition | None:
    """The side's first-page image, if its reader may see it (not one who reads redacted:
    it shows the original)."""
    if side.version is None or side.redacted or side.version.expunged_at is not None:
        return None
    return Rendition.objects.filter(version=side.version, kind=RenditionKind.THUMBNAIL).first()


def _image_urls(left: Side, right: Side) -> dict | None:
    """The first-page images of both sides and their difference image, when both have one."""
    if _thumbnail(left) is None or _thumbnail(right) is None:
        return None
    return {
        "left": reverse(
            "api:version-rendition", args=[left.document.id, left.version.number, "thumbnail"]
        ),
        "right": reverse(
            "api:version-rendition", args=[right.document.id, right.version.number, "thumbnail"]
        ),
        "difference": f"{reverse('frontend:compare-difference', args=[left.document.id])}"
        f"?{compare_query(left, right)}",
    }


def compare_query(left: Side, right: Side) -> str:
    """The query naming both sides' versions (and the other document, if any)."""
    query = QueryDict(mutable=True)
    if right.document != left.document:
        query["other"] = str(right.document.id)
    query["a"], query["b"] = str(left.version.number), str(right.version.number)
    return query.urlencode()
