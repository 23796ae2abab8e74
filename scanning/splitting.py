"""Submitting a scan batch, and splitting it at its sheets into routed or unassigned parts.

Splitting is idempotent: parts are numbered by their place in the batch and each is created,
with its document, in one transaction, so a run interrupted half-way (a worker killed) and run
again creates only the parts still missing, and re-running a finished batch does nothing.

The web server and every worker import this module (submitting, the split task, the sweeper);
the PDF and image libraries that only splitting itself uses are imported where it uses them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dossier import actions, blobstore, lanes
from dossier.audit import Actor, record_audit
from dossier.blobstore import StagedFile
from dossier.models import Blob, Channel, DocumentType, Dossier
from dossier.numbering import InvalidFileNumber, normalise_key
from metrics.instruments import SCAN_PAGES
from scanning import files
from scanning.coversheets import SheetData
from scanning.files import PDF_MAGIC, TIFF_MAGICS
from scanning.models import OPEN_PART_STATES, BatchState, PartState, ScanBatch, ScanPart
from scanning.readings import Kind, PageReading

if TYPE_CHECKING:
    import pikepdf

log = logging.getLogger(__name__)

SPLIT_TASK = "scanning.tasks.split_scan_batch"
# Longer than any batch takes to split (2,000 pages take about 5 minutes): a batch `splitting`
# for longer lost its worker and is taken over.
STALE_SPLIT = dt.timedelta(minutes=30)
READING_SHARE = 90  # percent of the progress bar spent reading pages; the rest builds parts
BLANK_REASON = "judged blank when the batch was split; put a page back into a part if it is not"


class NotAScan(ValueError):
    """The file is neither a PDF nor a TIFF."""


# --- Submitting -----------------------------------------------------------------------------


def submit_batch(
    staged: StagedFile,
    *,
    actor: Actor,
    station: str = "",
    drop_blank_pages: bool = True,
    origin: str = "api",
) -> ScanBatch:
    """Store the scanner's file and queue the batch for splitting (in the background)."""
    with open(staged.path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(PDF_MAGIC):
        media_type = "application/pdf"
    elif head[:4] in TIFF_MAGICS:
        media_type = "image/tiff"
    else:
        staged.discard()
        raise NotAScan("a scan batch is a PDF or a (multi-page) TIFF file")
    if staged.size == 0:
        staged.discard()
        raise NotAScan("the file is empty")
    source = Blob.objects.store(staged, media_type=media_type, actor=actor)
    with transaction.atomic():
        batch = ScanBatch.objects.create(
            source=source,
            source_filename=staged.filename,
            station=station,
            operator=actor.user_or_none,
            operator_label=actor.name,
            drop_blank_pages=drop_blank_pages,
            origin=origin,
        )
        record_audit(
            actor,
            "scan.submit",
            object_type="scan_batch",
            object_id=batch.id,
            detail={"sha256": source.sha256, "filename": staged.filename, "station": station},
        )
        transaction.on_commit(lambda: queue_split(batch.id))
    return batch


def queue_split(batch_id) -> None:
    # Recorded first, so the sweeper can tell a task waiting in the broker from a lost one.
    task_id = str(uuid.uuid4())
    ScanBatch.objects.filter(id=batch_id, state=BatchState.QUEUED).update(task_id=task_id)
    try:
        # By name: `scanning.tasks` defines it and imports this module (`ScanningConfig.ready`
        # registers it in every process, and a test's eager mode runs it in place).
        current_app.tasks[SPLIT_TASK].apply_async((str(batch_id),), task_id=task_id)
    except Exception:
        # The batch stays `queued`; `edms scan-inbox` (or a resubmission) queues it again.
        log.exception("could not queue scan batch %s", batch_id)


# --- Planning the parts ---------------------------------------------------------------------


@dataclass
class PlannedPart:
    pages: list[int] = field(default_factory=list)  # 0-based pages of the batch
    sheet: SheetData | None = None
    reason: str = ""  # why it cannot be routed, if known from the sheets alone


@dataclass
class Plan:
    parts: list[PlannedPart]
    set_aside: list[int]  # 0-based pages judged blank and kept out of the parts


@dataclass
class _Run:
    """The pages between two sheets, as they are read."""

    sheet: SheetData | None
    reason: str
    cover: int | None = None  # the cover sheet (0-based page) that starts the run, if any
    pages: list[int] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)


def plan_parts(readings: list[PageReading], drop_blank_pages: bool) -> Plan:
    """Cut the batch at its sheets. Pages before any sheet, or after an unreadable one, are
    kept as unassigned parts: never guessed, never lost. Pages judged blank are set aside (or,
    unless `drop_blank_pages`, kept in their part), and a cover sheet with no content page after
    it still makes an unassigned part: its blank pages, or the sheet itself."""
    parts: list[PlannedPart] = []
    set_aside: list[int] = []
    run = _Run(None, "no cover sheet before these pages")
    for number, reading in enumerate(readings):
        if reading.kind == Kind.SHEET and reading.sheet.is_separator:
            # What follows goes where the last part went; right after a sheet, it changes nothing.
            if run.pages or run.blank:
                _close(run, parts, set_aside)
                run = _Run(run.sheet, run.reason)
        elif reading.kind == Kind.SHEET:
            _close(run, parts, set_aside)
            run = _Run(reading.sheet, "", cover=number)
        elif reading.kind == Kind.UNREADABLE_SHEET:
            _close(run, parts, set_aside)
            reason = f"cover sheet on page {number + 1} unreadable ({reading.problem})"
            run = _Run(None, reason, cover=number)
        elif reading.kind == Kind.CONTENT or not drop_blank_pages:
            run.pages.append(number)
        else:
            run.blank.append(number)
    _close(run, parts, set_aside)
    return Plan(parts, set_aside)


