"""Page boundaries in extracted text: pages are separated by a form feed (`\\f`).

The form feed is what poppler's `pdftotext` and OCRmyPDF's sidecar put between pages, so every
reader's text reads the same way: the index finds a hit's page as one plus the form feeds before
it (`search.backends.tantivy_snippets`), and the search results open the viewer on that page.
A text without form feeds (another format, or a version extracted before pages were kept) is one
page; reprocessing (`POST /api/v1/documents/{id}/versions/{n}/reprocess`) extracts an older
PDF's text again, with its pages.
"""

from __future__ import annotations

import html
import re

PAGE_BREAK = "\f"

# Tika's XHTML: the body, each PDF page a `<div class="page">`, text escaped (a `<` in the text
# is `&lt;`), so every `<…>` is markup.
_BODY = re.compile(r"<body[^>]*>(.*?)(?:</body>|\Z)", re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)([^>]*)>|<[^>]*>|<[^>]*\Z")
_CLASS = re.compile(r"""\bclass\s*=\s*["']([^"']*)["']""")
# A file embedded in the document (an attachment, a portfolio's PDF) has pages of its own: only
# the document's own pages are counted.
_NESTED = {"page", "package-entry", "embedded"}


def join_pages(pages: list[str]) -> str:
    """The pages' texts as one text, pages separated by form feeds."""
    return PAGE_BREAK.join(page.replace(PAGE_BREAK, "\n") for page in pages)


def text_of_xhtml(xhtml: str) -> str:
    """The text Tika's text output would give for its XHTML output (the body's characters),
    with a form feed before each of the document's own pages but the first."""
    body = _BODY.search(xhtml)
    source = body.group(1) if body else ""
    parts: list[str] = []
    divs: list[str] = []  # the classes of the open <div>s
    at, pages = 0, 0
    for tag in _TAG.finditer(source):
        parts.append(_characters(source[at : tag.start()]))
        at = tag.end()
        closing, name, attributes = tag.group(1), (tag.group(2) or "").lower(), tag.group(3) or ""
        if name != "div" or attributes.rstrip().endswith("/"):
            continue
        if closing:
            if divs:
                divs.pop()
            continue
        found = _CLASS.search(attributes)
        kind = found.group(1) if found else ""
        if kind == "page" and not _NESTED.intersection(divs):
            pages += 1
            if pages > 1:
                parts.append(PAGE_BREAK)
        divs.append(kind)
    parts.append(_characters(source[at:]))
    return "".join(parts)


def _characters(text: str) -> str:
    # A form feed inside a page's text would count as a page of its own.
    return html.unescape(text).replace(PAGE_BREAK, "\n")
