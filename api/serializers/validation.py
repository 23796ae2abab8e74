"""Checks more than one serializer makes: a document type by its code, no NUL in JSON."""

from __future__ import annotations

from rest_framework import serializers

from api.problems import Problem
from dossier.models import DocumentType


def document_type(code: str) -> DocumentType:
    found = DocumentType.objects.filter(code=code.strip().upper(), active=True).first()
    if found is None:
        raise Problem(
            "unknown-document-type", f"document type {code!r} is not in the table", field="type"
        )
    return found


def reject_nul_characters(value) -> None:
    """Refuse U+0000 anywhere in a JSON value: PostgreSQL cannot store it in `jsonb` (DRF's
    CharField refuses it; JSONField does not)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul_characters(key)
            reject_nul_characters(item)
    elif isinstance(value, list):
        for item in value:
            reject_nul_characters(item)
