"""The audit trail's hash chain: every row carries the SHA-256 of its canonical content joined to
the hash of the row before it, and a sequence number. Editing, deleting, inserting or reordering
rows breaks a link that `verify_chain` finds; signed checkpoints (`dossier.audit_signing`) pin
the chain's head so that it cannot be rebuilt from the edit onwards without the signing key.

One chain for the whole database: a writer moves the one-row head (`AuditChainHead`) with an
UPDATE inside the transaction that writes the row, so concurrent writers (web processes, workers)
queue on that row lock on PostgreSQL, and SQLite (IMMEDIATE transactions) serialises them already.
The lock is held until the writer's transaction commits: a rolled-back action takes its row and
its step of the head with it, so the chain has neither forks nor gaps.

**Lock order.** Because the head is held until commit, it must be the last lock a transaction
takes (only the event feed's advisory lock, `dossier.events.append_event`, comes after it, and
always after it). Every action keeps that order on its own: it locks its rows (the document, the
dossier, the hold, the batch, the blob) first and writes its audit row last, beside its outbox
event; what it writes after the audit row is new rows (the event), which wait on no one. The
order breaks only when one transaction runs several actions one after another: the second locks
its rows while holding the head since the first's audit row, and a writer that locked one of
those rows first and now waits for the head makes a deadlock (PostgreSQL aborts one of them).
Checked (stop 30) for every `record_audit` caller:
- approving a disposition batch (`retention.disposition.approve_disposition`) expunges document
  after document; it runs outside a transaction (each expunge its own), but the API's
  `Idempotency-Key` handling wrapped the whole request in one on PostgreSQL. That view now
  claims its key apart from the work (`api.idempotency.IdempotentMixin.claim_with_the_work`);
  tests/retention/test_disposition_lock_order.py has the two writers in opposite orders.
- filing content whose stored copy was marked corrupt repairs it (`Blob.objects.store`, which
  audits `blob.repaired`) before the filing action locks the document; inside an outer
  transaction (an upload session's commit, `api.upload_filing`) that is the head before the
  document. Left as it is: it needs a corrupt blob refiled at the moment the same document is
  changed, and the deadlock then aborts one request (5xx: the upload can be committed again).
A new caller that runs several actions in one transaction must do the same: one transaction
per action, or every row lock taken before the first audit row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from dossier.models import AuditChainHead, AuditEvent

GENESIS = ""  # the `prev_hash` of the first row


def canonical_fields(event: AuditEvent) -> dict:
    """The row's hashed fields as plain JSON values: the same for the row as written and as
    read back from either database (times in UTC with microseconds, addresses normalised)."""
    address = event.client_address
    return {
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_ref,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "dossier_key": event.dossier_key,
        "request_id": event.request_id,
        "client_address": str(ipaddress.ip_address(address)) if address else "",
        "detail": event.detail,
    }


def content_hash(fields: dict) -> str:
    """SHA-256 of the fields as sorted, compact UTF-8 JSON (the canonical content)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def link_hash(prev_hash: str, content: str) -> str:
    """A row's hash: its content's hash chained to the row before it. Kept apart from the
    content so that an export can prove a dossier's rows without showing other dossiers'."""
    return hashlib.sha256(f"{prev_hash}:{content}".encode("ascii")).hexdigest()


def row_hash(prev_hash: str, event: AuditEvent) -> str:
    """The hash a row must carry."""
    return link_hash(prev_hash, content_hash(canonical_fields(event)))


def hash_of_export(entry: dict) -> str:
    """The hash of an exported row (`edms audit export`), recomputed from what it shows."""
    fields = {name: entry[name] for name in HASHED_FIELDS}
    return link_hash(entry["prev_hash"], content_hash(fields))


HASHED_FIELDS = (
    "at",
    "actor",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "dossier_key",
    "request_id",
    "client_address",
    "detail",
)


