"""Back up a running edms, restore it into a fresh data directory, and find everything again.

The documented procedure, run for real: `edms run` serves and documents are filed through the
API; `edms backup` runs while it serves; then a fresh instance — a new data directory and, on the
production leg, a new PostgreSQL database and S3 prefix — gets `edms restore`, `edms fixity`
passes on it, and the restored `edms run` finds a known word and serves each document's bytes
unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.ingest_support import one_page_pdf
from tests.launcher_support import EDMS, EdmsRun, edms_running, embedded_env, production_env
from tests.services import wait_until

DOSSIER = "BG/P/2024/000321"
WORD = "backupword"


@contextmanager
def instance_env(data_dir: Path, name: str) -> Iterator[dict[str, str]]:
    """A fresh instance's environment on this leg: the embedded default, or the production
    leg's services under names of its own."""
    if os.environ.get("DATABASE_URL"):
        with production_env(data_dir, name, broker_db=14) as env:
            yield env
    else:
        yield embedded_env(data_dir)


def edms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([EDMS, *args], env=env, capture_output=True, text=True, timeout=600)


def api(run: EdmsRun) -> dict[str, str]:
    return {"Authorization": f"Bearer {run.api_key()}"}


def search_count(run: EdmsRun, q: str) -> int:
    answer = run.get("/api/v1/search", params={"q": q}, headers=api(run))
    return answer.json()["count"] if answer.status_code == 200 else -1


def file_documents(run: EdmsRun, folder: Path) -> dict[str, str]:
    """Three documents in one dossier; their ids and SHA-256."""
    answer = requests.put(
        f"{run.url}/api/v1/dossiers/{DOSSIER}",
        json={"ip_type": "patent", "title": "Backed up and restored"},
        headers=api(run),
        timeout=60,
    )
    assert answer.status_code in (200, 201), answer.text
    filed = {}
    for n in range(3):
        path = folder / f"doc{n}.pdf"
        one_page_pdf(path, f"Claims {WORD} number {n}")
        with open(path, "rb") as handle:
            answer = requests.post(
                f"{run.url}/api/v1/dossiers/{DOSSIER}/documents",
                data={"type": "CLM"},
                files={"file": (path.name, handle, "application/pdf")},
                headers=api(run),
                timeout=60,
            )
        assert answer.status_code == 201, answer.text
        filed[answer.json()["id"]] = hashlib.sha256(path.read_bytes()).hexdigest()
    return filed


def downloaded_sha256(run: EdmsRun, document_id: str) -> str:
    answer = run.get(f"/api/v1/documents/{document_id}/content", headers=api(run))
    assert answer.status_code == 200, answer.text
    return hashlib.sha256(answer.content).hexdigest()


@pytest.mark.worker
def test_a_backup_of_a_running_edms_restores_into_a_fresh_data_directory(tmp_path):
    backup = tmp_path / "backup"
    (tmp_path / "files").mkdir()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()

    with instance_env(tmp_path / "first" / "data", "backup") as env:
        with edms_running(tmp_path / "first", env) as run:
            filed = file_documents(run, tmp_path / "files")
            wait_until(
                lambda: search_count(run, WORD) == len(filed),
                timeout=300,
                what="the documents to be searchable",
                explain=run.log_tail,
            )
            made = edms("backup", str(backup), env=run.env)  # while edms serves
            assert made.returncode == 0, made.stderr
        manifest = json.loads((backup / "manifest.json").read_text())
        # Three PDFs, their extracted texts and renditions: every blob the rows name.
        assert manifest["blobs"] >= len(filed)
        assert manifest["missing_blobs"] == []
        assert manifest["database"] == ("postgresql" if "DATABASE_URL" in env else "sqlite")

    with instance_env(tmp_path / "second" / "data", "restore") as env:
        restored = edms("restore", str(backup), env=env)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        fixity = edms("fixity", env=env)
        assert fixity.returncode == 0, fixity.stdout + fixity.stderr
        assert f"{manifest['blobs']} blob(s) checked, {manifest['blobs']} ok, 0 bad" in (
            fixity.stdout
        )
        with edms_running(tmp_path / "second", env) as run:
            assert search_count(run, WORD) == len(filed)
            assert search_count(run, f"{WORD} AND number AND 2") == 1
            for document_id, sha256 in filed.items():
                assert downloaded_sha256(run, document_id) == sha256


def test_restore_refuses_an_unfinished_backup(tmp_path):
    env = embedded_env(tmp_path / "data")
    unfinished = tmp_path / "unfinished"
    (unfinished / "blobs").mkdir(parents=True)
    refused = edms("restore", str(unfinished), env=env)
    assert refused.returncode != 0
    assert "holds no manifest.json: not a backup, or one that did not finish" in refused.stderr
