"""The `edms` command line: createapikey, fixity, check, and the system checks behind `check`."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from api.models import ApiKey, hash_secret
from dossier import blobstore
from dossier.checks import check_configuration
from tests.conftest import client_for_key
from tests.factories import DocumentFactory, DossierFactory
from tests.gunicorn_server import process_env

EDMS = str(Path(sys.executable).with_name("edms"))
# Variables that select a non-default setup; `edms check` on the default runs without them.
SETUP_VARIABLES = ("EDMS_", "DATABASE_URL", "AWS_", "CELERY_", "DJANGO_SETTINGS_MODULE")


def edms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EDMS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


# --- createapikey -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_createapikey_prints_a_working_key_alone_on_its_last_line():
    out = StringIO()
    call_command("createapikey", "--name", "ipas-bg", "--role", "registry_system", stdout=out)
    last_line = out.getvalue().rstrip("\n").splitlines()[-1]
    assert last_line == last_line.strip() and " " not in last_line

    api_key = ApiKey.objects.get(name="ipas-bg")
    assert api_key.role == "registry_system"
    assert api_key.key_hash == hash_secret(last_line), "the printed key is the stored one"
    assert last_line not in {api_key.key_hash, api_key.prefix}, "only the hash is stored"

    client = client_for_key(last_line)
    response = client.put("/api/v1/dossiers/BG/P/2024/1", {"ip_type": "patent"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_createapikey_role_decides_what_the_key_may_do():
    out = StringIO()
    call_command("createapikey", "--name", "examiner-ui", "--role", "examiner", stdout=out)
    key = out.getvalue().splitlines()[-1]
    response = client_for_key(key).put(
        "/api/v1/dossiers/BG/P/2024/1", {"ip_type": "patent"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_createapikey_refuses_a_duplicate_name():
    call_command("createapikey", "--name", "ipas", stdout=StringIO())
    with pytest.raises(CommandError, match="'ipas' exists"):
        call_command("createapikey", "--name", "ipas", stdout=StringIO())
    assert ApiKey.objects.filter(name="ipas").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_edms_command_creates_a_key_in_another_process():
    """The installed `edms` entry point, as an operator runs it."""
    env = process_env()
    first = edms("createapikey", "--name", "ipas", "--role", "registry_system", env=env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.rstrip("\n").splitlines()[-1]
    assert ApiKey.objects.get(name="ipas").key_hash == hash_secret(key)

    again = edms("createapikey", "--name", "ipas", env=env)
    assert again.returncode != 0
    assert "exists" in again.stderr
    assert key not in again.stdout
    assert ApiKey.objects.filter(name="ipas").count() == 1


# --- fixity -----------------------------------------------------------------------------------


def fixity() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("fixity", stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def local_blob_path(sha256: str) -> Path:
    path = blobstore.local_path(sha256)
    if path is None:
        pytest.skip("tampering with stored blobs is tested on the filesystem store only")
    return Path(path)


@pytest.mark.django_db
def test_fixity_reports_counts_when_all_is_well():
    dossier = DossierFactory(key="BG/P/2024/11")
    for content in (b"one", b"two", b"three"):
        DocumentFactory(dossier=dossier, content=content)
    DocumentFactory(dossier=dossier, content=b"one")  # deduplicated: still three blobs
    output, error = fixity()
    assert error is None, output
    assert "fixity: 3 blob(s) checked, 3 ok, 0 bad" in output


@pytest.mark.django_db
def test_fixity_reports_missing_and_altered_blobs():
    dossier = DossierFactory(key="BG/P/2024/12")
    intact = DocumentFactory(dossier=dossier, content=b"intact").versions.get().blob_id
    deleted = DocumentFactory(dossier=dossier, content=b"deleted").versions.get().blob_id
    altered = DocumentFactory(dossier=dossier, content=b"altered").versions.get().blob_id

    local_blob_path(deleted).unlink()
    altered_path = local_blob_path(altered)
    altered_path.chmod(0o644)
    altered_path.write_bytes(b"tampered")

    output, error = fixity()
    assert error is not None and "2 blob(s) failed" in str(error)
    assert f"MISSING {deleted}" in output
    assert f"MISMATCH {altered}" in output
    assert intact not in output
    assert "fixity: 3 blob(s) checked, 1 ok, 2 bad" in output


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_edms_fixity_exit_status():
    DocumentFactory(dossier=DossierFactory(key="BG/P/2024/13"), content=b"kept safe")
    good = edms("fixity", env=process_env())
    assert good.returncode == 0, good.stderr
    assert "1 ok, 0 bad" in good.stdout

    broken = DocumentFactory(dossier=DossierFactory(key="BG/P/2024/14"), content=b"lost")
    local_blob_path(broken.versions.get().blob_id).unlink()
    bad = edms("fixity", env=process_env())
    assert bad.returncode != 0
    assert "MISSING" in bad.stdout


# --- check ------------------------------------------------------------------------------------


def test_edms_check_passes_on_the_default_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETUP_VARIABLES)}
    # Only the data directory is moved, so the check does not write into the working tree.
    env["EDMS_DATA_DIR"] = str(tmp_path)
    result = edms("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_edms_check_fails_on_a_bad_public_from_filing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETUP_VARIABLES)}
    env["EDMS_DATA_DIR"] = str(tmp_path)
    env["EDMS_PUBLIC_FROM_FILING"] = "trademark,spaceship"
    result = edms("check", env=env)
    assert result.returncode != 0
    assert "edms.E003" in result.stderr
    assert "spaceship" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("EDMS_OCR_DESKEW", "sometimes", "EDMS_OCR_DESKEW='sometimes' is not a boolean"),
        (
            "EDMS_OCR_ROTATE_PAGES_THRESHOLD",
            "high",
            "EDMS_OCR_ROTATE_PAGES_THRESHOLD='high' is not",
        ),
        ("EDMS_OCR_ROTATE_PAGES_THRESHOLD", "-1", "EDMS_OCR_ROTATE_PAGES_THRESHOLD=-1.0 is below"),
    ],
)
def test_edms_refuses_to_start_on_nonsense_ocr_options(tmp_path, variable, value, said):
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETUP_VARIABLES)}
    env["EDMS_DATA_DIR"] = str(tmp_path)
    env[variable] = value
    result = edms("check", env=env)
    assert result.returncode != 0
    assert said in result.stderr


def test_system_check_flags_unknown_ip_types(settings):
    settings.EDMS_PUBLIC_FROM_FILING = ["trademark", "tradmark"]
    errors = [p for p in check_configuration(None) if p.id == "edms.E003"]
    assert len(errors) == 1
    assert "tradmark" in errors[0].msg
    assert errors[0].is_serious()


def test_system_check_accepts_known_ip_types(settings):
    settings.EDMS_PUBLIC_FROM_FILING = ["trademark", "design"]
    assert not [p for p in check_configuration(None) if p.id == "edms.E003"]


def test_system_check_flags_a_non_positive_upload_limit(settings):
    settings.EDMS_MAX_UPLOAD_SIZE = 0
    assert "edms.E002" in {p.id for p in run_checks()}


def test_system_check_says_when_the_local_broker_cannot_start(settings, monkeypatch, tmp_path):
    settings.EDMS_LOCAL_BROKER_SOCKET = str(tmp_path / "broker.sock")  # the embedded default's
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server to be found
    warnings = [p for p in check_configuration(None) if p.id == "edms.W004"]
    assert len(warnings) == 1 and "redis-server" in warnings[0].hint
    settings.EDMS_LOCAL_BROKER_SOCKET = None  # a broker of its own: nothing to start
    assert not [p for p in check_configuration(None) if p.id == "edms.W004"]
