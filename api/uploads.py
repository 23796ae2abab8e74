"""Raw request bodies as uploads: the file is the body, its name from the headers.

The body is spooled and hashed by `dossier.uploads.HashingUploadHandler`, like every upload.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import unquote

from rest_framework.parsers import FileUploadParser

from dossier.uploads import clean_filename

# Re-exported: the API's scan views import it from here.
from dossier.uploads import staged_from_upload as staged_from_upload


class RawFileParser(FileUploadParser):
    """A raw request body as the file: `Content-Type` is its media type, the filename comes from
    `Content-Disposition: attachment; filename*=UTF-8''…` or an `X-Filename` header."""

    media_type = "*/*"

    def get_filename(self, stream, media_type, parser_context):
        extension = mimetypes.guess_extension(media_type.split(";")[0].strip()) or ""
        fallback = f"document{extension}"
        request = parser_context["request"]
        header = request.META.get("HTTP_X_FILENAME")
        if header:
            return clean_filename(unquote(header), fallback)
        name = super().get_filename(stream, media_type, parser_context)
        return clean_filename(name, fallback) if name else fallback
