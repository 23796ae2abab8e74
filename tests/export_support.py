"""What the export tests share to show a large file going out without being held in memory:
a large document filed without ever being in memory, its download measured with tracemalloc,
and the digest of a ZIP member read back in blocks."""

from __future__ import annotations

import hashlib
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import DocumentType, Dossier, Version

MIB = 1024 * 1024


def _distinct_mebibytes(size: int) -> Iterator[bytes]:
    """`size` bytes in 1 MiB chunks, each different (numbered), so none is stored once for all."""
    chunk = bytes(range(256)) * 4096
    for n in range(size // MIB):
        yield n.to_bytes(8, "big") + chunk[8:]


def attach_large_file(dossier: Dossier, size: int, **fields) -> Version:
    """A `DESC` document of `size` bytes (a whole number of MiB) attached to `dossier`; spooled
    from a generator, never in memory."""
    staged = blobstore.spool(_distinct_mebibytes(size), filename="scan.tif", max_size=size)
    try:
        return actions.attach_document(
            dossier,
            staged,
            doc_type=DocumentType.objects.get(code="DESC"),
            actor=Actor(label="tests"),
            **fields,
        )
    finally:
        staged.discard()


def peak_while_receiving(request: Callable, into: Path) -> int:
    """Make the request (a streamed 200) and write its body to `into`: the peak of Python's
    allocations meanwhile, in bytes (tracemalloc traces every one, zipfile's buffers included)."""
    tracemalloc.start()
    try:
        response = request()
        assert response.status_code == 200, response
        assert response.streaming  # never rendered whole
        with open(into, "wb") as handle:
            for part in response.streaming_content:
                handle.write(part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def member_sha256(archive: zipfile.ZipFile, name: str) -> str:
    """The SHA-256 of a ZIP member, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while block := member.read(MIB):
            digest.update(block)
    return digest.hexdigest()
