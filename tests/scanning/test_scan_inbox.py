"""The scanners' watched folder: complete files are taken once, half-copied ones wait, nothing
is lost or submitted twice across a restart."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from django.core.management import call_command

from dossier import blobstore
from dossier.audit import Actor
from scanning import splitting
from scanning.inbox import Inbox
from scanning.models import BatchState, ScanBatch


def a_pdf(pages: int = 3) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def inbox(tmp_path) -> Inbox:
    return Inbox(tmp_path / "scanner-1", settle_seconds=0, station="S1")


@pytest.fixture(autouse=True)
def _folder(inbox):
    inbox.path.mkdir()


def done_files(inbox) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in (inbox.path / "done").iterdir())


@pytest.mark.django_db
def test_a_file_with_a_done_marker_is_taken_at_once(inbox):
    content = a_pdf()
    (inbox.path / "batch-0001.pdf").write_bytes(content)
    (inbox.path / "batch-0001.pdf.done").write_text("")
    batches = inbox.look()
    assert len(batches) == 1
    batch = batches[0]
    assert (batch.origin, batch.station, batch.state) == ("folder", "S1", BatchState.QUEUED)
    assert batch.source_id == hashlib.sha256(content).hexdigest()
    assert list(inbox.path.glob("*.pdf*")) == []
    assert done_files(inbox) == ["batch-0001.pdf"]


@pytest.mark.django_db
def test_a_half_copied_file_waits_until_it_is_complete(inbox):
    content = a_pdf(5)
    path = inbox.path / "batch-0002.pdf"
    path.write_bytes(content[: len(content) // 2])
    assert inbox.look() == []  # first sight
    with open(path, "ab") as handle:  # the copy goes on
        handle.write(content[len(content) // 2 :])
    assert inbox.look() == []  # changed since the last look
    assert ScanBatch.objects.count() == 0 and path.exists()
    batches = inbox.look()  # unchanged across two looks: complete
    assert [b.source_id for b in batches] == [hashlib.sha256(content).hexdigest()]
    assert inbox.look() == []
    assert ScanBatch.objects.count() == 1


@pytest.mark.django_db
def test_settle_time_is_respected(tmp_path):
    inbox = Inbox(tmp_path / "slow", settle_seconds=3600)
    inbox.path.mkdir()
    (inbox.path / "batch.pdf").write_bytes(a_pdf())
    assert inbox.look() == [] and inbox.look() == []
    assert ScanBatch.objects.count() == 0


@pytest.mark.django_db
def test_a_file_taken_just_before_a_stop_is_not_submitted_again(inbox):
    content = a_pdf()
    path = inbox.path / "batch-0003.pdf"
    path.write_bytes(content)
    # edms stored the batch, then stopped before moving the file aside.
    staged = blobstore.spool([content], filename=path.name)
    splitting.submit_batch(staged, actor=Actor(label="inbox"), origin="folder")
    restarted = Inbox(inbox.path, settle_seconds=0)
    assert restarted.look() == [] and restarted.look() == []
    assert ScanBatch.objects.count() == 1
    assert not path.exists() and done_files(inbox) == ["batch-0003.pdf"]


@pytest.mark.django_db
def test_files_dropped_while_stopped_are_processed_once_by_the_command(inbox):
    (inbox.path / "a.pdf").write_bytes(a_pdf(1))
    (inbox.path / "b.tif").write_bytes(b"II*\x00" + b"\x00" * 64)  # a TIFF header, broken
    (inbox.path / "notes.txt").write_text("not for us")
    (inbox.path / "c.pdf").write_bytes(b"this is no pdf")
    call_command("scan_inbox", path=str(inbox.path), settle=0, once=True)
    call_command("scan_inbox", path=str(inbox.path), settle=0, once=True)
    assert sorted(b.source_filename for b in ScanBatch.objects.all()) == ["a.pdf", "b.tif"]
    failed = sorted(p.name.split("-", 1)[1] for p in (inbox.path / "failed").iterdir())
    assert failed == ["c.pdf", "c.pdf.reason.txt"]
    assert (inbox.path / "notes.txt").exists()  # not a scan's name: left alone
