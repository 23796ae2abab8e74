"""What reading a scanned page found: its kind and, on a sheet, what the sheet routes.

Apart from `scanning.pages` (which reads pages with pypdfium2, zxing and Pillow), so that
planning a batch's parts from the readings needs none of those libraries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scanning.coversheets import SheetData


class Kind(enum.Enum):
    CONTENT = "content"
    BLANK = "blank"
    SHEET = "sheet"  # a cover sheet or separator whose QR code was read
    UNREADABLE_SHEET = "unreadable_sheet"  # the sheet mark was read, its QR code not


@dataclass(frozen=True)
class PageReading:
    kind: Kind
    sheet: SheetData | None = None
    problem: str = ""
