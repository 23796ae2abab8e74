"""A dossier's audit trail as evidence (`edms audit export`, the API's audit call): its rows
with the fields their hashes cover, the latest signed checkpoint, and the content hashes of the
rows between them, so that anyone holding the public key can recompute the chain from the
dossier's first row up to the signed head without seeing other dossiers' rows."""

from __future__ import annotations

from collections.abc import Iterator

from dossier import audit_chain
from dossier.audit_signing import key_id, public_key_pem, signing_key, write_checkpoint
from dossier.models import AuditCheckpoint, AuditEvent

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
    public = key.public_key() if key is not None else None
    yield {
        "checkpoint": checkpoint_dict(latest),
        "public_key": public_key_pem(public) if public is not None else None,
        "public_key_id": key_id(public) if public is not None else None,
        "links": links,
        "signed_message": "edms-audit-checkpoint:v1:{seq}:{head_hash}:{at}",
    }
