"""Reading Apache Tika's metadata: the same keys whether Tika runs embedded or as a server."""

from __future__ import annotations

import re

ENCRYPTED_MARKERS = ("EncryptedDocumentException", "x-tika-ooxml-protected", "iworks-protected")

# Tika's keys for each piece of metadata a person cares about, most specific first.
_TITLE = ("dc:title", "xmp:dc:title", "pdf:docinfo:title", "title", "dc:subject")
_AUTHOR = ("dc:creator", "xmp:dc:creator", "pdf:docinfo:creator", "meta:author", "Author")
_CREATED = (
    "dcterms:created",
    "xmp:CreateDate",
    "pdf:docinfo:created",
    "meta:creation-date",
    "Creation-Date",
)


def as_lists(metadata: dict) -> dict[str, list[str]]:
    """Tika answers a value or a list of values per key; make every value a list of strings."""
    return {
        str(key): [str(v) for v in (value if isinstance(value, list) else [value])]
        for key, value in metadata.items()
        if value is not None
    }


def first(metadata: dict[str, list[str]], keys: tuple[str, ...]) -> str:
    for key in keys:
        values = [v.strip() for v in metadata.get(key, []) if v and v.strip()]
        if values:
            return "; ".join(dict.fromkeys(values)) if key in _AUTHOR else values[0]
    return ""


def media_type(metadata: dict[str, list[str]]) -> str:
    """Tika's detected type without parameters (`text/html; charset=UTF-8` → `text/html`)."""
    values = metadata.get("Content-Type") or [""]
    return values[0].split(";")[0].strip().lower()


def is_encrypted(metadata: dict[str, list[str]]) -> bool:
    if "true" in metadata.get("pdf:encrypted", []):
        return True
    haystack = " ".join(metadata.get("X-TIKA:warning", []) + metadata.get("Content-Type", []))
    return any(marker in haystack for marker in ENCRYPTED_MARKERS)


def refused_as_encrypted(metadata: dict[str, list[str]], text: str) -> bool:
    """Tika could not open the file because of a password (as opposed to mere restrictions)."""
    warnings = " ".join(metadata.get("X-TIKA:warning", []) + metadata.get("Content-Type", []))
    return not text.strip() and any(marker in warnings for marker in ENCRYPTED_MARKERS)


def pdfa_conformance(metadata: dict[str, list[str]]) -> str:
    """`1B`, `2A`, … from Tika's PDF/A keys, or '' when the file does not claim PDF/A."""
    version = first(metadata, ("pdfa:PDFVersion",))
    if version:
        return version.upper().removeprefix("A-")
    part = first(metadata, ("pdfaid:part",))
    return f"{part}{first(metadata, ('pdfaid:conformance',)).upper()}" if part else ""


def summary(metadata: dict[str, list[str]]) -> dict:
    """The document metadata edms shows on a version."""
    return {
        "title": first(metadata, _TITLE)[:500],
        "author": first(metadata, _AUTHOR)[:500],
        "created": first(metadata, _CREATED)[:64],
        "pdfa": pdfa_conformance(metadata),
        "encrypted": is_encrypted(metadata),
    }


def page_count(metadata: dict[str, list[str]]) -> int | None:
    for key in ("xmpTPg:NPages", "meta:page-count", "Page-Count", "meta:slide-count"):
        for value in metadata.get(key, []):
            if value.strip().isdigit():
                return int(value)
    return None


_OBJECT_ID = re.compile(r"@[0-9a-f]{4,}\b")


def failure(message: str) -> tuple[str, str]:
    """What a Tika parse error (`ParseError("Parse error …")`) means, as a reason's code
    (`ingest.reasons`: a password, a file it cannot read) and Tika's own message, cleaned, as
    the detail (without Tika's name: what shows it names the extractor)."""
    text = message.strip()
    for wrapper in ('ParseError("', "ParseError('"):
        if text.startswith(wrapper):
            text = text[len(wrapper) :].rstrip("')\"")
    text = text.replace("Parse error occurred :", "").strip()
    text = _OBJECT_ID.sub("", text)
    text = text.replace("TIKA-198: ", "")
    if "EncryptedDocumentException" in text or "document is encrypted" in text:
        return "encrypted-document", text
    if "Java heap space" in text or "OutOfMemoryError" in text:
        return "out-of-memory", text
    return "unreadable-file", text or "the parser failed without a message"
