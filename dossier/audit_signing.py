"""Signed checkpoints of the audit chain: an Ed25519 signature over a row's sequence number and
hash, by the key in EDMS_AUDIT_SIGNING_KEY (or _FILE), so that whoever holds only the public key
(`edms audit public-key`) can tell the chain up to that row is the one edms wrote."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from dossier.models import AuditChainHead, AuditCheckpoint, AuditEvent


def signing_key() -> Ed25519PrivateKey | None:
    """The configured key, or None. Base64 of the 32-byte raw key, or a PEM (PKCS#8) block."""
    text = (settings.EDMS_AUDIT_SIGNING_KEY or "").strip()
    if not text:
        return None
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("EDMS_AUDIT_SIGNING_KEY is a PEM key but not Ed25519")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured("EDMS_AUDIT_SIGNING_KEY is neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured("EDMS_AUDIT_SIGNING_KEY must hold 32 bytes (an Ed25519 seed)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def signed_message(seq: int, head_hash: str, at: dt.datetime) -> bytes:
    """The bytes a checkpoint signs (stated in the README so others can check it)."""
    when = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return f"edms-audit-checkpoint:v1:{seq}:{head_hash}:{when}".encode()


def write_checkpoint(key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """Sign the chain's head as it stands (None when the chain is empty)."""
    with transaction.atomic():
        # Read the head under its lock, so no row is half written past it.
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None or head.seq == 0:
            return None
        at = timezone.now()
        signature = key.sign(signed_message(head.seq, head.row_hash, at))
        return AuditCheckpoint.objects.create(
            seq=head.seq,
            head_hash=head.row_hash,
            at=at,
            key_id=key_id(key.public_key()),
            signature=base64.b64encode(signature).decode(),
        )


def checkpoint_if_due() -> AuditCheckpoint | None:
    """A checkpoint when a key is configured, rows were added since the last one and it is
    older than EDMS_AUDIT_CHECKPOINT_INTERVAL seconds (what `edms run` calls periodically)."""
    key = signing_key()
    if key is None:
        return None
    last = AuditCheckpoint.objects.order_by("-seq", "-id").first()
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or (last is not None and last.seq >= head.seq):
        return None
    interval = dt.timedelta(seconds=settings.EDMS_AUDIT_CHECKPOINT_INTERVAL)
    if last is not None and timezone.now() - last.at < interval:
        return None
    return write_checkpoint(key)


def signature_holds(checkpoint: AuditCheckpoint, key: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        key.verify(signature, signed_message(checkpoint.seq, checkpoint.head_hash, checkpoint.at))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sweep_checkpoint() -> int:
    """The sweep hook: 1 when a checkpoint was written, else 0."""
    return 0 if checkpoint_if_due() is None else 1


def checkpoint_problems(public_key: Ed25519PublicKey | None, since: int = 1) -> list[str]:
    """Checkpoints (from row `since` on) whose signature does not hold under the public key, or
    whose row is missing or no longer has the signed hash."""
    problems = []
    hashes = dict(
        AuditEvent.objects.filter(
            seq__in=AuditCheckpoint.objects.filter(seq__gte=since).values("seq")
        ).values_list("seq", "row_hash")
    )
    for checkpoint in AuditCheckpoint.objects.filter(seq__gte=since).order_by("seq", "id"):
        if public_key is not None and not signature_holds(checkpoint, public_key):
            problems.append(f"checkpoint {checkpoint.pk} (row {checkpoint.seq}): bad signature")
        elif hashes.get(checkpoint.seq) != checkpoint.head_hash:
            problems.append(
                f"checkpoint {checkpoint.pk} (row {checkpoint.seq}): the row's hash is not the "
                "signed head"
            )
    return problems
