"""Which charset a text or HTML file is really in, when its declaration is wrong or missing.

The embedded Tika believes an HTML page's `<meta charset>` (an Arabic page in windows-1256 that
declares iso-8859-1 comes out as Latin letters) and guesses plain text as ISO-8859-1 (a
Windows-1252 dash becomes U+FFFD; a file with no name can be taken for binary and yield
nothing). These functions run in the sandbox child (`ingest.markup`), on bytes already read.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# The charsets an office's text files come in. charset-normalizer, free to choose among all
# it knows, reads a short German note as Mac Roman or a DOS code page; office files are not.
CANDIDATES = [
    "utf_8", "utf_16", "utf_32", "cp1252", "iso8859_15", "cp1250", "cp1251", "cp1253",
    "cp1254", "cp1255", "cp1256", "cp1257", "cp874", "koi8_r", "shift_jis", "euc_jp",
    "iso2022_jp", "gb18030", "big5", "euc_kr",
]  # fmt: skip
# Among equally likely readings, the most common one (Western European): a short text often
# decodes to the same plausible letters in several single-byte charsets.
PREFERRED = "cp1252"
# Browsers (WHATWG) read these declarations as windows-1252; so do we.
_READ_AS_WINDOWS_1252 = {"iso8859_1", "ascii"}
# How much more mess a declared charset's reading may have than the detected one's.
MESS_MARGIN = 0.05

_META_CHARSET = re.compile(
    rb"""(<meta\b[^>]*?\bcharset\s*=\s*["']?)([\w.:-]+)""", re.I
)  # <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">
_HEAD_START = re.compile(rb"<head\b[^>]*>", re.I)
DECLARATION_BYTES = 4096
# Detection reads this much of a file's start (ending at a line break, never inside a
# character): a megabyte tells a charset as well as thirty, in a thirtieth of the time.
DETECTION_BYTES = 1024**2


def codec_name(label: str | None) -> str | None:
    """Python's name for a charset label (`ISO-8859-1` → `iso8859_1`); None if unknown."""
    try:
        return codecs.lookup(label).name.replace("-", "_") if label else None
    except LookupError:
        return None


def detect(data: bytes) -> str | None:
    """The charset `data` most likely is in; None when it looks binary."""
    results = from_bytes(data, cp_isolation=CANDIDATES)
    best = results.best()
    if best is None:
        return None
    tied = [
        match
        for match in results
        if match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01
    ]
    if any(PREFERRED in match.could_be_from_charset for match in tied):
        return PREFERRED
    return codec_name(best.encoding)


def choose(data: bytes, declared: str | None) -> str | None:
    """The charset to read `data` with: the declared one unless it cannot decode the bytes
    or reads them as clearly messier text than the detected one. None: leave it alone."""
    data = _sample(data)
    declared = codec_name(declared)
    if declared in _READ_AS_WINDOWS_1252:
        declared = PREFERRED
    detected = detect(data)
    if detected is None or detected == declared:
        return declared
    if declared is None:
        return detected
    as_declared = from_bytes(data, cp_isolation=[declared]).best()
    as_detected = from_bytes(data, cp_isolation=[detected]).best()
    if as_declared is None:
        return detected  # undecodable, or mess beyond charset-normalizer's threshold
    if as_detected is not None and as_declared.chaos > as_detected.chaos + MESS_MARGIN:
        return detected
    return declared


def _sample(data: bytes) -> bytes:
    if len(data) <= DETECTION_BYTES:
        return data
    end = data.rfind(b"\n", 0, DETECTION_BYTES)
    return data[: end + 1] if end > 0 else data[:DETECTION_BYTES]


def declared_html_charset(data: bytes) -> str | None:
    found = _META_CHARSET.search(data[:DECLARATION_BYTES])
    return found.group(2).decode("ascii", "replace") if found else None


def html_as_utf8(data: bytes, charset: str) -> bytes:
    """The page decoded with `charset`, re-encoded as UTF-8 and declaring so."""
    text = data.decode(charset, errors="replace").encode("utf-8")
    head, body = text[:DECLARATION_BYTES], text[DECLARATION_BYTES:]
    head, declarations = _META_CHARSET.subn(rb"\g<1>utf-8", head)
    if not declarations:
        opening = _HEAD_START.search(head)
        at = opening.end() if opening else 0
        head = head[:at] + b'<meta charset="utf-8">' + head[at:]
    return head + body
