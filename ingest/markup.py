"""Sandbox operation: make a text, HTML or XML file readable for the extractor.

- plain text in a charset other than UTF-8 is decoded by its detected charset and written as
  UTF-8 (the embedded Tika guesses ISO-8859-1, or takes a nameless file for binary);
- HTML whose `<meta charset>` is wrong or missing is decoded by the detected charset and
  written as UTF-8, declaring so (`ingest.charsets`);
- patent XML (ST.36, ST.96, ST.32, with or without an `<?xml` declaration) gives its title,
  abstract, claims and description as fields, and as text in reading order (`ingest.patent_xml`);
  other XML without a declaration gets one, so the extractor reads it as XML, not as text with
  tags;
- a USPTO Green Book (APS) full text gives the same fields and text (`ingest.patent_greenbook`).

It returns `{}` when the file is fine as it is, else the file to extract instead (`path`) and
what it found (`media_type`, `metadata`, `detail`). The original is never touched.
"""

from __future__ import annotations

import os

from ingest import charsets, patent_greenbook, patent_xml
from ingest.identify import HTML_MEDIA_TYPE, XML_MEDIA_TYPE

XML_TYPES = {XML_MEDIA_TYPE, "text/xml"}
# Text read as it is; an unknown type may be text in a charset the extractor takes for binary.
PLAIN_TYPES = {
    "text/plain", "text/csv", "text/tab-separated-values", "text/markdown",
    "application/octet-stream",
}  # fmt: skip
# Larger files are left to the extractor as they are (this reads the whole file into memory).
MAX_BYTES = 32 * 1024**2
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def wanted(media_type: str) -> bool:
    """Whether `prepare` may change anything for a file of this (sniffed) type: not RTF or
    source code, whose text is markup of its own."""
    return media_type in PLAIN_TYPES or media_type in XML_TYPES or media_type == HTML_MEDIA_TYPE


def prepare(*, path: str, workdir: str, media_type: str) -> dict:
    """Sandbox operation: `{}`, or `{"path", "media_type", "metadata", "detail"}` (see above)."""
    if os.path.getsize(path) > MAX_BYTES:
        return {}
    if media_type in XML_TYPES:
        return _xml(path, workdir)
    with open(path, "rb") as handle:
        data = handle.read()
    if media_type == HTML_MEDIA_TYPE:
        return _html(data, workdir)
    return _text(data, workdir, media_type)


def _xml(path: str, workdir: str) -> dict:
    root = patent_xml.parse(path)
    if root is None:
        return {}
    patent = patent_xml.patent_text(root)
    if patent is not None:
        return _patent(patent, workdir, XML_MEDIA_TYPE, f"patent XML ({patent.shape})")
    with open(path, "rb") as handle:
        data = handle.read()
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.lstrip().startswith(b"<?xml") or not _is_utf8(data, None):
        return {}  # declared, or not UTF-8 (which XML without a declaration must be)
    return {
        "path": _write(workdir, "document.xml", _XML_DECLARATION + data),
        "media_type": XML_MEDIA_TYPE,
        "metadata": {},
        "detail": "XML without a declaration, recognised by its content",
    }


def _patent(patent: patent_xml.PatentText, workdir: str, media_type: str, what: str) -> dict:
    target = _write(workdir, "patent.txt", patent.reading_order().encode("utf-8"))
    fields = patent.fields()
    return {
        "path": target,
        "media_type": media_type,
        # Its title is the document's (the extractor finds none in the text it is given).
        "metadata": {
            "patent": fields,
            **({"title": patent.title[:500]} if patent.title else {}),
        },
        "detail": f"{what}: title, abstract, {len(patent.claims)} claims, description of "
        f"{fields['description_chars']} characters",
    }


def _html(data: bytes, workdir: str) -> dict:
    declared = charsets.declared_html_charset(data)
    charset = charsets.choose(data, declared)
    if charset is None or _reads_the_same(data, charset, charsets.codec_name(declared)):
        return {}
    if declared is None and _is_utf8(data, charset):
        return {}  # undeclared UTF-8 (or ASCII) is what the extractor assumes
    return {
        "path": _write(workdir, "document.html", charsets.html_as_utf8(data, charset)),
        "media_type": HTML_MEDIA_TYPE,
        "metadata": {"charset": charset, "declared_charset": declared or ""},
        "detail": _decoded_detail(charset, declared),
    }


def _text(data: bytes, workdir: str, media_type: str) -> dict:
    if patent_greenbook.looks_like(data[:64]):
        patent = patent_greenbook.patent_text(data.decode("utf-8", errors="replace"))
        if patent is not None:
            return _patent(patent, workdir, "text/plain", "USPTO Green Book full text")
    if _is_utf8(data, None):
        return {}
    if b"\x00" in data[:8192] and not data.startswith(_UTF16_32_BOMS):
        return {}  # binary: no charset makes text of it
    charset = charsets.choose(data, None)
    if charset is None:
        return {}  # binary, or nothing a charset makes text of
    text = data.decode(charset, errors="replace")
    media_type = "text/plain" if media_type == "application/octet-stream" else media_type
    return {
        "path": _write(workdir, "document.txt", text.encode("utf-8")),
        "media_type": media_type,
        "metadata": {"charset": charset, "declared_charset": ""},
        "detail": _decoded_detail(charset, None),
    }


def _reads_the_same(data: bytes, charset: str, declared: str | None) -> bool:
    """The declared charset gives the same text (e.g. ISO-8859-1 declared, Windows-1252
    detected, and none of the bytes where they differ)."""
    if declared is None:
        return False
    if charset == declared:
        return True
    return data.decode(charset, errors="replace") == data.decode(declared, errors="replace")


def _is_utf8(data: bytes, charset: str | None) -> bool:
    """Already readable as UTF-8 (or plain ASCII): nothing to re-encode."""
    if charset not in (None, "utf_8", "ascii"):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded_detail(charset: str, declared: str | None) -> str:
    said = f"declared {declared}" if declared else "no charset declared"
    return f"decoded as {charset} ({said}), re-encoded as UTF-8"


def _write(workdir: str, name: str, data: bytes) -> str:
    target = os.path.join(workdir, name)
    with open(target, "wb") as handle:
        handle.write(data)
    return target
