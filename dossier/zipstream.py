"""A ZIP archive written as it is sent: never held whole in memory or on disk.

`zipfile` writes to any object with `write`; without `seek` it marks each entry with a data
descriptor (sizes and CRC after the data), so the archive can go out chunk by chunk while each
member is read from blob storage chunk by chunk. Used by the UI's download of selected documents
and by the API's dossier export (`api.export`).
"""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dossier import blobstore
from dossier.models import Version

log = logging.getLogger(__name__)

# zipfile must know in advance that a member needs ZIP64 sizes (it cannot go back and fix the
# local header of a stream); members above this size are written with ZIP64 extra fields.
_ZIP64_FROM = 2**31


@dataclass(frozen=True)
class Member:
    """One file of the archive: stored content (`sha256` of a blob, `size` bytes) or `data`."""

    name: str
    modified: dt.datetime
    sha256: str = ""
    size: int = 0
    data: bytes | None = None

    @classmethod
    def of_bytes(cls, name: str, data: bytes, modified: dt.datetime) -> Member:
        return cls(name=name, modified=modified, size=len(data), data=data)

    def chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            return iter((self.data,))
        # Verified like a download: altered content ends the archive with an error before its
        # last chunk, rather than going out as good.
        return blobstore.read_verified(self.sha256, self.size)


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


def stream_zip(members: Iterable[Member]) -> Iterator[bytes]:
    """The ZIP of `members`, in order, content stored as is (mostly compressed already).

    `members` may be a generator: a member is only asked for once the previous one is sent.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for member in members:
            try:
                # Opened before its entry is begun: content gone since the package was put
                # together (checked then, see `dossier.packages`) costs that member, not the ZIP.
                chunks = member.chunks()
            except blobstore.BlobMissing:
                log.error("%s left out of a ZIP: blob %s is missing", member.name, member.sha256)
                continue
            info = zipfile.ZipInfo(member.name, date_time=_zip_time(member.modified))
            info.file_size = member.size  # lets zipfile choose ZIP64 for large members
            with archive.open(info, mode="w", force_zip64=member.size > _ZIP64_FROM) as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()


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


def version_members(versions: Iterable[Version]) -> Iterator[Member]:
    """Versions (documents loaded, blobs loaded) as members named by `member_name`."""
    taken: set[str] = set()
    for version in versions:
        yield Member(
            name=member_name(version, taken),
            modified=version.created_at,
            sha256=version.blob_id,
            size=version.blob.size,
        )


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    if moment.year < 1980:  # the earliest a ZIP entry can carry
        return (1980, 1, 1, 0, 0, 0)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
