"""A chunked request body (no Content-Length) is refused clearly, not taken as empty."""

import pytest

from tests.conftest import create_dossier


@pytest.mark.django_db
def test_chunked_upload_gets_length_required(registry):
    create_dossier()
    response = registry.generic(
        "POST",
        "/api/v1/dossiers/BG/P/2024/000123/documents",
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/length-required"
    assert problem["field"] == "Content-Length"
