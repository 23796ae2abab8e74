"""Helpers shared by the ingestion tests: corpus files and filing them as versions."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import psutil
import pytest

from dossier.models import Version
from ingest import sandbox
from tests.conftest import file_document

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


@dataclass(frozen=True)
class CorpusFile:
    sha256: str
    extension: str
    kind: str
    path: Path
    notes: str

    @property
    def name(self) -> str:
        return self.path.name


def corpus_files() -> list[CorpusFile]:
    manifest = CORPUS / "manifest.tsv"
    assert manifest.exists(), (
        f"the test corpus is missing: expected {manifest} (shared/corpus beside the project)"
    )
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        CorpusFile(r["sha256"], r["extension"], r["kind"], CORPUS / r["file"], r["notes"])
        for r in rows
    ]


def corpus_file(name_part: str) -> CorpusFile:
    (found,) = [f for f in corpus_files() if name_part in f.name]
    return found


def jobs_left_running() -> list[psutil.Process]:
    """Processes a sandboxed job started that outlived it: this process's descendants but for
    its sandbox zygote, which stays to fork the next job's child, the test session's private
    broker (a `redis-server` started by tests/conftest.py on the embedded default), and the
    resource tracker Python's multiprocessing starts once in this process for the first test
    that uses it (tests/edms/test_localbroker.py, which now runs before these; it lives as long
    as the session)."""
    zygote = sandbox.zygote_pid()
    return [
        p
        for p in psutil.Process(os.getpid()).children(recursive=True)
        if p.pid != zygote and not _is_session_broker(p) and not _is_resource_tracker(p)
    ]


def _is_resource_tracker(process: psutil.Process) -> bool:
    try:
        command = process.cmdline()
        return process.ppid() == os.getpid() and any(
            "multiprocessing.resource_tracker" in part for part in command
        )
    except psutil.NoSuchProcess:
        return False


def _is_session_broker(process: psutil.Process) -> bool:
    try:
        return process.name() == "redis-server" and process.ppid() == os.getpid()
    except psutil.NoSuchProcess:
        return False


def file_version(dossier, content: bytes, filename: str, **fields) -> Version:
    document = file_document(dossier, content, filename=filename, **fields)
    return document.versions.get()


# --- System programs ------------------------------------------------------------------------
# OCR and office renditions need Debian packages (infra/install-system-packages.sh). CI installs
# them, so there a missing program fails the test; on a developer's machine it is skipped, saying
# what to install.

OCR_PROGRAMS = ("tesseract", "gs")
OFFICE_PROGRAMS = ("soffice",)


def require_programs(*programs: str) -> None:
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return
    reason = (
        f"{', '.join(missing)} not installed: run infra/install-system-packages.sh as root "
        "(CI does)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require_font(family: str) -> str:
    """The file of a font family (fontconfig), or skip/fail like a missing program."""
    found = subprocess.run(
        ["fc-match", "-f", "%{file}\t%{family}", family], capture_output=True, text=True
    )
    path, _, matched = found.stdout.partition("\t")
    if found.returncode == 0 and family.lower() in matched.lower() and os.path.exists(path):
        return path
    reason = f"font {family!r} not installed: run infra/install-system-packages.sh (CI does)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def stray_processes(names: tuple[str, ...], candidates=None) -> list[dict]:
    """Processes called one of `names` that the sandbox left behind: orphans (adopted by init)
    started by edms's ingestion (their command line or working directory names an `ingest-`
    folder). `candidates` defaults to every process of the machine.

    Other processes start and end while this looks (the machine is shared): one that ends
    between being listed and being inspected is skipped, since an ended process is no
    leftover; one that cannot be inspected (another user's) is not ours."""
    strays = []
    for process in psutil.process_iter() if candidates is None else candidates:
        try:
            info = process.as_dict(["pid", "name", "ppid", "cmdline", "cwd"], ad_value=None)
        except psutil.NoSuchProcess:
            continue
        if info["name"] not in names or info["ppid"] != 1:
            continue
        if "ingest-" in " ".join(info["cmdline"] or ()) or "ingest-" in (info["cwd"] or ""):
            strays.append(info)
    return strays


def one_page_pdf(path: Path, text: str) -> None:
    """A born-digital one-page PDF whose text layer says `text` (Helvetica, no embedded font)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = pdf.add_blank_page(page_size=(612, 792))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
    pdf.save(path)