def _close(run: _Run, parts: list[PlannedPart], set_aside: list[int]) -> None:
    if run.pages:
        parts.append(PlannedPart(run.pages, run.sheet, run.reason))
        set_aside.extend(run.blank)
    elif run.cover is not None:
        parts.append(PlannedPart(run.blank or [run.cover], run.sheet, _empty_reason(run)))
    else:
        set_aside.extend(run.blank)


def _empty_reason(run: _Run) -> str:
    """Why a cover sheet's part is unassigned: nothing but blank pages (or nothing) follows."""
    sheet = f"cover sheet on page {run.cover + 1}"
    if run.sheet is not None:
        sheet += f" ({run.sheet.dossier} {run.sheet.type_code})"
    elif run.reason:
        sheet = run.reason
    if run.blank:
        blank = ", ".join(str(number + 1) for number in run.blank)
        return f"{sheet}: no content page follows it, only pages judged blank ({blank})"
    return f"{sheet}: no page follows it (this part holds the sheet itself)"


def _resolve(planned: PlannedPart) -> tuple[Dossier | None, DocumentType | None, str]:
    """The dossier and type a part goes to, or why it cannot go anywhere."""
    if planned.sheet is None or planned.reason:
        return None, None, planned.reason
    try:
        key = normalise_key(planned.sheet.dossier)
    except InvalidFileNumber:
        return None, None, f"cover sheet names no valid file number: {planned.sheet.dossier!r}"
    dossier = Dossier.objects.filter(key=key).first()
    if dossier is None:
        return None, None, f"dossier {planned.sheet.dossier} does not exist"
    doc_type = DocumentType.objects.filter(code=planned.sheet.type_code, active=True).first()
    if doc_type is None:
        return None, None, f"unknown document type {planned.sheet.type_code!r}"
    return dossier, doc_type, ""


# --- Splitting ------------------------------------------------------------------------------


def _claim(batch_id) -> ScanBatch | None:
    """Take the batch for splitting. A batch being split is left alone (a duplicate task must
    not split it twice at once) unless its split started longer ago than any split takes: then
    its worker died, and the batch is taken over."""
    now = timezone.now()
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().filter(id=batch_id).first()
        if batch is None:
            return None
        abandoned = batch.state == BatchState.SPLITTING and (
            batch.started_at is None or batch.started_at < now - STALE_SPLIT
        )
        if batch.state != BatchState.QUEUED and not abandoned:
            return None
        batch.state = BatchState.SPLITTING
        batch.started_at = now
        batch.save(update_fields=["state", "started_at"])
        return batch


def split_batch(batch_id) -> ScanBatch | None:
    """Split, route and hold for QC. Returns the batch, or None if there was nothing to do.

    Bulk work: whatever it causes queues behind interactive work (its parts are processed once
    approved in quality control, which is interactive)."""
    with lanes.bulk():
        return _split_claimed(batch_id)


