"""The sign-in page beside single sign-on: who may still use a password (EDMS_LOCAL_LOGIN), what
the page offers, the page policy that lets sign-out reach the provider, and the role map's rules.
The provider's own flow is tested in a real browser against Keycloak (test_ui_browser_sso.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from dossier.roles import Role
from frontend.sso import parse_role_map, roles_from_claims
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ISSUER = "https://sso.example.org/realms/office"
PASSWORD = "correct horse"


@pytest.fixture
def sso_on(settings):
    settings.EDMS_OIDC_ISSUER = ISSUER
    settings.EDMS_SSO_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "edms"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.EDMS_OIDC_PROVIDER_NAME = "Office SSO"
    settings.EDMS_LOCAL_LOGIN = "superusers"
    return settings


@pytest.fixture
def people():
    UserFactory(username="erika", password=PASSWORD, role=Role.EXAMINER)
    UserFactory(username="root", password=PASSWORD, is_superuser=True)


def sign_in(username: str) -> tuple[Client, int]:
    client = Client()
    response = client.post("/login", {"username": username, "password": PASSWORD})
    return client, response.status_code


def test_without_sso_everyone_signs_in_with_a_password(people):
    assert sign_in("erika")[1] == 302
    page = Client().get("/login").content.decode()
    assert "sso-sign-in" not in page


def test_with_sso_only_a_superuser_may_use_a_password(sso_on, people):
    assert sign_in("erika")[1] == 200  # the form again, with its error
    client, status = sign_in("root")
    assert status == 302
    assert client.get("/").context["user"].username == "root"

    page = Client().get("/login").content.decode()
    assert "Sign in with Office SSO" in page
    assert "Emergency administrator sign-in" in page


def test_local_login_none_refuses_superusers_too(sso_on, people):
    sso_on.EDMS_LOCAL_LOGIN = "none"
    assert sign_in("root")[1] == 200
    page = Client().get("/login").content.decode()
    assert 'name="password"' not in page
    assert "Sign in with Office SSO" in page


def test_the_admin_sign_in_follows_the_same_rule(sso_on, people):
    response = Client().post(
        "/admin/login/", {"username": "erika", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200  # refused: the form again


def test_an_emergency_administrator_signs_out_locally(sso_on, people):
    client, _ = sign_in("root")
    response = client.post("/logout")
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/"


def test_pages_allow_the_sign_out_form_to_reach_the_provider(sso_on):
    policy = Client().get("/login")["Content-Security-Policy"]
    assert "form-action 'self' https://sso.example.org;" in policy


def test_role_map(settings):
    assert parse_role_map(" a=examiner , b c=records_clerk,") == {
        "a": Role.EXAMINER,
        "b c": Role.RECORDS_CLERK,
    }
    for wrong in ("a", "=examiner", "a=registry_system", "a=public"):
        with pytest.raises(ImproperlyConfigured):
            parse_role_map(wrong)
    settings.EDMS_OIDC_ROLES_CLAIM = "roles"
    settings.EDMS_OIDC_ROLE_MAP = "Edms.Admin=admin,Edms.Examiner=examiner"
    assert roles_from_claims({"roles": ["Edms.Examiner", "Other.App"]}) == {Role.EXAMINER}
    assert roles_from_claims({"roles": "Edms.Admin"}) == {Role.ADMIN}
    assert roles_from_claims({"groups": ["Edms.Admin"]}) == set()


def test_sso_off_has_no_provider_sign_in():
    assert Client().get("/oidc/authenticate").status_code == 404


def test_a_provider_that_does_not_answer_is_said_so(sso_on):
    # Nothing listens on the discard port of loopback: the connection is refused at once.
    sso_on.EDMS_OIDC_ISSUER = "http://127.0.0.1:9/realms/office"
    client = Client()
    response = client.get("/oidc/authenticate", follow=True)
    assert response.redirect_chain == [("/login", 302)]
    assert "does not answer" in response.content.decode()


def test_a_deactivated_users_provider_session_ends(sso_on):
    person = UserFactory(username="ines", role=Role.EXAMINER)
    client = Client()
    client.force_login(person, backend="frontend.sso.ProviderBackend")
    assert client.get("/").context["user"].username == "ines"
    person.is_active = False
    person.save()
    assert not client.get("/").context["user"].is_authenticated


def test_refused_provider_sign_ins_are_not_counted_but_wrong_passwords_are(sso_on, people):
    """What the provider's callback hands Django when edms refuses the person (the browser test
    against Keycloak drives the real flow): the PKCE verifier and the nonce, no password. Refused
    any number of times from one address, it leaves the address open; wrong passwords lock it."""
    from axes.models import AccessAttempt
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    address = "198.51.100.7"
    for n in range(sso_on.AXES_FAILURE_LIMIT + 2):
        callback = RequestFactory().get("/oidc/callback", REMOTE_ADDR=address)
        assert authenticate(callback, nonce=f"nonce-{n}", code_verifier=f"verifier-{n}") is None
    assert not AccessAttempt.objects.exists()
    emergency = Client(REMOTE_ADDR=address)
    assert emergency.post("/login", {"username": "root", "password": PASSWORD}).status_code == 302

    guesser = Client(REMOTE_ADDR=address)
    for n in range(sso_on.AXES_FAILURE_LIMIT):
        guesser.post("/login", {"username": f"guess{n}", "password": "wrong"})
    locked = Client(REMOTE_ADDR=address).post("/login", {"username": "root", "password": PASSWORD})
    assert locked.status_code == 429
