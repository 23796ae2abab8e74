"""Verifying an exported audit trail offline (`edms audit verify --export PATH`), with nothing but
the export and the office's public key: what a court or an appeal board receiving
`edms audit export` can run, and what CI runs over the trails the whole test suite wrote.

An export (`dossier.audit_export`) is JSON lines: a header, its rows, and a proof (a checkpoint,
the public key, the content hashes of other rows). A file may hold several exports one after
the other. Each row's hash is recomputed from what it shows and the chain is walked in row-number
order, with the other rows' hashes filled in from their content hashes, so a row edited, deleted,
inserted or reordered is named in the words `edms audit verify` uses for the database
(`dossier.audit_chain`); then the chain must reach the checkpoint's hash, signed by the key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dossier import audit_chain
from dossier.audit_export import FORMAT
from dossier.audit_signing import key_id, signed_message


@dataclass
class ExportedTrail:
    """One export as read: where it starts, its header, rows and proof."""

    source: str  # file:line of its header
    header: dict
    rows: list[dict] = field(default_factory=list)
    proof: dict | None = None

    @property
    def name(self) -> str:
        what = self.header.get("label") or self.header.get("dossier") or "rows"
        return f"{self.source} ({what})"


@dataclass(frozen=True)
class TrailReport:
    rows: int
    signed: bool  # a checkpoint was checked
    problems: list[str]


def read_exports(path: Path) -> Iterator[ExportedTrail]:
    """The exports in a file, or in every `*.jsonl` file of a directory (sorted by name)."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        yield from _exports_in(file)


def _exports_in(file: Path) -> Iterator[ExportedTrail]:
    current: ExportedTrail | None = None
    with file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            if "format" in item:
                if current is not None:
                    yield current
                current = ExportedTrail(f"{file}:{number}", item)
            elif current is None:
                raise ValueError(f"{file}:{number}: a line before any export's header")
            elif "checkpoint" in item and "links" in item:
                current.proof = item
            else:
                current.rows.append(item)
    if current is not None:
        yield current


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def verify_trail(trail: ExportedTrail, public_key: Ed25519PublicKey | None) -> TrailReport:
    """Check one export: its rows' chain, then its checkpoint against `public_key` (without one,
    against the key the export carries, which proves only that the export is whole)."""
    if trail.header.get("format") != FORMAT:
        return TrailReport(0, False, [f"not an export of {FORMAT}: {trail.header.get('format')}"])
    if trail.proof is None:
        return TrailReport(len(trail.rows), False, ["the export is cut short: no proof line"])
    chained = [row for row in trail.rows if row.get("seq") is not None]
    if len(chained) < len(trail.rows):
        found = audit_chain.Break(None, "inserted", "a row without a number has no place in it")
        return TrailReport(len(trail.rows), False, [str(found)])
    checkpoint = trail.proof.get("checkpoint")
    # A whole-chain export names its range; a dossier's runs from its first row to the
    # checkpoint (the rows of others in between given by their content hashes), and its rows
    # past the checkpoint are checked each on its own (others' rows between them are unknown).
    since = trail.header.get("since")
    until = trail.header.get("until")
    if since is None:
        chained.sort(key=lambda row: row["seq"])
        since = chained[0]["seq"] if chained else 1
        until = checkpoint["seq"] if checkpoint else since - 1
        past = [row for row in chained if row["seq"] > until]
        chained = [row for row in chained if row["seq"] <= until]
    else:
        past = []
    links = _links(chained, trail.proof.get("links") or [])
    carrying = {link.row_hash: link.seq for link in links}
    _checked, found, last = audit_chain.walk(iter(links), since, carrying.get)
    if found is None:
        found = audit_chain.break_against_head(last, until, "the export's last row")
        if found is None and last is None and until >= since:
            found = audit_chain.Break(since, "deleted", f"rows {since}..{until} are missing")
    for row in past:
        if found is None and audit_chain.hash_of_export(row) != row["row_hash"]:
            found = audit_chain.Break(row["seq"], "edited", "its content does not match its hash")
    problems = [str(found)] if found is not None else []
    if checkpoint is not None and found is None:
        problems += _checkpoint_problems(checkpoint, links, trail.proof, public_key)
    rows = len(trail.rows)
    return TrailReport(rows, checkpoint is not None and not problems, problems)


def _links(rows: list[dict], others: list[dict]) -> list[audit_chain.Link]:
    """The rows and the other rows' content hashes as one walk, in row-number order (a
    row's line order in the file does not matter: its number is its place)."""
    others_by_seq = {other["seq"]: other["content_hash"] for other in others}
    shown = sorted(rows, key=lambda row: row["seq"])
    links: list[audit_chain.Link] = []
    running = shown[0]["prev_hash"] if shown else audit_chain.GENESIS
    pending = sorted(others_by_seq)
    position = 0
    for row in shown:
        while position < len(pending) and pending[position] < row["seq"]:
            running = _other(links, pending[position], running, others_by_seq)
            position += 1
        holds = audit_chain.hash_of_export(row) == row["row_hash"]
        links.append(audit_chain.Link(row["seq"], row["prev_hash"], row["row_hash"], holds))
        running = row["row_hash"]
    for seq in pending[position:]:
        running = _other(links, seq, running, others_by_seq)
    return links


def _other(links: list[audit_chain.Link], seq: int, running: str, others: dict) -> str:
    # Another dossier's row follows the row before it by construction, unless that row is
    # missing from the export: then nothing links it (and the walk names the gap).
    follows = running if links and links[-1].seq == seq - 1 else _UNKNOWN
    own_hash = audit_chain.link_hash(follows, others[seq])
    links.append(audit_chain.Link(seq, follows, own_hash, True))
    return own_hash


_UNKNOWN = "unknown"  # never a SHA-256


def _checkpoint_problems(
    checkpoint: dict, links: list[audit_chain.Link], proof: dict, public_key
) -> list[str]:
    where = f"checkpoint (row {checkpoint['seq']})"
    reached = {link.seq: link.row_hash for link in links}.get(checkpoint["seq"])
    if reached != checkpoint["head_hash"]:
        return [f"{where}: the row's hash is not the signed head"]
    if public_key is None:
        if not proof.get("public_key"):
            return [f"{where}: no public key to check its signature with"]
        public_key = load_public_key(proof["public_key"].encode())
    if checkpoint.get("key_id") != key_id(public_key):
        return [f"{where}: signed by key {checkpoint.get('key_id')}, not {key_id(public_key)}"]
    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        at = dt.datetime.fromisoformat(checkpoint["at"])
        public_key.verify(signature, signed_message(checkpoint["seq"], reached, at))
    except (InvalidSignature, binascii.Error, ValueError):
        return [f"{where}: bad signature"]
    return []


@dataclass
class ArchiveReport:
    trails: int = 0
    rows: int = 0
    signed: int = 0
    failures: list[str] = field(default_factory=list)


def verify_exports(trails: Iterable[ExportedTrail], public_key) -> ArchiveReport:
    """Every export, each on its own; a failure names the export and its first problem."""
    report = ArchiveReport()
    for trail in trails:
        result = verify_trail(trail, public_key)
        report.trails += 1
        report.rows += result.rows
        report.signed += result.signed
        report.failures += [f"{trail.name}: {problem}" for problem in result.problems]
    return report
