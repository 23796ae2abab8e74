"""File numbers: parsing, validation and the forms a dossier key takes.

The registry (WIPO IPAS) addresses a case as `{office}/{file type}/{series}/{serial}`, e.g.
`BG/P/2024/000123`. Offices configure their own single-letter file types, which may be
non-Latin (`BG/Д/2023/17`), so keys are Unicode, normalised to NFC. The serial is stored
unpadded (`BG/P/2024/123`) so that `000123` and `123` name the same case, and shown padded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

# Separators registries and people actually type between the parts.
_SEPARATORS = re.compile(r"\s*/\s*")


class InvalidFileNumber(ValueError):
    """The string is not an IPAS-form file number; the message says which part is wrong."""


@dataclass(frozen=True)
class FileNumber:
    office: str
    file_type: str
    series: int
    serial: int

    @property
    def key(self) -> str:
        """The normalised key: stored, unique, unpadded."""
        return f"{self.office}/{self.file_type}/{self.series}/{self.serial}"

    @property
    def display(self) -> str:
        """The key as people read it, serial zero-padded to the office's width."""
        width = settings.EDMS_SERIAL_PADDING
        return f"{self.office}/{self.file_type}/{self.series}/{self.serial:0{width}d}"


def parse_file_number(raw: str) -> FileNumber:
    """Parse any accepted form of a file number, or raise `InvalidFileNumber`.

    Accepted: NFC or decomposed Unicode, surrounding and inner spaces, lower-case office and
    file type, padded or unpadded serials.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidFileNumber("the file number is empty")
    text = unicodedata.normalize("NFC", raw.strip())
    parts = _SEPARATORS.split(text)
    if len(parts) != 4:
        raise InvalidFileNumber(
            f"{raw!r} has {len(parts)} part(s); expected office/file type/series/serial, "
            "e.g. BG/P/2024/000123"
        )
    office, file_type, series, serial = parts
    office = office.upper()
    if not (len(office) == 2 and office.isascii() and office.isalpha()):
        raise InvalidFileNumber(f"office {office!r} is not a two-letter ST.3 code")
    file_type = file_type.upper()
    if not (len(file_type) == 1 and file_type.isalpha()):
        raise InvalidFileNumber(f"file type {file_type!r} is not a single letter")
    if not (len(series) == 4 and series.isascii() and series.isdigit()):
        raise InvalidFileNumber(f"series {series!r} is not four digits (usually the year)")
    if not (1 <= len(serial) <= 9 and serial.isascii() and serial.isdigit()):
        raise InvalidFileNumber(f"serial {serial!r} is not 1 to 9 digits")
    return FileNumber(office=office, file_type=file_type, series=int(series), serial=int(serial))


def normalise_key(raw: str) -> str:
    """The stored key for any accepted form of a file number."""
    return parse_file_number(raw).key
