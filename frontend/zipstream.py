"""A ZIP archive written as it is sent: never held whole in memory or on disk.

`zipfile` writes to any object with `write`; without `seek` it marks each entry with a data
descriptor (sizes and CRC after the data), so the archive can go out chunk by chunk while each
member is read from blob storage chunk by chunk.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

from dossier import blobstore
from dossier.models import Version


class _Pipe:
    """What `zipfile` writes into; drained after every write into the response."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def member_name(version: Version, taken: set[str]) -> str:
    """`2024-03-01_CLM_claims.pdf`: sorts like the file wrapper, unique within the archive."""
    document = version.document
    date = document.official_date.isoformat() if document.official_date else "undated"
    base = f"{date}_{document.doc_type_id}_{version.filename or document.id}".replace("/", "_")
    name, number = base, 1
    while name in taken:
        number += 1
        stem, dot, ext = base.rpartition(".")
        name = f"{stem} ({number}).{ext}" if dot else f"{base} ({number})"
    taken.add(name)
    return name


def stream_zip(versions: Iterable[Version]) -> Iterator[bytes]:
    """The ZIP of `versions` (documents loaded), content stored as is (mostly compressed)."""
    pipe = _Pipe()
    taken: set[str] = set()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for version in versions:
            info = zipfile.ZipInfo(member_name(version, taken), date_time=_zip_time(version))
            info.file_size = version.blob.size  # lets zipfile choose ZIP64 for large members
            with archive.open(info, mode="w", force_zip64=version.blob.size > 2**31) as member:
                for chunk in blobstore.read_chunks(version.blob_id):
                    member.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()


def _zip_time(version: Version) -> tuple[int, int, int, int, int, int]:
    created = version.created_at
    return (max(created.year, 1980), created.month, created.day, created.hour, created.minute, 0)
