"""The test session's audit archive: with EDMS_TEST_AUDIT_ARCHIVE naming a directory, every
test's audit rows are appended there as `edms audit export --since` writes them (the rows with
their hashes, and a checkpoint of the test's last row), before the test's transaction takes them
away. CI then runs `edms audit verify --export DIR --public-key DIR/public-key.pem` over
everything the suite wrote (.ci/run).

The checkpoints are signed with a key of the archive's own (`suite-signing-key.pem`, made by the
first session that writes there, shared by later ones), never stored in the test database: it is
a test key, kept beside the archive only so that its sessions agree on one public key.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ARCHIVE_VARIABLE = "EDMS_TEST_AUDIT_ARCHIVE"
PUBLIC_KEY_FILE = "public-key.pem"
_SIGNING_KEY_FILE = "suite-signing-key.pem"


def archive_dir() -> Path | None:
    """The archive directory, or None when archiving is off (the variable is unset)."""
    named = os.environ.get(ARCHIVE_VARIABLE, "").strip()
    return Path(named) if named else None


def _create_once(path: Path, content: bytes) -> None:
    """Write `path` unless it exists, atomically: concurrent sessions keep the first one's."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as draft:
        draft.write(content)
    try:
        os.link(draft.name, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft.name)


@cache
def signing_key(archive: Path) -> Ed25519PrivateKey:
    archive.mkdir(parents=True, exist_ok=True)
    key_file = archive / _SIGNING_KEY_FILE
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _create_once(key_file, pem)
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create_once(archive / PUBLIC_KEY_FILE, public)
    return key


def archive_rows(archive: Path, since: int, label: str) -> int:
    """Append the chain from row `since` to its head to this process's file; the rows written."""
    from dossier.audit_export import chain_export_lines

    rows = 0
    lines = chain_export_lines(since, key=signing_key(archive), label=label)
    with (archive / f"audit-{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        for line in lines:
            rows += "row_hash" in line
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return rows
