"""The audit trail's hash chain (dossier.audit_chain): every row is chained to the one before
it, and `edms audit verify` names the first row edited, deleted, inserted or reordered in SQL,
as someone with database access would do it; signed checkpoints pin the chain's head."""

from __future__ import annotations

import base64
import io
import itertools
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from dossier import audit_chain
from dossier.audit import Actor, record_audit
from dossier.models import AuditChainHead, AuditCheckpoint, AuditEvent

SEED = bytes(range(32))
KEY = base64.b64encode(SEED).decode()
CLIENT = "2001:DB8::7"  # a documentation address (RFC 3849), as a client may write it


def write_rows(count: int = 6) -> list[AuditEvent]:
    actor = Actor(label="clerk", request_id="req-1", client_address=CLIENT)
    return [
        record_audit(
            actor,
            "document.download",
            object_type="document",
            object_id=str(n),
            dossier_key="BG/P/2024/123" if n % 2 else "BG/P/2024/124",
            detail={"n": n, "name": "Prüfbericht", "z": [1, 2.5, None]},
        )
        for n in range(1, count + 1)
    ]


def verify(*args: str) -> tuple[str, bool]:
    out = io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except CommandError as exc:
        return f"{out.getvalue()}{exc}", False
    return out.getvalue(), True


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


TABLE = AuditEvent._meta.db_table
# These tests break the chain on purpose and check it themselves (see tests/conftest.py).
pytestmark = pytest.mark.audit_chain_tampered


@pytest.fixture
def rows(db) -> list[AuditEvent]:
    first = AuditChainHead.objects.get(pk=1).seq
    written = write_rows()
    assert [row.seq for row in written] == list(range(first + 1, first + 7))
    return written


def test_rows_are_chained_and_the_untouched_chain_verifies(rows):
    for earlier, later in itertools.pairwise(rows):
        assert later.prev_hash == earlier.row_hash
    reread = AuditEvent.objects.get(pk=rows[2].pk)
    assert audit_chain.row_hash(reread.prev_hash, reread) == reread.row_hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.row_hash) == (rows[-1].seq, rows[-1].row_hash)
    report, ok = verify()
    assert ok, report
    assert "chain holds" in report


def test_a_field_edited_in_sql_is_reported_at_its_row(rows):
    sql(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", "someone else", rows[3].pk)
    report, ok = verify()
    assert not ok
    assert f"row {rows[3].seq}: edited" in report


def test_the_detail_edited_in_sql_is_reported(rows):
    AuditEvent.objects.filter(pk=rows[1].pk).update(detail={"n": 2, "name": "other"})
    report, ok = verify()
    assert not ok and f"row {rows[1].seq}: edited" in report


def test_a_deleted_row_is_reported_by_its_number(rows):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows[2].pk)
    report, ok = verify()
    assert not ok
    assert f"row {rows[2].seq}: deleted" in report


def test_the_last_row_deleted_is_reported_against_the_head(rows):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows[-1].pk)
    report, ok = verify()
    assert not ok and f"row {rows[-1].seq}: deleted" in report


def test_a_deleted_row_with_later_rows_renumbered_is_still_reported(rows):
    sql(f"DELETE FROM {TABLE} WHERE id = %s", rows[2].pk)
    for row in rows[3:]:
        sql(f"UPDATE {TABLE} SET seq = seq - 1 WHERE id = %s", row.pk)
    AuditChainHead.objects.filter(pk=1).update(seq=rows[-2].seq)
    report, ok = verify()
    assert not ok and f"row {rows[2].seq}: deleted" in report


def test_two_swapped_rows_are_reported_as_reordered(rows):
    first, second = rows[2], rows[3]
    sql(f"UPDATE {TABLE} SET seq = -1 WHERE id = %s", first.pk)
    sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", first.seq, second.pk)
    sql(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", second.seq, first.pk)
    report, ok = verify()
    assert not ok
    assert f"row {first.seq}: reordered" in report


def forged_after(previous: AuditEvent, seq: int) -> AuditEvent:
    """A row forged by someone who knows the hashing rule: its own hash is right."""
    forged = AuditEvent(
        actor_label="clerk",
        action="document.download",
        object_type="document",
        object_id="999",
        dossier_key="BG/P/2024/123",
        detail={},
        seq=seq,
        prev_hash=previous.row_hash,
    )
    forged.row_hash = audit_chain.row_hash(previous.row_hash, forged)
    return forged


def test_a_forged_row_slipped_in_between_is_reported_as_inserted(rows):
    # Make room after rows[2] by renumbering the rows after it, as a forger would have to.
    for row in reversed(rows[3:]):
        sql(f"UPDATE {TABLE} SET seq = seq + 1 WHERE id = %s", row.pk)
    forged_after(rows[2], rows[3].seq).save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(seq=rows[-1].seq + 1)
    report, ok = verify()
    assert not ok
    assert f"row {rows[3].seq}: inserted" in report


def test_a_forged_row_past_the_head_is_reported_as_inserted(rows):
    forged_after(rows[-1], rows[-1].seq + 1).save(force_insert=True)
    report, ok = verify()
    assert not ok and f"row {rows[-1].seq + 1}: inserted" in report


def test_a_row_outside_the_chain_is_reported_as_inserted(rows):
    outside = AuditEvent.objects.create(actor_label="x", action="a", object_type="t", object_id="1")
    report, ok = verify()
    assert not ok and f"id {outside.pk} has no place in the chain" in report


def test_verify_since_checks_only_the_later_rows(rows):
    sql(f"UPDATE {TABLE} SET action = %s WHERE id = %s", "forged", rows[1].pk)
    report, ok = verify("--since", str(rows[3].seq))
    assert ok, report
    assert "3 rows" in report
    assert not verify("--since", str(rows[1].seq))[1]


@pytest.fixture
def signing_key(settings):
    settings.EDMS_AUDIT_SIGNING_KEY = KEY
    return Ed25519PrivateKey.from_private_bytes(SEED)


def test_a_checkpoint_signs_the_head_and_verifies_with_the_public_key(rows, signing_key):
    out = io.StringIO()
    call_command("audit", "public-key", stdout=out)
    pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert out.getvalue().strip() == pem.decode().strip()
    call_command("audit", "checkpoint", stdout=out)
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.seq, checkpoint.head_hash) == (rows[-1].seq, rows[-1].row_hash)
    report, ok = verify()
    assert ok and "1 checkpoints hold" in report


