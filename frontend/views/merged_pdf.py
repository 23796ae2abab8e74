"""The merged PDF of the documents chosen in a file wrapper: one bookmark per document, each
read as its reader may read it (`dossier.merged_pdf`), streamed from a temporary file, each
document in it audited as a download."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dossier import actions, merged_pdf, packages
from dossier.audit import actor_of
from dossier.models import Document
from frontend.labels import type_labels
from frontend.views.dossiers import selected_ids
from frontend.views.visible import dossier_or_404


@require_POST
def download_merged_pdf(request, key):
    """The selected documents' latest versions as one PDF with a bookmark per document (date,
    type, title), in file-wrapper order; those without a PDF form are listed on its last page.

    Written to an anonymous temporary file, then streamed from it (`FileResponse`): the merged
    file is never held in memory, and the temporary file goes when the response is closed.
    """
    dossier = dossier_or_404(request.user, key)
    back = HttpResponseRedirect(reverse("frontend:dossier", args=[dossier.display_key]))
    wanted = Document.objects.filter(id__in=selected_ids(request))
    chosen = packages.select_documents(request.user, dossier, wanted)
    latest = packages.select_versions(chosen.active)
    versions, redacted = packages.redacted_for(request.user, latest)
    labels = type_labels()
    parts, without = merged_pdf.pdf_parts(
        versions, redacted, lambda document: bookmark_title(document, labels)
    )
    # Chosen, but not theirs to read in any form here (the public: no redacted copy yet).
    not_theirs = [v for v in latest if v not in versions]
    left_out = [bookmark_title(v.document, labels) for v in [*without, *not_theirs]]
    if not parts:
        if left_out:
            messages.error(request, _("None of the selected documents has a PDF form."))
        else:
            messages.error(request, _("Select at least one document to download."))
        return back
    spool = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="merged-")
    try:
        written = merged_pdf.write(
            parts, spool, left_out=left_out, left_out_title=_("Not in this PDF (no PDF form)")
        )
    except BaseException:
        spool.close()
        raise
    actor = actor_of(request)
    for part in written.merged:
        actions.record_download(part.version, actor=actor, rendition=part.rendition)
    spool.seek(0)
    filename = f"{dossier.display_key.replace('/', '-')}.pdf"
    response = FileResponse(
        spool, as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def bookmark_title(document: Document, labels: dict[str, str]) -> str:
    """A document's bookmark: its official date, type and title, as the file wrapper shows."""
    date = document.official_date.isoformat() if document.official_date else "—"
    type_label = labels.get(document.doc_type_id, document.doc_type_id)
    title = f"{document.doc_type_id} {type_label}"
    return f"{date} · {title} · {document.title}" if document.title else f"{date} · {title}"
