"""`/favicon.ico`: what browsers ask for on pages that name no icon (the admin, API answers)."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request) -> HttpResponseRedirect:
    """The UI's icon by its hashed name, cached for a year there. The redirect is temporary
    (302): the hashed name changes whenever the icon does."""
    return HttpResponseRedirect(static("frontend/favicon.svg"))
