"""Exported audit trails verified offline (`edms audit verify --export`): an export edited,
cut or reordered is reported at the row and in the words the database's verify uses for the
same tampering; the checkpoint must be the office's key's. And the CI wiring: a test session
with EDMS_TEST_AUDIT_ARCHIVE archives each test's rows, and the verify over the archive holds,
or fails naming the test whose trail was changed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from dossier import audit_chain
from dossier.models import AuditEvent
from tests.audit_archive import ARCHIVE_VARIABLE, PUBLIC_KEY_FILE
from tests.dossier.test_audit_chain import KEY, SEED, TABLE, sql, verify, write_rows

# These tests break the chain on purpose and check it themselves (see tests/conftest.py).
pytestmark = pytest.mark.audit_chain_tampered


@pytest.fixture
def office_key(settings) -> Ed25519PrivateKey:
    settings.EDMS_AUDIT_SIGNING_KEY = KEY
    return Ed25519PrivateKey.from_private_bytes(SEED)


@pytest.fixture
def public_key_file(office_key, tmp_path) -> Path:
    """The office's public key as `edms audit public-key` prints it."""
    out = io.StringIO()
    call_command("audit", "public-key", stdout=out)
    path = tmp_path / "office.pem"
    path.write_text(out.getvalue())
    return path


@pytest.fixture
def rows(db) -> list[AuditEvent]:
    return write_rows()


def export(tmp_path: Path, *args: str) -> Path:
    target = tmp_path / "trail.jsonl"
    call_command("audit", "export", *args, "--output", str(target))
    return target


def verify_export(path: Path, public_key_file: Path | None) -> tuple[str, bool]:
    args = ["--export", str(path)]
    if public_key_file is not None:
        args += ["--public-key", str(public_key_file)]
    return verify(*args)


def rewrite(path: Path, change) -> None:
    """Apply `change` to the export's row lines (a list of dicts), as someone editing it would."""
    header, *rows, proof = [json.loads(line) for line in path.read_text().splitlines()]
    rows = change(rows)
    lines = [header, *rows, proof]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


def db_break(report: str) -> str:
    """The break the database's verify names: `row N: kind (detail)`."""
    return report.splitlines()[1].strip()


def test_an_untouched_chain_export_verifies_under_the_office_key(rows, public_key_file, tmp_path):
    path = export(tmp_path, "--since", str(rows[0].seq))
    header = json.loads(path.read_text().splitlines()[0])
    assert (header["since"], header["until"]) == (rows[0].seq, rows[-1].seq)
    report, ok = verify_export(path, public_key_file)
    assert ok, report
    assert "6 rows in 1 exported trails, 1 with a checkpoint whose signature holds" in report
    assert "by the given public key" in report


def test_a_checkpoint_signed_by_another_key_fails(rows, office_key, tmp_path):
    path = export(tmp_path, "--since", str(rows[0].seq))
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    report, ok = verify_export(path, other)
    assert not ok and f"checkpoint (row {rows[-1].seq}): signed by key" in report
    # A signature that does not match what it signs fails even under the export's own key.
    lines = path.read_text().splitlines()
    proof = json.loads(lines[-1])
    proof["checkpoint"]["at"] = "2020-01-01T00:00:00.000000+00:00"
    path.write_text("\n".join([*lines[:-1], json.dumps(proof)]) + "\n")
    report, ok = verify_export(path, None)
    assert not ok and "bad signature" in report


def _edit(rows_):
    rows_[3]["actor_label"] = "someone else"
    return rows_


def _delete(rows_):
    del rows_[2]
    return rows_


def _swap(rows_):
    rows_[2]["seq"], rows_[3]["seq"] = rows_[3]["seq"], rows_[2]["seq"]
    return rows_


def _delete_last(rows_):
    return rows_[:-1]


def _edit_in_sql(rows):
    sql(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", "someone else", rows[3].pk)


def _delete_in_sql(rows):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows[2].pk)


def _swap_in_sql(rows):
    first, second = rows[2], rows[3]
    sql(f"UPDATE {TABLE} SET seq = -1 WHERE id = %s", first.pk)
    sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", first.seq, second.pk)
    sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", second.seq, first.pk)


def _delete_last_in_sql(rows):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows[-1].pk)