def test_a_checkpoint_whose_signature_or_head_does_not_match_fails(rows, signing_key):
    call_command("audit", "checkpoint", stdout=io.StringIO())
    checkpoint = AuditCheckpoint.objects.get()
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=rows[-2].seq)
    report, ok = verify()
    assert not ok and f"checkpoint {checkpoint.pk}" in report and "signature" in report
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(seq=rows[-1].seq)
    assert verify()[1]
    # The chain rebuilt from an edit onwards (every hash recomputed) no longer meets it.
    AuditEvent.objects.filter(pk=rows[-1].pk).update(object_id="forged")
    rebuilt = AuditEvent.objects.get(pk=rows[-1].pk)
    rebuilt.row_hash = audit_chain.row_hash(rebuilt.prev_hash, rebuilt)
    rebuilt.save(update_fields=["row_hash"])
    AuditChainHead.objects.filter(pk=1).update(row_hash=rebuilt.row_hash)
    report, ok = verify()
    assert not ok and f"checkpoint {checkpoint.pk}" in report and "head" in report


def test_the_sweep_signs_a_checkpoint_only_when_due(rows, signing_key, settings):
    from dossier.audit_signing import sweep_checkpoint

    assert sweep_checkpoint() == 1
    assert sweep_checkpoint() == 0  # nothing new
    write_rows(1)
    assert sweep_checkpoint() == 0  # too soon
    settings.EDMS_AUDIT_CHECKPOINT_INTERVAL = 0
    assert sweep_checkpoint() == 1
    assert AuditCheckpoint.objects.count() == 2


def test_without_a_key_no_checkpoint_is_written(rows, settings):
    settings.EDMS_AUDIT_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="EDMS_AUDIT_SIGNING_KEY"):
        call_command("audit", "checkpoint", stdout=io.StringIO())


def test_the_export_holds_the_dossiers_rows_and_the_proof(rows, signing_key, tmp_path):
    call_command("audit", "checkpoint", stdout=io.StringIO())
    target = tmp_path / "trail.jsonl"
    call_command("audit", "export", "BG/P/2024/000123", "--output", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    header, *entries, proof = lines
    assert header["dossier"] == "BG/P/2024/123"
    assert [entry["seq"] for entry in entries] == [rows[n].seq for n in (0, 2, 4)]
    assert entries[0]["detail"]["name"] == "Prüfbericht"
    assert proof["checkpoint"]["seq"] == rows[-1].seq
    assert proof["public_key"].startswith("-----BEGIN PUBLIC KEY")
    # Anyone can recompute each exported row's hash from what it shows, and the chain from the
    # first of them to the signed head from the other rows' content hashes (given, not shown).
    shown = {entry["seq"]: entry for entry in entries}
    others = {link["seq"]: link["content_hash"] for link in proof["links"]}
    assert set(others).isdisjoint(shown)
    running = entries[0]["prev_hash"]
    for seq in range(entries[0]["seq"], proof["checkpoint"]["seq"] + 1):
        if seq in shown:
            assert shown[seq]["prev_hash"] == running
            running = audit_chain.hash_of_export(shown[seq])
            assert running == shown[seq]["row_hash"]
        else:
            running = audit_chain.link_hash(running, others[seq])
    assert running == proof["checkpoint"]["head_hash"]


@override_settings(EDMS_AUDIT_CHAIN=False)
def test_with_the_chain_off_rows_are_written_unchained(db):
    [row] = write_rows(1)
    assert row.seq is None and row.row_hash == ""


WRITERS = 6
ROWS_EACH = 15


def _write_from_a_thread(barrier) -> None:
    from django.db import connections

    try:
        barrier.wait()
        write_rows(ROWS_EACH)
    finally:
        connections.close_all()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_leave_one_gapless_chain():
    """Writers in threads (each its own connection) at once: no fork, no gap, no duplicate."""
    import threading

    barrier = threading.Barrier(WRITERS)
    threads = [
        threading.Thread(target=_write_from_a_thread, args=(barrier,)) for _ in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == WRITERS * ROWS_EACH
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    report, ok = verify()
    assert ok, report
