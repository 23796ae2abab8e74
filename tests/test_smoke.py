def test_register_and_fetch(registry, dossier):
    response = registry.post(
        "/api/v1/dossiers/BG/P/2024/000123/documents",
        {"file": _upload(b"claims text"), "type": "CLM", "official_date": "2024-03-01"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("claims.txt", content, content_type="text/plain")