def append(event: AuditEvent) -> AuditEvent:
    """Save the (unsaved) row as the chain's next one."""
    # The detail is hashed as the database will give it back (plain JSON types).
    event.detail = json.loads(json.dumps(event.detail))
    # Raw statements: the head moves on every audited action, and the ORM's three queries cost
    # more than the chain's hashing (see tests/bench/audit_chain.py).
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # The UPDATE takes the head's row lock (SQLite: the write lock) and reads it at once.
        advance = f"UPDATE {head} SET seq = seq + 1 WHERE id = 1 RETURNING seq, row_hash"
        cursor.execute(advance)
        moved = cursor.fetchone()
        if moved is None:
            # No head yet (a database flushed by a test): start one, whoever wins.
            AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
            cursor.execute(advance)
            moved = cursor.fetchone()
        event.seq, event.prev_hash = moved
        event.row_hash = row_hash(event.prev_hash, event)
        event.save(force_insert=True)
        cursor.execute(f"UPDATE {head} SET row_hash = %s WHERE id = 1", [event.row_hash])
    return event


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: the sequence number and what was done there."""

    seq: int | None
    kind: str  # edited, deleted, inserted, reordered
    detail: str

    def __str__(self) -> str:
        where = f"row {self.seq}" if self.seq is not None else "a row outside the chain"
        return f"{where}: {self.kind} ({self.detail})"


def chained_rows(since: int = 1) -> Iterator[AuditEvent]:
    return AuditEvent.objects.filter(seq__gte=since).order_by("seq").iterator(chunk_size=2000)


@dataclass(frozen=True)
class Link:
    """What the walk needs of a row: its place, its hashes, and whether its content still
    matches its hash. Read from the database (`verify_chain`) or from an export
    (`dossier.audit_export_check`), so both name the same break in the same words."""

    seq: int
    prev_hash: str
    row_hash: str
    content_holds: bool


def link_of(event: AuditEvent) -> Link:
    return Link(
        event.seq,
        event.prev_hash,
        event.row_hash,
        row_hash(event.prev_hash, event) == event.row_hash,
    )


def walk(
    links: Iterator[Link], since: int, points_at: Callable[[str], int | None]
) -> tuple[int, Break | None, Link | None]:
    """Walk rows in their order from row `since` (trusting its link backwards): how many were
    checked, the first break, and the last row. `points_at` gives the number of the row that
    carries a hash (None if none does)."""
    previous: Link | None = None
    checked = 0
    link = next(links, None)
    while link is not None:
        following = next(links, None)
        checked += 1
        found = _break_at(link, previous, following, since, points_at)
        if found is not None:
            return checked, found, link
        previous, link = link, following
    return checked, None, previous


def verify_chain(since: int = 1) -> tuple[int, Break | None]:
    """Walk the chain from row `since` (trusting that row's link backwards) and return how many
    rows were checked and the first break, if any."""
    with _one_snapshot():
        links = (link_of(event) for event in chained_rows(since))
        checked, found, last = walk(links, since, _chained_row_with_hash)
        if found is not None:
            return checked, found
        return checked, _break_at_the_end(last)


@contextlib.contextmanager
def _one_snapshot() -> Iterator[None]:
    """The rows and the head read as of one moment. On a live system a write commits its row and
    the head together; read apart (PostgreSQL's READ COMMITTED gives each query its own
    snapshot), a write landing between the walk and the head's read looked like rows cut off the
    chain's end. Inside a caller's transaction its snapshot rules (a test's, a command's)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _chained_row_with_hash(hash_: str) -> int | None:
    return (
        AuditEvent.objects.filter(row_hash=hash_, seq__isnull=False)
        .values_list("seq", flat=True)
        .first()
    )


def _break_at(
    event: Link,
    previous: Link | None,
    following: Link | None,
    since: int,
    points_at: Callable[[str], int | None],
) -> Break | None:
    expected_seq = since if previous is None else previous.seq + 1
    if not event.content_holds:
        return Break(event.seq, "edited", "its content does not match its hash")
    if previous is None:
        if event.seq != expected_seq:
            gone = f"{expected_seq}..{event.seq - 1}"
            return Break(expected_seq, "deleted", f"rows {gone} are missing")
        if since == 1 and event.prev_hash != GENESIS:
            return Break(event.seq, "deleted", "the chain's first row is gone")
        return None
    if event.prev_hash == previous.row_hash:
        if event.seq != expected_seq:  # linked right, numbered wrong: the numbers were edited
            return Break(event.seq, "edited", f"numbered {event.seq}, not {expected_seq}")
        return None
    # The link is broken: where the row's `prev_hash` points tells what happened.
    target = points_at(event.prev_hash)
    if target is not None and target > event.seq:
        return Break(event.seq, "reordered", f"it follows row {target}, found after it")
    if event.prev_hash == previous.prev_hash and previous.prev_hash:
        # This row's predecessor was slipped in before it (later rows renumbered).
        return Break(previous.seq, "inserted", f"row {event.seq} does not follow it")
    if following is not None and following.prev_hash == previous.row_hash:
        return Break(
            event.seq, "inserted", f"row {previous.seq} is followed by row {following.seq}"
        )
    if event.seq != expected_seq:
        return Break(expected_seq, "deleted", f"rows {expected_seq}..{event.seq - 1} are missing")
    return Break(event.seq, "deleted", f"the row it follows is not row {previous.seq}")


def break_against_head(last: Link | None, head_seq: int, head_name: str) -> Break | None:
    """Rows cut off the chain's end, or added past its head (`head_name` says what the head
    is: the database's chain head, or an export's last row)."""
    if last is None or head_seq == last.seq:
        return None
    if head_seq > last.seq:
        return Break(last.seq + 1, "deleted", f"the chain ends at {last.seq}, not {head_seq}")
    return Break(head_seq + 1, "inserted", f"{head_name} is row {head_seq}")


def _break_at_the_end(last: Link | None) -> Break | None:
    """Rows cut off the chain's end, or added past its head, or outside it."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None:
        found = break_against_head(last, head.seq, "the chain's head")
        if found is not None:
            return found
    outside = AuditEvent.objects.filter(seq__isnull=True).order_by("id").first()
    if outside is not None:
        return Break(None, "inserted", f"id {outside.pk} has no place in the chain")
    return None


def chain_existing_rows(events, head_model) -> int:
    """Chain rows written before the chain existed, in the order they were written (used by the
    migration that adds it, with its historical models)."""
    prev = GENESIS
    seq = 0
    for event in events.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.actor_ref = str(event.actor_id) if event.actor_id is not None else ""
        event.seq = seq
        event.prev_hash = prev
        event.row_hash = row_hash(prev, event)
        event.save(update_fields=["actor_ref", "seq", "prev_hash", "row_hash"])
        prev = event.row_hash
    head_model.objects.update_or_create(pk=1, defaults={"seq": seq, "row_hash": prev})
    return seq