def _split_claimed(batch_id) -> ScanBatch | None:
    batch = _claim(batch_id)
    if batch is None:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="scan-") as workdir:
            _split(batch, Path(workdir))
    except Exception as exc:
        log.exception("scan batch %s failed", batch.id)
        ScanBatch.objects.filter(id=batch.id).update(
            state=BatchState.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
    batch.refresh_from_db()
    return batch


def _source_pdf(batch: ScanBatch, workdir: Path) -> Path:
    """The batch as a local PDF file (streamed: a 200-page greyscale batch is 100+ MiB)."""
    path = workdir / "batch.pdf"
    if batch.source.media_type == "image/tiff":
        with files.local_file(batch.source_id) as tiff:
            files.tiff_to_pdf(tiff, path)
        return path
    with open(path, "wb") as handle:
        for chunk in blobstore.read_chunks(batch.source_id):
            handle.write(chunk)
    return path


def _read_all(batch: ScanBatch, path: Path) -> list[PageReading]:
    # Here, not at the top: pdfium, zxing and Pillow stay out of processes that never split.
    import pypdfium2 as pdfium

    from scanning.pages import read_page, render

    document = pdfium.PdfDocument(str(path))
    try:
        total = len(document)
        ScanBatch.objects.filter(id=batch.id).update(pages_in=total)
        readings = []
        for index in range(total):
            page = render(document, index)
            readings.append(read_page(page, blank_speck_mm=settings.EDMS_SCAN_BLANK_SPECK_MM))
            SCAN_PAGES.labels(station=batch.station or "unnamed").inc()
            if index % 5 == 4 or index == total - 1:
                done = (index + 1) * READING_SHARE // total
                ScanBatch.objects.filter(id=batch.id).update(progress=done)
        return readings
    finally:
        document.close()


def _split(batch: ScanBatch, workdir: Path) -> None:
    import pikepdf  # here, not at the top: kept out of processes that never split or QC

    path = _source_pdf(batch, workdir)
    readings = _read_all(batch, path)
    plan = plan_parts(readings, batch.drop_blank_pages)
    planned = plan.parts
    actor = batch_actor(batch)
    with pikepdf.open(path) as source:
        for index, part in enumerate(planned):
            make_part(batch, index, part, source, actor)
        if plan.set_aside:
            make_blank_part(batch, len(planned), plan.set_aside, source)
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().get(id=batch.id)
        batch.cover_sheets = sum(r.kind in (Kind.SHEET, Kind.UNREADABLE_SHEET) for r in readings)
        batch.blank_pages = sum(r.kind == Kind.BLANK for r in readings)
        batch.pages_out = sum(len(p.pages) for p in planned)
        batch.progress = 100
        batch.split_at = timezone.now()
        batch.state = BatchState.QC
        batch.save()
        record_audit(
            actor,
            "scan.split",
            object_type="scan_batch",
            object_id=batch.id,
            detail={"parts": len(planned), "pages_in": batch.pages_in},
        )
    settle_batch(batch.id)


def batch_actor(batch: ScanBatch) -> Actor:
    if batch.operator is not None:
        return Actor(user=batch.operator)
    return Actor(label=batch.operator_label or "scanning")


def extract_pages(source: pikepdf.Pdf, pages: list[int]) -> pikepdf.Pdf:
    """A new PDF of `source`'s pages (0-based); `source` stays open until it is saved."""
    import pikepdf  # here, not at the top: kept out of processes that never split or QC

    part = pikepdf.new()
    for number in pages:
        part.pages.append(source.pages[number])
    return part


def make_part(
    batch: ScanBatch, index: int, planned: PlannedPart, source: pikepdf.Pdf, actor: Actor
) -> ScanPart:
    if (existing := ScanPart.objects.filter(batch=batch, index=index).first()) is not None:
        return existing  # made by an earlier run of this batch
    filename = f"scan-{str(batch.id)[:8]}-{index + 1:03d}.pdf"
    with (
        extract_pages(source, planned.pages) as pdf,
        files.stored_pdf(pdf, filename) as content,
    ):
        dossier, doc_type, reason = _resolve(planned)
        sheet = planned.sheet or SheetData()
        with transaction.atomic():
            part = ScanPart.objects.create(
                batch=batch,
                index=index,
                state=PartState.UNASSIGNED if reason else PartState.QC,
                reason=reason,
                dossier_key=sheet.dossier,
                type_code=sheet.type_code,
                official_date=sheet.official_date,
                title=sheet.title,
                source_pages=[number + 1 for number in planned.pages],
                content=content.blob,
                page_count=content.page_count,
            )
            if not reason:
                part.document = route(part, dossier, doc_type, content.staged, actor)
                part.save(update_fields=["document"])
    return part


def make_blank_part(
    batch: ScanBatch, index: int, pages: list[int], source: pikepdf.Pdf
) -> ScanPart:
    """The batch's pages judged blank, kept as a part of their own (state `blank`): never filed,
    shown in quality control, where a clerk can put a page back into a part."""
    if (existing := ScanPart.objects.filter(batch=batch, index=index).first()) is not None:
        return existing
    filename = f"scan-{str(batch.id)[:8]}-blank.pdf"
    with extract_pages(source, pages) as pdf, files.stored_pdf(pdf, filename) as content:
        return ScanPart.objects.create(
            batch=batch,
            index=index,
            state=PartState.BLANK,
            reason=BLANK_REASON,
            source_pages=[number + 1 for number in pages],
            content=content.blob,
            page_count=content.page_count,
        )


def route(
    part: ScanPart, dossier: Dossier, doc_type: DocumentType, content: StagedFile, actor: Actor
):
    """File the part's pages as a new document of `dossier`, held for quality control.

    `content` (a spool of the part's PDF) is used up, as by `actions.attach_document`."""
    staged = dataclasses.replace(
        content, filename=f"{doc_type.code}-scan.pdf", declared_type=files.PDF_TYPE
    )
    version = actions.attach_document(
        dossier,
        staged,
        doc_type=doc_type,
        actor=actor,
        official_date=part.official_date,
        channel=Channel.SCAN,
        title=part.title,
        held_for_qc=True,
    )
    return version.document


def settle_batch(batch_id) -> None:
    """A batch whose parts are all approved, rejected or merged is done."""
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().get(id=batch_id)
        if batch.state != BatchState.QC:
            return
        if not batch.parts.filter(state__in=OPEN_PART_STATES).exists():
            batch.state = BatchState.DONE
            batch.finished_at = dt.datetime.now(tz=dt.UTC)
            batch.save(update_fields=["state", "finished_at"])
