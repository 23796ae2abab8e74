"""The SHA-256 a client vouches for with an upload (a form field or a digest header); the action
checks the received content against it."""

from __future__ import annotations

import base64
import binascii

from api.problems import Problem


def expected_digest(request, form_value: str | None) -> str | None:
    """The SHA-256 the client vouches for: form field, `Repr-Digest` (RFC 9530) or `Digest`."""
    if form_value:
        return form_value.lower()
    for header in ("Repr-Digest", "Content-Digest", "Digest"):
        value = request.headers.get(header)
        if not value:
            continue
        for item in value.split(","):
            name, _, encoded = item.strip().partition("=")
            if name.strip().lower() == "sha-256":
                return _base64_digest_to_hex(encoded.strip().strip(":"), header)
    return None


def _base64_digest_to_hex(encoded: str, header: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise Problem(
            "validation-error", f"{header} sha-256 is not a base64 SHA-256 digest", field=header
        )
    return raw.hex()
