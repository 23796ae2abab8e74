"""A dossier's audit trail as evidence (`edms audit export`, the API's audit call): its rows
with the fields their hashes cover, the latest signed checkpoint, and the content hashes of the
rows between them, so that anyone holding the public key can recompute the chain from the
dossier's first row up to the signed head without seeing other dossiers' rows.

`chain_export_lines` writes every row from one on in the same form (`edms audit export --since`;
the test suite archives each test's rows so; `dossier.audit_export_check` verifies either)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from dossier import audit_chain
from dossier.audit_signing import (
    key_id,
    public_key_pem,
    signed_message,
    signing_key,
    write_checkpoint,
)
from dossier.models import AuditChainHead, AuditCheckpoint, AuditEvent

FORMAT = "edms-audit-export/1"


def entry(event: AuditEvent) -> dict:
    """One row as exported: its hashed fields, its place and its hashes."""
    return {
        "seq": event.seq,
        **audit_chain.canonical_fields(event),
        "prev_hash": event.prev_hash,
        "row_hash": event.row_hash,
    }


def trail(dossier_key: str) -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.filter(dossier_key=dossier_key)
        .order_by("seq", "id")
        .iterator(chunk_size=2000)
    )


def checkpoint_dict(checkpoint: AuditCheckpoint | None) -> dict | None:
    if checkpoint is None:
        return None
    return {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "at": checkpoint.at.isoformat(timespec="microseconds"),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def export_lines(dossier_key: str) -> Iterator[dict]:
    """The export as JSON-lines objects: a header, one line per row, and the proof. With a
    signing key configured a fresh checkpoint is signed first when rows are past the last one."""
    key = signing_key()
    latest = AuditCheckpoint.objects.order_by("-seq", "-id").first()
    last_row = AuditEvent.objects.filter(dossier_key=dossier_key).order_by("-seq").first()
    if key is not None and last_row is not None and last_row.seq is not None:
        if latest is None or latest.seq < last_row.seq:
            latest = write_checkpoint(key)
    yield {"format": FORMAT, "dossier": dossier_key}
    first_seq = None
    own: set[int] = set()
    for event in trail(dossier_key):
        if event.seq is not None:
            first_seq = event.seq if first_seq is None else first_seq
            own.add(event.seq)
        yield entry(event)
    links = []
    if latest is not None and first_seq is not None and first_seq <= latest.seq:
        between = (
            AuditEvent.objects.filter(seq__gt=first_seq, seq__lte=latest.seq)
            .exclude(seq__in=own)
            .order_by("seq")
        )
        links = [
            {
                "seq": other.seq,
                "content_hash": audit_chain.content_hash(audit_chain.canonical_fields(other)),
            }
            for other in between.iterator(chunk_size=2000)
        ]
    yield proof(checkpoint_dict(latest), key, links)


def proof(checkpoint: dict | None, key: Ed25519PrivateKey | None, links: list[dict]) -> dict:
    """An export's last line: the checkpoint, the key to check it with, the other rows."""
    public = key.public_key() if key is not None else None
    return {
        "checkpoint": checkpoint,
        "public_key": public_key_pem(public) if public is not None else None,
        "public_key_id": key_id(public) if public is not None else None,
        "links": links,
        "signed_message": "edms-audit-checkpoint:v1:{seq}:{head_hash}:{at}",
    }


def chain_export_lines(
    since: int, *, key: Ed25519PrivateKey | None = None, label: str = ""
) -> Iterator[dict]:
    """Every row from row `since` to the chain's head, as JSON-lines objects: a header naming
    the range, the rows, and the proof. With the configured key, the head's checkpoint is the
    latest stored one, or a fresh one signed and stored; with `key` given (the test suite's own
    key), the head is signed without storing a checkpoint (the database is not the office's)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    until = head.seq if head is not None else 0
    checkpoint = None
    if key is not None:
        if head is not None and until >= since:
            checkpoint = _signed_head(key, head)
    else:
        key = signing_key()
        latest = AuditCheckpoint.objects.order_by("-seq", "-id").first()
        if key is not None and until >= since and (latest is None or latest.seq < until):
            latest = write_checkpoint(key)
        if latest is not None and latest.seq >= since:
            checkpoint = checkpoint_dict(latest)
    header = {"format": FORMAT, "since": since, "until": until}
    if label:
        header["label"] = label
    yield header
    rows = AuditEvent.objects.filter(seq__gte=since, seq__lte=until).order_by("seq")
    for event in rows.iterator(chunk_size=2000):
        yield entry(event)
    yield proof(checkpoint, key, [])


def _signed_head(key: Ed25519PrivateKey, head: AuditChainHead) -> dict:
    at = timezone.now()
    return {
        "seq": head.seq,
        "head_hash": head.row_hash,
        "at": at.isoformat(timespec="microseconds"),
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(
            key.sign(signed_message(head.seq, head.row_hash, at))
        ).decode(),
    }
