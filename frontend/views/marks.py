"""Similar marks for people: drop or choose an image, see the marks and designs most like it
beside it (`similarity.marks`, the same search as `POST /api/v1/marks/similar`). The upload is
decoded in the sandbox (`ingest.uploaded_images`); the page reads only the PNG made of it."""

from __future__ import annotations

import base64
import io
import re

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dossier import vienna
from dossier.models import IpType
from ingest import uploaded_images
from similarity import marks

SHOWN = 30
PREVIEW_SIDE = 320


@require_http_methods(["GET", "POST"])
def similar_marks(request):
    """GET: the form. POST (multipart `image`, optional `ip_type` and `vienna`, codes or
    prefixes separated by commas): the matches beside it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = {"ip_types": [(IpType.TRADEMARK, _("Trademark")), (IpType.DESIGN, _("Design"))]}
    if request.method == "POST":
        context.update(_search(request))
    return render(
        request, "frontend/similar_marks.html", context, status=context.get("status", 200)
    )


def _search(request) -> dict:
    image = request.FILES.get("image")
    ip_type = request.POST.get("ip_type", "")
    typed = request.POST.get("vienna", "")
    try:
        prefixes = vienna.clean_prefixes(code for code in re.split(r"[\s,;]+", typed) if code)
    except vienna.InvalidViennaCode:
        return {
            "error": _("Vienna codes are written 26, 26.01 or 26.01.03."),
            "status": 400,
            "vienna": typed,
        }
    if image is None:
        return {"error": _("Choose an image first."), "status": 400}
    if image.size > settings.EDMS_MARK_QUERY_MAX_BYTES:
        return {"error": _("The image is too large."), "status": 413}
    try:
        png = uploaded_images.bounded_png(image)
        query = marks.query_features(png)
    except uploaded_images.UnreadableImage as refused:
        if refused.too_large:
            message = _("The image has too many pixels to be compared (at most 40 megapixels).")
        else:
            message = _("This file is not an image that can be compared.")
        return {"error": message, "status": 400}
    except marks.BadImage:
        return {"error": _("The image is blank: there is no figure to compare."), "status": 400}
    preview = _preview(png)
    found = marks.similar_marks(
        query,
        request.user,
        limit=SHOWN,
        ip_types=[ip_type] if ip_type in (IpType.TRADEMARK, IpType.DESIGN) else [],
        vienna_prefixes=prefixes,
    )
    return {"preview": preview, "found": found, "ip_type": ip_type, "vienna": ", ".join(prefixes)}


def _preview(png: bytes) -> str:
    """The query as a small PNG data URL, shown beside the matches (nothing is stored)."""
    from PIL import Image  # here: the web server keeps no image library loaded until asked

    with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
        small = image.convert("RGB")
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    small.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
