"""The OpenAPI document describes the CASE calls: OAuth2 client credentials, problem answers."""

from __future__ import annotations

CASE_OPERATIONS = [
    ("/api/v1/case/doclists", "get"),
    ("/api/v1/case/applications/citations", "get"),
    ("/api/v1/case/documents/{document_id}", "get"),
]


def test_the_case_calls_are_documented_with_their_security(schema_document):
    schemes = schema_document["components"]["securitySchemes"]
    token_url = schemes["caseBearer"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url == "/api/v1/case/oauth2/token"
    for path, method in CASE_OPERATIONS:
        operation = schema_document["paths"][path][method]
        assert operation["security"] == [{"caseBearer": []}], path
        for status in ("401", "403", "404"):
            assert "application/problem+json" in operation["responses"][status]["content"]
    token = schema_document["paths"]["/api/v1/case/oauth2/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert "security" not in token  # the token endpoint itself takes the client's credentials
    citations = schema_document["paths"]["/api/v1/dossiers/{key}/citations"]
    assert {"get", "post"} <= set(citations)