@pytest.mark.parametrize(
    "in_export, in_sql, expected",
    [
        (_edit, _edit_in_sql, "row {3}: edited"),
        (_delete, _delete_in_sql, "row {2}: deleted"),
        (_swap, _swap_in_sql, "row {2}: reordered"),
        (_delete_last, _delete_last_in_sql, "row {5}: deleted"),
    ],
    ids=["edited", "deleted", "swapped", "last-deleted"],
)
def test_a_tampered_export_is_reported_as_the_database_verify_reports_it(
    rows, public_key_file, tmp_path, in_export, in_sql, expected
):
    path = export(tmp_path, "--since", str(rows[0].seq))
    rewrite(path, in_export)
    report, ok = verify_export(path, public_key_file)
    assert not ok
    # The same change made in the database, as the database's verify names it.
    in_sql(rows)
    db_report, db_ok = verify()
    assert not db_ok
    named = db_break(db_report)
    assert named.startswith(expected.format(*[row.seq for row in rows])), named
    assert f"(rows): {named}" in report, report
    assert "1 failing" in report


def test_line_order_is_not_row_order(rows, public_key_file, tmp_path):
    """A row's number is its place: lines shuffled in the file with their numbers prove the
    same trail, while numbers moved between rows (above) are a reordering."""
    path = export(tmp_path, "--since", str(rows[0].seq))
    rewrite(path, lambda rows_: list(reversed(rows_)))
    report, ok = verify_export(path, public_key_file)
    assert ok, report


def test_a_dossiers_export_verifies_and_its_tampering_is_named(rows, public_key_file, tmp_path):
    # Rows 1, 3 and 5 are the dossier's; 2, 4 and 6 another's, given by their content hashes.
    path = export(tmp_path, "BG/P/2024/123")
    report, ok = verify_export(path, public_key_file)
    assert ok, report
    assert "3 rows in 1 exported trails, 1 with a checkpoint" in report
    original = path.read_text()

    rewrite(path, lambda rows_: [rows_[0], {**rows_[1], "object_id": "42"}, rows_[2]])
    report, ok = verify_export(path, public_key_file)
    assert not ok and f"row {rows[2].seq}: edited" in report

    path.write_text(original)
    rewrite(path, lambda rows_: [rows_[0], rows_[2]])
    report, ok = verify_export(path, public_key_file)
    assert not ok and f"row {rows[2].seq}: deleted" in report

    # Edited and its hash recomputed: the chain no longer reaches the signed head.
    path.write_text(original)

    def rebuilt(rows_):
        rows_[2]["object_id"] = "42"
        rows_[2]["row_hash"] = audit_chain.hash_of_export(rows_[2])
        return rows_

    rewrite(path, rebuilt)
    report, ok = verify_export(path, public_key_file)
    assert not ok
    assert f"checkpoint (row {rows[-1].seq}): the row's hash is not the signed head" in report


def test_not_an_export_is_refused(db, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report, ok = verify("--export", str(empty))
    assert not ok and "holds no exported audit trail" in report
    with pytest.raises(CommandError, match="goes with --export"):
        call_command("audit", "verify", "--public-key", "x.pem", stdout=io.StringIO())


# The backends' variables CI's legs set; the nested session runs on the embedded default.
_BACKEND_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "EDMS_S3_BUCKET", "EDMS_SQLITE_PATH")
_ARCHIVED_TESTS = [
    "tests/api/test_audit_trail_api.py::test_records_clerk_reads_the_trail_oldest_first_with_its_hashes",
    "tests/api/test_audit_trail_api.py::test_admin_reads_the_trail_and_a_bad_filter_is_a_problem",
]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="once is enough (on leg 1)")
def test_ci_verifies_the_archive_a_test_session_wrote(tmp_path):
    """What .ci/run does after legs 1 and 2, on a session of two tests."""
    archive = tmp_path / "archive"
    env = {name: value for name, value in os.environ.items() if name not in _BACKEND_VARIABLES}
    env |= {ARCHIVE_VARIABLE: str(archive), "EDMS_DATA_DIR": str(tmp_path / "data")}
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_ARCHIVED_TESTS],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert session.returncode == 0, session.stdout[-3000:] + session.stderr[-3000:]

    def ci_verify() -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "edms.cli", "audit", "verify", "--export", str(archive)]
        command += ["--public-key", str(archive / PUBLIC_KEY_FILE)]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    verified = ci_verify()
    assert verified.returncode == 0, verified.stderr
    assert "in 2 exported trails, 2 with a checkpoint whose signature holds" in verified.stdout

    # A row of the second test's trail changed: CI fails and names that test and the row.
    [archived] = archive.glob("audit-*.jsonl")
    lines = archived.read_text().splitlines()
    second = max(n for n, line in enumerate(lines) if '"format"' in line)
    row = json.loads(lines[second + 1])
    row["actor_label"] = "someone else"
    lines[second + 1] = json.dumps(row)
    archived.write_text("\n".join(lines) + "\n")
    broken = ci_verify()
    assert broken.returncode != 0
    assert f"{_ARCHIVED_TESTS[1]}): row {row['seq']}: edited" in broken.stderr
