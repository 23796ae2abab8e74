"""Tests of the HTTP API: documents, dossiers, content, the change feed, export, idempotency,
problems, OpenAPI."""
