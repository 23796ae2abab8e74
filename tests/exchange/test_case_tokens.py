"""OAuth2 client credentials for CASE callers: the token endpoint, and 401/403 problems."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.case.clients import create_client, new_secret
from exchange.models import CaseToken
from tests.api.test_problems import assert_problem
from tests.conftest import create_dossier

TOKEN = "/api/v1/case/oauth2/token"
DOCLISTS = "/api/v1/case/doclists?applicationIdentifier=BG/P/2024/000123"

pytestmark = pytest.mark.django_db


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ask_token(form: dict, **headers):
    """As OAuth2 clients ask: a form-encoded POST (RFC 6749 §4.4.2)."""
    body = urlencode(form)
    return APIClient().post(
        TOKEN, body, content_type="application/x-www-form-urlencoded", **headers
    )


def test_a_client_gets_a_short_lived_token_kept_only_hashed(settings):
    settings.EDMS_CASE_TOKEN_SECONDS = 600
    client, secret = create_client(name="EPO examiners", office_code="ep")
    assert client.office_code == "EP"
    assert secret not in client.secret_hash  # only the digest is stored
    answer = ask_token(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert answer["Cache-Control"] == "no-store"
    stored = CaseToken.objects.get(client=client)
    assert body["access_token"] not in stored.token_hash
    assert 590 <= (stored.expires_at - timezone.now()).total_seconds() <= 600
    # The credentials may also come in the form (client_secret_post).
    again = ask_token(
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert again.status_code == 200
    assert again.json()["access_token"] != body["access_token"]


def test_wrong_secrets_unknown_and_deactivated_clients_get_401_problems():
    client, secret = create_client(name="KIPO", office_code="KR")
    wrong = ask_token(
        {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client.client_id, "x")
    )
    assert assert_problem(wrong, 401, "authentication-failed")["error"] == "invalid_client"
    unknown = ask_token(
        {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic("case-nobody", secret)
    )
    assert_problem(unknown, 401, "authentication-failed")
    client.active = False
    client.save()
    off = ask_token(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert_problem(off, 401, "authentication-failed")
    nothing = ask_token({"grant_type": "client_credentials"})
    assert_problem(nothing, 401, "not-authenticated")
    grant = ask_token(
        {"grant_type": "password"}, HTTP_AUTHORIZATION=basic(client.client_id, secret)
    )
    body = assert_problem(grant, 400, "validation-error", field="grant_type")
    assert body["error"] == "unsupported_grant_type"
    assert not CaseToken.objects.exists()


def test_case_calls_need_a_live_token_of_an_active_client(registry_key):
    create_dossier(published_at="2024-09-01")
    client, secret = create_client(name="JPO", office_code="JP")
    answer = ask_token(
        {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client.client_id, secret)
    )
    token = answer.json()["access_token"]
    caller = APIClient()
    assert_problem(caller.get(DOCLISTS), 401, "not-authenticated")
    # An edms API key is not a CASE token, whatever its role.
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {registry_key}")
    assert_problem(caller.get(DOCLISTS), 401, "authentication-failed")
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert caller.get(DOCLISTS).status_code == 200
    client.active = False
    client.save()
    assert_problem(caller.get(DOCLISTS), 403, "forbidden")
    client.active = True
    client.save()
    CaseToken.objects.update(expires_at=timezone.now())
    assert_problem(caller.get(DOCLISTS), 401, "authentication-failed")


def test_a_new_secret_ends_the_old_one_and_its_tokens():
    client, secret = create_client(name="CNIPA", office_code="CN")
    ask_token(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    fresh = new_secret(client)
    assert not CaseToken.objects.filter(client=client).exists()
    old = ask_token(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert old.status_code == 401
    new = ask_token(
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(client.client_id, fresh),
    )
    assert new.status_code == 200
