"""Vienna classification codes of a mark's figurative elements, as the registry supplies them
with the dossier (`Dossier.vienna_codes`), and the prefixes a search filters by.

A code is category.division.section, two digits each (`26.01.03`: circles containing other
figures); a filter may also name a whole category (`26`) or division (`26.01`). Codes are kept
as the registry sends them, in this one form, sorted and without repeats, so that repeating the
same data changes nothing (`upsert_dossier` is idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CODE = re.compile(r"\d{2}\.\d{2}\.\d{2}")
PREFIX = re.compile(r"\d{2}(\.\d{2}){0,2}")
# A mark rarely has more than a dozen; the bound keeps a dossier's row small.
MAX_CODES = 100


class InvalidViennaCode(ValueError):
    """A code or prefix not in the form category.division.section (two digits each)."""


def clean_codes(values: Iterable[str]) -> list[str]:
    """The registry's codes, checked, sorted and without repeats; `InvalidViennaCode` names the
    first bad one."""
    codes = set()
    for value in values:
        if not isinstance(value, str) or not CODE.fullmatch(value.strip()):
            raise InvalidViennaCode(
                f"{value!r} is not a Vienna code: category.division.section, e.g. 26.01.03"
            )
        codes.add(value.strip())
    if len(codes) > MAX_CODES:
        raise InvalidViennaCode(f"at most {MAX_CODES} Vienna codes per dossier")
    return sorted(codes)


def clean_prefixes(values: Iterable[str]) -> list[str]:
    """Filter values: whole codes or their category (`26`) or division (`26.01`)."""
    prefixes = []
    for value in values:
        value = value.strip()
        if not PREFIX.fullmatch(value):
            raise InvalidViennaCode(
                f"{value!r} is not a Vienna code or prefix: 26, 26.01 or 26.01.03"
            )
        prefixes.append(value)
    return sorted(set(prefixes))


def json_fragment(prefix: str) -> str:
    """What the stored JSON list's text contains when one of its codes starts with `prefix`:
    the opening quote, then the prefix and (for a category or division) the dot after it, or
    the closing quote for a whole code. A JSON list of such codes has no other quotes or dots,
    so this matches exactly the codes under `prefix`, on SQLite and PostgreSQL alike."""
    return f'"{prefix}"' if CODE.fullmatch(prefix) else f'"{prefix}.'
