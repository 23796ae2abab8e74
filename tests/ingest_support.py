"""Helpers shared by the ingestion tests: corpus files and filing them as versions."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dossier.models import Version
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


def file_version(dossier, content: bytes, filename: str, **fields) -> Version:
    document = file_document(dossier, content, filename=filename, **fields)
    return document.versions.get()
