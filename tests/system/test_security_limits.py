"""Security regressions (issue 10): request limits, rate limits, CSP, cookies and TLS.

Each test replays a finding: oversized bodies and request lines answered as problem+json (not 500
or an HTML page), login and API-key guessing limited with 429, a strict Content-Security-Policy on
UI pages, and `edms check --deploy` clean with the production example environment.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from api.problems import PROBLEM_TYPES
from dossier.models import Document
from dossier.roles import Role
from edms import gunicorn_conf
from frontend.middleware import ContentSecurityPolicyMiddleware
from tests import browser_support
from tests.api.test_problems import assert_problem, nothing_stored
from tests.conftest import create_dossier, file_document
from tests.factories import DocumentFactory, DossierFactory, UserFactory
from tests.gunicorn_server import gunicorn_server

KEY = "BG/P/2024/000123"
DOSSIER_URL = f"/api/v1/dossiers/{KEY}"
DOCUMENTS = f"{DOSSIER_URL}/documents"
MB = 1024 * 1024


@pytest.fixture
def dossier(db):
    return DossierFactory(key=KEY)


# --- Request bodies ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_10_mb_title_is_413_not_500(registry, dossier):
    body = json.dumps({"ip_type": "patent", "title": "x" * (10 * MB)})
    response = registry.put(DOSSIER_URL, body, content_type="application/json")
    problem = assert_problem(response, 413, "request-too-large")
    assert problem["limit"] > 0


@pytest.mark.django_db
def test_a_3_mb_json_body_is_413_not_500(registry, dossier):
    body = json.dumps({"ip_type": "patent", "applicants": ["a" * 1000] * (3 * 1100)})
    assert len(body) > 3 * MB
    response = registry.put(DOSSIER_URL, body, content_type="application/json")
    assert_problem(response, 413, "request-too-large")


@pytest.mark.django_db
def test_5000_form_fields_are_400_not_500(registry, dossier):
    fields = {f"field{n}": "v" for n in range(5000)}
    fields["type"] = "CLM"
    fields["file"] = SimpleUploadedFile("claims.txt", b"claims", content_type="text/plain")
    with nothing_stored():
        response = registry.post(DOCUMENTS, fields, format="multipart")
    problem = assert_problem(response, 400, "too-many-fields")
    assert problem["limit"] == 1000


@pytest.mark.django_db
def test_an_oversized_form_field_is_413_not_500(registry, dossier):
    fields = {
        "type": "CLM",
        "title": "x" * (3 * MB),
        "file": SimpleUploadedFile("claims.txt", b"claims", content_type="text/plain"),
    }
    with nothing_stored():
        response = registry.post(DOCUMENTS, fields, format="multipart")
    assert_problem(response, 413, "request-too-large")


@pytest.mark.django_db
def test_a_file_larger_than_the_body_limit_is_still_accepted(registry, dossier):
    """Files stream to the spool under their own limit (EDMS_MAX_UPLOAD_SIZE), not the body's."""
    content = b"y" * (3 * MB)
    response = registry.post(
        DOCUMENTS,
        {"type": "CLM", "file": SimpleUploadedFile("big.txt", content)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    document = Document.objects.get(id=response.json()["id"])
    assert document.versions.get().blob.size == len(content)


@pytest.mark.django_db
def test_a_request_django_refuses_before_the_view_is_a_problem(registry):
    """Django's own 400 (here: a Host not allowed) is problem+json under the API too."""
    response = registry.get("/api/v1/dossiers", HTTP_HOST="attacker.example")
    assert_problem(response, 400, "bad-request")


# --- Rate limits of sign-in and API keys -----------------------------------------------------

LIMIT = 5  # EDMS_LOGIN_FAILURE_LIMIT's default


def sign_in(username: str, password: str, *, address: str = "198.51.100.7", path: str = "/login"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


@pytest.fixture
def erika(db):
    return UserFactory(username="erika", password="right", role=Role.EXAMINER)


def test_repeated_wrong_passwords_lock_the_account_with_a_readable_429(erika):
    for attempt in range(LIMIT - 1):
        assert sign_in("erika", f"wrong{attempt}").status_code == 200  # the form again
    locked = sign_in("erika", "wrong-again")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    # Now even the right password, and from another address, waits for the cool-off.
    assert sign_in("erika", "right", address="203.0.113.9").status_code == 429


def test_the_lockout_page_speaks_the_users_language(erika):
    for _ in range(LIMIT):
        sign_in("erika", "wrong")
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="fr")
    locked = client.post("/login", {"username": "erika", "password": "right"})
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()


def test_wrong_passwords_for_many_accounts_lock_the_address(erika):
    for n in range(LIMIT):
        sign_in(f"guess{n}", "wrong")
    assert sign_in("erika", "right").status_code == 429
    assert sign_in("erika", "right", address="203.0.113.9").status_code == 302  # signed in


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(erika, settings):
    """Behind a proxy every client shares its REMOTE_ADDR: counting that would lock everybody
    out; the X-Forwarded-For entries a client writes itself must not help it escape either."""
    settings.EDMS_BEHIND_PROXY = True
    proxy = "10.0.0.2"
    for n in range(LIMIT):
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.7").post(
            "/login", {"username": f"guess{n}", "password": "wrong"}
        )
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7")
    assert attacker.post("/login", {"username": "erika", "password": "right"}).status_code == 429
    colleague = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert colleague.post("/login", {"username": "erika", "password": "right"}).status_code == 302


def test_a_successful_sign_in_resets_the_count(erika):
    for _ in range(LIMIT - 1):
        sign_in("erika", "wrong")
    assert sign_in("erika", "right").status_code == 302
    for _ in range(LIMIT - 1):
        sign_in("erika", "wrong")
    assert sign_in("erika", "right").status_code == 302


def test_the_admin_sign_in_is_limited_too(db):
    UserFactory(username="root", password="right", is_staff=True, is_superuser=True)
    for _ in range(LIMIT):
        sign_in("root", "wrong", path="/admin/login/")
    assert sign_in("root", "right", path="/admin/login/").status_code == 429


def test_the_limit_is_configurable(erika, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sign_in("erika", "wrong")
    assert sign_in("erika", "wrong").status_code == 429


def api_get(key: str, address: str = "198.51.100.7"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/dossiers")


def test_wrong_api_keys_from_one_address_get_a_429_problem(registry_key):
    for n in range(LIMIT - 1):
        assert_problem(api_get(f"edms_{n:08x}_guess"), 401, "authentication-failed")
    locked = api_get("edms_0badc0de_guess")
    assert_problem(locked, 429, "throttled")
    assert int(locked["Retry-After"]) > 0
    assert_problem(api_get("edms_0badc0df_guess"), 429, "throttled")
    # Another address is not affected, and a valid key keeps working from the locked address.
    assert_problem(api_get("edms_0badc0e0_guess", "203.0.113.9"), 401, "authentication-failed")
    assert api_get(registry_key).status_code == 200


def test_wrong_secrets_for_one_api_key_lock_that_key_account(registry_key):
    prefix = registry_key.split("_")[1]
    for n in range(LIMIT):
        api_get(f"edms_{prefix}_wrong{n}", address=f"198.51.100.{n + 1}")
    assert_problem(api_get(f"edms_{prefix}_wrong", "203.0.113.9"), 429, "throttled")
    assert api_get(registry_key, "203.0.113.9").status_code == 200


# --- Content-Security-Policy on UI pages -----------------------------------------------------


class InlineCode(HTMLParser):
    """Collects inline scripts and event handler attributes of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
        if tag == "script" and "src" not in attributes:
            if attributes.get("type") not in ("application/json", "application/ld+json"):
                self.found.append("<script> without src")


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


UI_PAGES = ["/", "/search", "/login", "/dossiers/BG/P/2024/000123", "/admin/login/", "/nowhere"]
API_PAGES = ["/api/v1/docs", "/api/v1/redoc", "/api/v1/problems/throttled?format=api"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", UI_PAGES + API_PAGES)
def test_html_pages_carry_a_strict_policy_and_no_inline_code(path, dossier, settings):
    settings.EDMS_PUBLIC_ACCESS = True
    response = Client().get(path)
    assert response["Content-Type"].startswith("text/html"), response.status_code
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.found == []


@pytest.mark.django_db
def test_pages_of_a_signed_in_user_carry_the_policy(dossier):
    client = Client()
    client.force_login(UserFactory(role=Role.EXAMINER))
    document = DocumentFactory(dossier=dossier)
    for path in ["/", "/operations", f"/documents/{document.id}"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response)["script-src"] == ["'self'"], path
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], path


def test_a_policy_the_response_already_carries_is_kept(rf):
    """Content and renditions set their own sandbox policy; the page policy never replaces it."""
    sandbox = "sandbox; default-src 'none'"

    def view(request):
        response = HttpResponse("<p>uploaded</p>", content_type="text/html")
        response["Content-Security-Policy"] = sandbox
        return response

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/"))
    assert response["Content-Security-Policy"] == sandbox


def text_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in its text layer (Helvetica, no embedded font)."""
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1)
    font.BaseFont = pikepdf.Name.Helvetica
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


# Serialized rollback restores the migrations' rows (groups, document types) afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_policy_blocks_an_injected_event_handler_and_the_viewer_still_works(page):
    """pdf.js renders a page (canvas, text layer, worker) with no policy violation, and an inline
    handler injected into the page does not run."""
    UserFactory(username="erika", password=browser_support.PASSWORD, role=Role.EXAMINER)
    dossier = create_dossier("BG/P/2024/4242", title="Escapement")
    document = file_document(
        dossier, text_pdf("Escapement wheel"), type_code="DESC", filename="d.pdf", title="Descr."
    )
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )
    browser_support.sign_in(page, "erika")
    page.goto(f"/documents/{document.id}")
    page.wait_for_selector("#viewer-root[data-ready='true']")
    page.wait_for_selector(".page[data-page-number='1'] canvas")
    page.wait_for_selector(".page[data-page-number='1'] .textLayer span")
    assert violations == []
    # The attribute's handler is registered first, so it would have run before this listener.
    blocked = page.evaluate(
        """() => new Promise((resolve) => {
               const img = document.createElement('img');
               img.setAttribute('onerror', 'window.injected = true');
               img.addEventListener('error', () => resolve(window.injected === undefined));
               img.src = '/no-such-image.png';
               document.body.append(img);
           })"""
    )
    assert blocked
    assert any("inline event handler" in text or "script-src" in text for text in violations)


# --- TLS: Secure cookies, HSTS, `edms check --deploy` ----------------------------------------

PRODUCTION_ENV = Path(django_settings.BASE_DIR) / "infra" / "production.env.example"


def production_env(tmp_path) -> dict[str, str]:
    """The example production environment, with the secret key file its comment says to make."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDMS_", "DATABASE_URL"))}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(50))
    env["EDMS_SECRET_KEY_FILE"] = str(key_file)
    env["EDMS_DATA_DIR"] = str(tmp_path / "data")
    return env


def edms(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("edms")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_deploy_check_is_clean_with_the_production_example(tmp_path):
    """Clean but for the readiness checks (edms.checks): the example's database, broker and S3
    store (db.internal, ...) are not here, and the check says so, once each, without their
    passwords; nothing else is found."""
    result = edms("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert sorted(re.findall(r"\((\w+\.[CEW]\d+)\)", output)) == [
        "edms.E101",  # database
        "edms.E102",  # broker
        "edms.E103",  # blob store
    ], output
    assert "secret@" not in output and "change-me" not in output


def test_behind_tls_cookies_are_secure_and_hsts_is_sent(tmp_path):
    probe = (
        "from django.test import Client\n"
        "from django.test.utils import setup_test_environment\n"
        "setup_test_environment()\n"
        "host = {'HTTP_HOST': 'edms.example.org'}\n"
        "response = Client(HTTP_X_FORWARDED_PROTO='https').get('/login', **host)\n"
        "print(response.status_code, response['Strict-Transport-Security'])\n"
        "print(response.cookies['csrftoken']['secure'])\n"
        "plain = Client().get('/login', **host)\n"
        "print(plain.status_code, plain['Location'])\n"
        "from django.conf import settings; print(settings.SESSION_COOKIE_SECURE)\n"
    )
    env = production_env(tmp_path)
    # The page needs a database: the embedded one in the temporary data directory; and the
    # static files' manifest (its hashed names): this session's, collected already (by
    # `collected_static` in tests/conftest.py), rather than half a minute of `collectstatic`.
    env.pop("DATABASE_URL")
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "static").symlink_to(django_settings.STATIC_ROOT, target_is_directory=True)
    assert edms("migrate", "--noinput", env=env).returncode == 0
    result = edms("shell", "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()[-4:]
    assert lines[0] == "200 max-age=31536000; includeSubDomains"
    assert lines[1] == "True"
    assert lines[2] == "301 https://edms.example.org/login"
    assert lines[3] == "True"


# --- Requests the web server refuses itself (a real gunicorn, as `edms run` starts it) --------


def raw_exchange(server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as is; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_raw_problem(status: int, headers: dict, body: bytes, expected: int, slug: str) -> dict:
    assert status == expected, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"] == f"/api/v1/problems/{slug}"
    assert problem["status"] == expected
    assert problem["title"] == PROBLEM_TYPES[slug].title
    return problem


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_requests_gunicorn_refuses_are_problems(tmp_path):
    with gunicorn_server(tmp_path) as server:
        long_line = b"GET /api/v1/search?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        problem = assert_raw_problem(*raw_exchange(server, long_line), 414, "request-line-too-long")
        assert problem["limit"] == 4094
        big_header = (
            b"GET /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
        )
        assert_raw_problem(*raw_exchange(server, big_header), 431, "request-headers-too-large")
        garbage = b"NOT A REQUEST\r\n\r\n"
        assert_raw_problem(*raw_exchange(server, garbage), 400, "bad-request")
        # A request within the limits reaches edms as before.
        fine = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        assert raw_exchange(server, fine)[0] == 200


def test_the_web_server_names_problems_of_the_catalogue():
    for status, (slug, title) in gunicorn_conf.PROBLEMS.items():
        assert PROBLEM_TYPES[slug].status == status
        assert PROBLEM_TYPES[slug].title == title
