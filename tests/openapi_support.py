"""Real answers checked against the OpenAPI document the server serves (openapi-core).

A pytest plugin (listed in `tests/conftest.py`): `conforms(response, template)` validates a
test-client response — its status, headers, media type and body — against the operation of
`template` in the document (`/api/v1/schema`), so a change the schema does not follow fails
the test that made the response. It returns the JSON body (None for another media type).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from rest_framework.test import APIClient


class MatchedRequest(DjangoOpenAPIRequest):
    """A Django request with its OpenAPI path template named explicitly.

    File numbers keep their slashes in URLs (`/dossiers/BG/P/2024/1`), which a template
    matcher splitting on `/` cannot see as one `{key}`; the test knows the template.
    """

    def __init__(self, request, template: str):
        super().__init__(request)
        self.template = template

    @property
    def path_pattern(self) -> str:
        return self.template

    @property
    def body(self) -> None:
        # Only responses are validated; a parsed multipart body cannot be read again.
        return None


@pytest.fixture(scope="session")
def schema_document(django_db_blocker) -> dict:
    """The OpenAPI document as the server serves it."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture(scope="session")
def openapi(schema_document) -> OpenAPI:
    # Problem documents are JSON under their own media type (RFC 9457).
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(schema_document, config=config)


@pytest.fixture
def conforms(openapi) -> Callable:
    """Validate a test-client response against the schema for `template`; its JSON body."""

    def check(response, template: str):
        openapi.validate_response(
            MatchedRequest(response.wsgi_request, template), DjangoOpenAPIResponse(response)
        )
        if "json" not in response.get("Content-Type", ""):
            return None
        return response.json()

    return check
