"""Schemathesis: generated requests against every operation of the API, through the real app.

Each operation of the OpenAPI document the server serves gets a bounded, seeded series of
generated requests (valid and invalid), sent through edms's WSGI application (the same
`edms.wsgi.application` gunicorn serves) with an admin API key, the persona that may reach every
operation. Every answer is checked: no server error, a documented status code, a documented
media type, and a body that conforms to the documented schema.

Two passes: one on objects that exist (path parameters pinned to a real dossier, document,
version and open tus upload, so content, renditions, changes and uploads are answered for real),
one with generated path parameters (unknown objects, malformed file numbers: the error answers).
"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiKey
from dossier.roles import Role
from edms.wsgi import application
from tests.conftest import client_for_key
from tests.factories import DocumentFactory, DossierFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
KEY = "BG/P/2024/000123"
# Bounded and repeatable: a few generated cases per operation and phase, from a fixed seed (the
# whole module runs in about a minute on two cores).
GENERATION = {"max-examples": 10, "deterministic": True, "database": "none"}
# A tus PATCH sends its chunk as raw bytes, under tus's own media type.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


def schemathesis_config(parameters: dict) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 20261002,
            # A shared CI machine may be slow; slowness is not what this test looks for.
            "suppress-health-check": ["too_slow"],
            "generation": GENERATION,
            # Stateful runs follow links between operations; the schema declares none.
            "phases": {"stateful": {"enabled": False}},
            "parameters": parameters,
        }
    )


@pytest.fixture
def api_key(db) -> str:
    _, key = ApiKey.create("schemathesis", Role.ADMIN)
    return key


@pytest.fixture
def through_wsgi(db):
    """Requests go through the WSGI handler in this thread, inside the test's transaction:
    Django must not close "old" connections around them (its test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


TUS_METADATA = ",".join(
    f"{name} {base64.b64encode(value.encode()).decode()}"
    for name, value in {"filename": "claims.txt", "dossier": KEY, "type": "CLM"}.items()
)


@pytest.fixture
def open_upload(api_key, settings, tmp_path, dossier) -> str:
    """An open tus upload of the caller's, for a dossier that exists: the id of its URL.
    (Opened with the test client, which must be done before `through_wsgi`: it connects
    `close_old_connections` again when its request ends.)"""
    settings.EDMS_RESUMABLE_DIR = str(tmp_path / "resumable")
    opened = client_for_key(api_key).post(
        "/api/v1/uploads",
        HTTP_TUS_RESUMABLE="1.0.0",
        HTTP_UPLOAD_LENGTH=str(1024 * 1024),  # room for the chunks generated PATCHes send
        HTTP_UPLOAD_METADATA=TUS_METADATA,
    )
    assert opened.status_code == 201, opened.content
    return opened["Location"].rsplit("/", 1)[-1]


@pytest.fixture
def existing_objects_schema(dossier, open_upload, through_wsgi):
    document = DocumentFactory(dossier=dossier, content=b"1. A widget.", filename="claims.txt")
    # The tus calls get as far as creating, appending to and filing an upload.
    pinned = {
        "key": KEY,
        "document_id": str(document.id),
        "number": 1,
        "upload_id": open_upload,
        "header.Upload-Metadata": TUS_METADATA,
    }
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema", application, config=schemathesis_config(pinned)
    )


@pytest.fixture
def generated_objects_schema(through_wsgi):
    DocumentFactory(dossier=DossierFactory(key=KEY))
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema", application, config=schemathesis_config({})
    )


def headers(api_key: str) -> dict[str, str]:
    # Schemathesis's WSGI transport sends requests' default `Accept-Encoding: gzip, deflate` but
    # never decodes what it gets back, where every HTTP client does: the answers are asked for
    # uncompressed (the compression itself is tests/frontend/test_ui_transfer.py's).
    return {"Authorization": f"Bearer {api_key}", "Accept-Encoding": "identity"}


existing_objects = schemathesis.pytest.from_fixture("existing_objects_schema")
generated_objects = schemathesis.pytest.from_fixture("generated_objects_schema")


@existing_objects.parametrize()
def test_api_answers_on_existing_objects_as_its_schema_says(case, api_key):
    case.call_and_validate(headers=headers(api_key), checks=CHECKS)


@generated_objects.parametrize()
def test_api_answers_on_generated_paths_as_its_schema_says(case, api_key):
    case.call_and_validate(headers=headers(api_key), checks=CHECKS)
