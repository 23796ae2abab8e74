"""USPTO "Green Book" (APS) full text: the fixed-field text format of US grants from 1976 to 2001,
read into the same fields as patent XML (`ingest.patent_xml.PatentText`).

A file is a sequence of records: a record's name alone on a line (`PATN`, `ABST`, `BSUM`, `DRWD`,
`DETD`, `CLMS`, …), then its fields, one per line, as a three- or four-letter tag, blanks and a
value (`TTL  Bumper support for a boat loader`), continued on lines indented by blanks. The title
is PATN's TTL; the abstract is ABST's paragraphs; the description is the summary (BSUM), the
drawings' description (DRWD) and the detailed description (DETD) in that order; the claims are
CLMS's paragraphs, a claim starting at each NUM field. Runs in the sandbox child
(`ingest.markup`).
"""

from __future__ import annotations

import re

from ingest.patent_xml import PatentText

# The first record of every patent in the format, and its first field (the patent number).
_START = re.compile(rb"\A\s*PATN\r?\n\s*WKU  ")
_RECORD = re.compile(r"[A-Z]{4}")
_FIELD = re.compile(r"([A-Z][A-Z0-9]{2,3}) {1,2}(.*)")
_DESCRIPTION_RECORDS = ("BSUM", "DRWD", "DETD")
_PARAGRAPH_TAGS = {"PAR", "PAL", "PA1", "PA2", "PA3", "PA4", "PA5", "PAC", "TBL", "EQU"}


def looks_like(data: bytes) -> bool:
    """Whether `data` (a file's first bytes are enough) is Green Book text."""
    return _START.match(data) is not None


def patent_text(text: str) -> PatentText | None:
    """The fields of the first patent in `text`; None when it is not Green Book text."""
    if not looks_like(text[:64].encode("utf-8", "replace")):
        return None
    records = _records(text)
    title = next((value for tag, value in records.get("PATN", []) if tag == "TTL"), "")
    abstract = "\n".join(_paragraphs(records.get("ABST", [])))
    description = "\n".join(
        paragraph
        for name in _DESCRIPTION_RECORDS
        for paragraph in _paragraphs(records.get(name, []))
    )
    return PatentText(
        shape="greenbook",
        title=title,
        abstract=abstract,
        claims=_claims(records.get("CLMS", [])),
        description=description,
    )


def _records(text: str) -> dict[str, list[tuple[str, str]]]:
    """{record name: [(tag, value), …]} of the first patent, continuation lines joined to their
    field's value. A record that occurs more than once (UREF, a cited patent each) adds its
    fields to the same list: only the once-only records are read."""
    records: dict[str, list[tuple[str, str]]] = {}
    fields: list[tuple[str, str]] | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if _RECORD.fullmatch(line.rstrip()):
            if line.startswith("PATN") and "PATN" in records:
                break  # a second patent: only the first is read
            fields = records.setdefault(line.rstrip(), [])
            continue
        if fields is None:
            continue
        field = _FIELD.match(line)
        if field and not line[0].isspace():
            fields.append((field.group(1), field.group(2).strip()))
        elif fields:  # a continuation line
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {line.strip()}")
    return records


def _paragraphs(fields: list[tuple[str, str]]) -> list[str]:
    return [value for tag, value in fields if tag in _PARAGRAPH_TAGS and value]


def _claims(fields: list[tuple[str, str]]) -> list[str]:
    """Each claim's paragraphs (a claim's steps are paragraphs of their own), one string each."""
    claims: list[list[str]] = []
    for tag, value in fields:
        if tag == "NUM":
            claims.append([])
        elif tag in _PARAGRAPH_TAGS and value:
            if not claims:  # a claim without its NUM field
                claims.append([])
            claims[-1].append(value)
    return ["\n".join(parts) for parts in claims if parts]
