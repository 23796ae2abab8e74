"""Quality control of scanned parts: approve, reject, assign, and page operations.

Every operation runs on a part still open (unassigned or waiting for QC) of a batch that has been
split, is audited (who, what, when, on which part), and — when it changes pages — stores the new
PDF as the part's content and, for a routed part, as a new version of its document (silent while
the document is held; the registry hears only of the approved result).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max, Q, QuerySet

from dossier import access, actions
from dossier.audit import Actor, record_audit
from dossier.models import Blob, DocumentType, Dossier
from scanning import files
from scanning.models import OPEN_PART_STATES, BatchState, PartState, ScanPart
from scanning.splitting import route, settle_batch

if TYPE_CHECKING:
    import pikepdf

ROTATIONS = (90, 180, 270)


class QcError(actions.DomainError):
    code = "invalid-change"


def visible_parts(user) -> QuerySet[ScanPart]:
    """The parts `user` may see: a part filed to a dossier only by whoever may see its document
    (a secret dossier's parts stay hidden); an unassigned part by every quality-control role."""
    readable = access.visible_documents(user).values("id")
    return ScanPart.objects.filter(Q(document__isnull=True) | Q(document__in=readable))


def get_part_for(user, part_id) -> ScanPart:
    """The part, if `user` may see it; else `access.NotFound`, as for a part that does not exist."""
    part = (
        visible_parts(user)
        .select_related("document__dossier", "batch", "content")
        .filter(id=part_id)
    )
    found = part.first()
    if found is None:
        raise access.NotFound("scan part", str(part_id))
    return found


def open_parts(user) -> QuerySet[ScanPart]:
    """The quality-control queue: parts still needing a clerk, in batches that are split."""
    return visible_parts(user).filter(state__in=OPEN_PART_STATES, batch__state=BatchState.QC)


# --- Helpers --------------------------------------------------------------------------------


def content_expunged(part: ScanPart) -> bool:
    """Whether the part's pages were expunged since it was split (its document's content, on a
    court order or an erasure request): the part is then a tombstone, its pages never shown."""
    return Blob.objects.filter(pk=part.content_id, expunged_at__isnull=False).exists()


def _lock_open(part: ScanPart, *, even_expunged: bool = False) -> ScanPart:
    """The part, locked, if it may still be changed. Pages that were expunged can only be
    rejected (`even_expunged`): there is nothing left to look at, turn or file."""
    part = ScanPart.objects.select_for_update().select_related("batch").get(pk=part.pk)
    if part.batch.state != BatchState.QC:
        raise QcError(f"the batch is {part.batch.state}, not waiting for quality control")
    if part.state not in OPEN_PART_STATES:
        raise QcError(f"the part is {part.state}; only open parts can be changed")
    if not even_expunged and content_expunged(part):
        raise actions.ContentExpunged(
            f"the pages of part {part.index + 1} were expunged; it can only be rejected"
        )
    return part


def _audit(actor: Actor, action: str, part: ScanPart, **detail) -> None:
    key = part.document.dossier.key if part.document_id else ""
    record_audit(
        actor,
        f"scan.{action}",
        object_type="scan_part",
        object_id=part.id,
        dossier_key=key,
        detail={"batch": str(part.batch_id), **detail},
    )


def open_pdf(part: ScanPart):
    """The part's PDF, opened lazily from a local file (a context manager)."""
    return files.open_blob_pdf(part.content_id)


def _pages(part: ScanPart, numbers: list[int], field: str = "pages") -> list[int]:
    """1-based page numbers of the part, checked; returned 0-based."""
    if not numbers:
        raise QcError("name at least one page", field=field)
    bad = [n for n in numbers if not 1 <= n <= part.page_count]
    if bad:
        raise QcError(f"the part has pages 1 to {part.page_count}, not {bad}", field=field)
    return [n - 1 for n in numbers]


def _set_content(part: ScanPart, pdf: pikepdf.Pdf, actor: Actor) -> None:
    """The part's pages changed: store them, and version its document (if routed). `pdf` and
    the PDFs its pages come from are still open."""
    with files.stored_pdf(pdf, f"scan-part-{part.index + 1:03d}.pdf") as content:
        part.content = content.blob
        part.page_count = content.page_count
        part.save(update_fields=["content", "page_count", "updated_at"])
        if part.document_id:
            filename = f"{part.document.doc_type_id}-scan.pdf"
            actions.add_version(part.document, content.staged_as(filename), actor=actor)


def _change_pages(part: ScanPart, actor: Actor, action: str, edit, **detail) -> ScanPart:
    with transaction.atomic():
        part = _lock_open(part)
        with open_pdf(part) as pdf:
            edit(pdf)
            if not len(pdf.pages):
                raise QcError("a part keeps at least one page (reject it instead)")
            _set_content(part, pdf, actor)
        _audit(actor, action, part, pages_after=part.page_count, **detail)
    return part


# --- Decisions ------------------------------------------------------------------------------


def approve(part: ScanPart, *, actor: Actor) -> ScanPart:
    with transaction.atomic():
        part = _lock_open(part)
        if part.document_id is None:
            raise QcError("assign the part to a dossier and type before approving it")
        actions.approve_scanned_document(part.document, actor=actor)
        part.state = PartState.APPROVED
        part.save(update_fields=["state", "updated_at"])
        _audit(actor, "approve", part, document=str(part.document_id))
    settle_batch(part.batch_id)
    return part


def reject(part: ScanPart, *, reason: str, actor: Actor) -> ScanPart:
    if not reason.strip():
        raise QcError("a reason is required to reject a part", field="reason")
    with transaction.atomic():
        part = _lock_open(part, even_expunged=True)
        if part.document_id:
            actions.reject_scanned_document(part.document, reason=reason, actor=actor)
        part.state = PartState.REJECTED
        part.reason = reason.strip()
        part.save(update_fields=["state", "reason", "updated_at"])
        _audit(actor, "reject", part, reason=part.reason)
    settle_batch(part.batch_id)
    return part


def assign(
    part: ScanPart,
    *,
    dossier: Dossier,
    doc_type: DocumentType,
    actor: Actor,
    official_date: dt.date | None = None,
    title: str | None = None,
) -> ScanPart:
    """Name (or correct) the dossier and type of a part; an unassigned part gets its document."""
    with transaction.atomic():
        part = _lock_open(part)
        if official_date is not None:
            part.official_date = official_date
        if title is not None:
            part.title = title
        part.dossier_key, part.type_code = dossier.display_key, doc_type.code
        if part.document_id is None:
            content = files.spool_blob(part.content_id, f"{doc_type.code}-scan.pdf")
            part.document = route(part, dossier, doc_type, content, actor)
        else:
            changes = {"dossier": dossier, "doc_type": doc_type, "direction": doc_type.direction}
            if official_date is not None:
                changes["official_date"] = official_date
            if title is not None:
                changes["title"] = title or doc_type.label()
            actions.update_document(part.document, changes, actor=actor)
        part.state, part.reason = PartState.QC, ""
        part.save()
        _audit(actor, "assign", part, dossier=dossier.key, type=doc_type.code)
    return part


# --- Page operations ------------------------------------------------------------------------


def rotate_pages(part: ScanPart, pages: list[int], degrees: int, *, actor: Actor) -> ScanPart:
    """Turn pages clockwise by 90, 180 or 270 degrees (the page's /Rotate; pixels untouched)."""
    if degrees not in ROTATIONS:
        raise QcError("rotate by 90, 180 or 270 degrees", field="degrees")
    indexes = _pages(part, pages)

    def edit(pdf):
        for index in indexes:
            pdf.pages[index].rotate(degrees, relative=True)

    return _change_pages(part, actor, "rotate", edit, pages=pages, degrees=degrees)


def delete_pages(part: ScanPart, pages: list[int], *, actor: Actor) -> ScanPart:
    indexes = sorted(set(_pages(part, pages)), reverse=True)

    def edit(pdf):
        for index in indexes:
            del pdf.pages[index]

    return _change_pages(part, actor, "delete_pages", edit, pages=pages)


def move_page(part: ScanPart, page: int, to: int, *, actor: Actor) -> ScanPart:
    """Move page `page` so that it becomes page `to` (both 1-based)."""
    source = _pages(part, [page], "page")[0]
    target = _pages(part, [to], "to")[0]

    def edit(pdf):
        order = list(range(len(pdf.pages)))
        order.insert(target, order.pop(source))
        copies = [pdf.pages[i] for i in order]
        pdf.pages.extend(copies)  # append the new order, then drop the old one
        del pdf.pages[: len(order)]

    return _change_pages(part, actor, "move_page", edit, page=page, to=to)


def replace_page(part: ScanPart, page: int, rescan: str | os.PathLike, *, actor: Actor) -> ScanPart:
    """Put the first page of the file at `rescan` (a PDF, TIFF, PNG or JPEG) in place of page
    `page`."""
    import pikepdf  # here, not at the top: kept out of processes that never change pages

    index = _pages(part, [page], "page")[0]
    with _as_pdf(rescan) as path, pikepdf.open(path) as replacement:

        def edit(pdf):
            pdf.pages.insert(index, replacement.pages[0])
            del pdf.pages[index + 1]

        return _change_pages(part, actor, "replace_page", edit, page=page)


@contextmanager
def _as_pdf(path: str | os.PathLike) -> Iterator[str | os.PathLike]:
    """The rescan as a PDF file: itself, or a converted temporary copy."""
    head = files.head(path)
    if head.startswith(files.PDF_MAGIC):
        yield path
        return
    from PIL import UnidentifiedImageError

    with files.temporary_path() as converted:
        if head[:4] in files.TIFF_MAGICS:
            files.tiff_to_pdf(path, converted)
        else:
            try:
                files.image_to_pdf(path, converted)
            except UnidentifiedImageError:
                raise QcError("the rescan is not a PDF or an image", field="file") from None
        yield converted


# --- Cutting and joining parts --------------------------------------------------------------


def split_part(part: ScanPart, at_page: int, *, actor: Actor) -> ScanPart:
    """Cut the part before page `at_page`: the pages from there on become a new part, routed
    like this one (or unassigned like it). Returns the new part."""
    import pikepdf  # here, not at the top: kept out of processes that never change pages

    with transaction.atomic():
        part = _lock_open(part)
        _pages(part, [at_page], "page")
        if at_page < 2:
            raise QcError("split before page 2 or later", field="page")
        index = part.batch.parts.aggregate(last=Max("index"))["last"] + 1
        with open_pdf(part) as pdf, pikepdf.new() as tail_pdf:
            tail_pdf.pages.extend(pdf.pages[at_page - 1 :])
            with files.stored_pdf(tail_pdf, f"scan-part-{index + 1:03d}.pdf") as tail:
                del pdf.pages[at_page - 1 :]
                _set_content(part, pdf, actor)
                new = _split_off(part, index, at_page, tail, actor)
        _audit(actor, "split", part, page=at_page, new_part=str(new.id))
    return new


def _split_off(
    part: ScanPart, index: int, at_page: int, tail: files.StoredPdf, actor: Actor
) -> ScanPart:
    """The new part of `part`'s pages from `at_page` on, filed like `part`."""
    new = ScanPart.objects.create(
        batch=part.batch,
        index=index,
        state=part.state,
        reason=part.reason,
        dossier_key=part.dossier_key,
        type_code=part.type_code,
        official_date=part.official_date,
        title=part.title,
        source_pages=part.source_pages[at_page - 1 :],
        content=tail.blob,
        page_count=tail.page_count,
    )
    part.source_pages = part.source_pages[: at_page - 1]
    part.save(update_fields=["source_pages"])
    if part.document_id:
        document = part.document
        new.document = route(new, document.dossier, document.doc_type, tail.staged, actor)
        new.save(update_fields=["document"])
    return new


def merge_parts(part: ScanPart, other: ScanPart, *, actor: Actor) -> ScanPart:
    """Append `other`'s pages to `part`; `other` is closed as merged (its document rejected)."""
    if part.pk == other.pk or part.batch_id != other.batch_id:
        raise QcError("merge two different parts of the same batch", field="other")
    with transaction.atomic():
        # Lock in a stable order, so two clerks merging the same pair cannot deadlock.
        locked = {p.pk: _lock_open(p) for p in sorted([part, other], key=lambda p: p.index)}
        part, other = locked[part.pk], locked[other.pk]
        with open_pdf(part) as pdf, open_pdf(other) as tail:
            pdf.pages.extend(tail.pages)
            _set_content(part, pdf, actor)
        part.source_pages = part.source_pages + other.source_pages
        part.save(update_fields=["source_pages"])
        reason = f"merged into part {part.index + 1} ({part.id})"
        if other.document_id:
            actions.reject_scanned_document(other.document, reason=reason, actor=actor)
        other.state, other.reason = PartState.MERGED, reason
        other.save(update_fields=["state", "reason", "updated_at"])
        _audit(actor, "merge", part, merged=str(other.id), pages_after=part.page_count)
    return part


# --- Pages judged blank -----------------------------------------------------------------------


def blank_part(batch_id) -> ScanPart | None:
    """The part holding the batch's pages judged blank, if any were."""
    return ScanPart.objects.filter(batch_id=batch_id, state=PartState.BLANK).first()


def set_aside_pages(batch_ids) -> dict:
    """Batch id -> the batch's pages (1-based) judged blank and not put back (one query)."""
    blank = ScanPart.objects.filter(batch_id__in=batch_ids, state=PartState.BLANK)
    return {batch_id: pages for batch_id, pages in blank.values_list("batch_id", "source_pages")}


def put_back_pages(part: ScanPart, source_pages: list[int], *, actor: Actor) -> ScanPart:
    """Put pages judged blank (named by their page in the batch, as the blank part's
    `source_pages` lists them) back into `part`, each in batch order among the part's pages.
    They leave the blank part."""
    if not source_pages:
        raise QcError("name at least one page of the batch", field="source_pages")
    wanted = sorted(set(source_pages))
    with transaction.atomic():
        # Every put-back locks its part, then the blank part: two never wait on each other.
        part = _lock_open(part)
        blank = (
            ScanPart.objects.select_for_update()
            .filter(batch_id=part.batch_id, state=PartState.BLANK)
            .first()
        )
        kept = blank.source_pages if blank is not None else []
        if missing := [n for n in wanted if n not in kept]:
            raise QcError(
                f"pages {missing} of the batch are not set aside as blank", field="source_pages"
            )
        with open_pdf(part) as pdf, open_pdf(blank) as blanks:
            order = list(part.source_pages)
            for number in wanted:
                at = min(sum(1 for n in order if n < number), len(pdf.pages))
                pdf.pages.insert(at, blanks.pages[kept.index(number)])
                order.insert(at, number)
            _set_content(part, pdf, actor)
            for index in sorted((kept.index(n) for n in wanted), reverse=True):
                del blanks.pages[index]
            with files.stored_pdf(blanks, f"scan-part-{blank.index + 1:03d}.pdf") as rest:
                blank.content, blank.page_count = rest.blob, rest.page_count
        part.source_pages = order
        part.save(update_fields=["source_pages"])
        blank.source_pages = [n for n in kept if n not in wanted]
        blank.save(update_fields=["content", "page_count", "source_pages", "updated_at"])
        _audit(actor, "put_back", part, source_pages=wanted, pages_after=part.page_count)
    return part
