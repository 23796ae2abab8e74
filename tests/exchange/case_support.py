"""A CASE client and its token, as an office that joined edms's CASE service holds them."""

from __future__ import annotations

import re
from pathlib import Path

from rest_framework.test import APIClient

from exchange.case.clients import create_client, issue_token
from exchange.models import CaseClient

# WIPO's published shapes, gathered for the project (EXCHANGE.md, "WIPO CASE").
EXCHANGE_MD = Path("/work/shared/EXCHANGE.md")


def case_field_names() -> set[str]:
    """Every name EXCHANGE.md's CASE section gives, quoted or in backticks."""
    text = EXCHANGE_MD.read_text(encoding="utf-8")
    section = text[text.index("## WIPO CASE") : text.index("## USPTO")]
    return set(re.findall(r'["`]([A-Za-z][A-Za-z0-9]*)["`]', section))


def keys_of(value) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_of(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(item) for item in value)) if value else set()
    return set()


def case_client(office_code: str = "EP") -> tuple[CaseClient, APIClient]:
    """A registered client and an API client carrying a token it was issued."""
    client, secret = create_client(name=f"{office_code} examiners", office_code=office_code)
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {issue_token(client.client_id, secret).access_token}"
    )
    return client, api
