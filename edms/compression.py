"""gzip for the pages and the JSON edms writes itself, never for documents.

What is compressed: a complete (not streamed) answer whose type is HTML or JSON (`application/
json`, `application/problem+json`, the OpenAPI document's `+json`), to a client that accepts
gzip. Django's `GZipMiddleware` does the work, with its length and `ETag` handling and its
mitigation of BREACH (below).

What never is: document content, renditions, extracted text, ZIP exports and merged PDFs. They are
streamed (`api.content`), are mostly compressed formats already, and a byte range (`206`) must
address the stored bytes that the `ETag` (the SHA-256) names, not those of a gzip stream. Static
files are not compressed here either: WhiteNoise serves the `.gz` and `.br` files `collectstatic`
wrote beside them (`edms.settings`, STORAGES).

BREACH. Compression lets someone who can both inject text into a page and watch the length of the
encrypted answer guess a secret in that page. Every page holds a CSRF token and may echo what the
user typed (a search query), so this was weighed:
- the CSRF token in a page is masked afresh in every answer (Django), so no two answers carry the
  same token bytes to be guessed;
- Django's gzip adds 0-100 random bytes to each answer (the "Heal the Breach" padding), so the
  length an attacker sees is noisy, multiplying the requests a guess needs;
- the session cookie is `SameSite=Lax`, so a foreign page cannot have a signed-in browser send
  the thousands of requests a guess needs (its cross-site `fetch` and `img` requests go without
  the cookie); API keys are sent by programs, not browsers.
Brotli is kept to static files: it has no place for the random padding, and gzip at Django's level
already takes a list page to a fifth of its size.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = ("text/html", "application/json", "application/problem+json")


def is_compressible(response) -> bool:
    """Whether `response` is one of edms's own pages or JSON answers, complete and whole."""
    if response.streaming or response.status_code == 206 or response.has_header("Content-Range"):
        return False
    if response.has_header("Content-Disposition"):  # a download, whatever its type
        return False
    media_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return media_type in COMPRESSED_TYPES or media_type.endswith("+json")


class PageAndJsonGZipMiddleware(GZipMiddleware):
    """Django's gzip, for the answers `is_compressible` admits only."""

    def process_response(self, request, response):
        if not is_compressible(response):
            return response
        return super().process_response(request, response)
