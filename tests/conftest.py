"""Shared test fixtures: personas, API clients and ways to file documents through the actions.

Personas are the people and systems of DOMAIN.md: `admin`, `examiner`, `records_clerk`,
`registry_system` (an API key, like IPAS) and the anonymous `public`.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer
from rest_framework.test import APIClient

from api.models import ApiKey
from dossier import actions, blobstore
from dossier.audit import Actor
from dossier.models import Document, DocumentType, Dossier
from dossier.roles import Role
from edms.localbroker import LocalBroker
from tests.audit_archive import archive_dir, archive_rows

pytest_plugins = [
    "tests.services",
    "tests.search_support",
    "tests.browser_support",
    "tests.openapi_support",
]


_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """`edms audit verify` over every audit row the suite writes: after each test that uses the
    database (while its rows still exist: most tests' transactions are rolled back, and the
    test database is destroyed at the end), the chain from the first row it wrote must hold.
    With EDMS_TEST_AUDIT_ARCHIVE set, those rows are also exported there, for CI to verify the
    exports offline (tests/audit_archive.py). Tests that break it on purpose are marked
    `audit_chain_tampered`."""
    uses_database = item.get_closest_marker("django_db") or _DATABASE_FIXTURES.intersection(
        getattr(item, "fixturenames", ())
    )
    if not uses_database or item.get_closest_marker("audit_chain_tampered"):
        return (yield)
    from dossier.audit_chain import verify_chain
    from dossier.models import AuditChainHead

    def head_seq() -> int:
        head = AuditChainHead.objects.filter(pk=1).first()
        return head.seq if head is not None else 0

    before = head_seq()
    result = yield
    if head_seq() > before:
        _checked, found = verify_chain(since=before + 1)
        assert found is None, f"the audit chain this test wrote does not hold: {found}"
        archive = archive_dir()
        if archive is not None:
            archive_rows(archive, before + 1, item.nodeid)
    return result


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """The static files collected under STATIC_ROOT with their hashed names, as `edms run` does.

    Pages name static files by the hashed names of `collectstatic`'s manifest, so it must exist
    before a page is rendered. Hashing only (about a second): the `.gz`/`.br` copies the real
    storage adds take half a minute, and only `tests/frontend/test_ui_transfer.py` needs them (it
    collects its own). The manifest is the same, and the session's storage is the real one.
    """
    hashing_only = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    storages = settings.STORAGES | {"staticfiles": {"BACKEND": hashing_only}}
    with override_settings(STORAGES=storages):
        call_command("collectstatic", interactive=False, clear=True, verbosity=0)


@pytest.fixture(scope="session")
def live_server(request, collected_static):
    """pytest-django's live server, its static files served by WhiteNoise as in production.

    pytest-django serves them through the staticfiles finders, which know the source names only,
    not the hashed names the pages use.
    """
    address = request.config.getvalue("liveserver") or os.getenv(
        "DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.static_handler = lambda application: application  # WhiteNoise is middleware
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def local_broker(tmp_path_factory):
    """The embedded default's private Redis, as `edms run` starts it, for the whole session.

    Tests queue tasks (and worker tests consume them) on it; nothing is started when
    CELERY_BROKER_URL names a broker (the production leg).
    """
    if settings.EDMS_LOCAL_BROKER_SOCKET is None:
        yield None
        return
    data = tmp_path_factory.mktemp("broker")  # an empty broker for each session
    broker = LocalBroker(settings.EDMS_LOCAL_BROKER_SOCKET, data, log_path=data / "redis.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def make_user(username: str, role: Role | None = None, **extra):
    user = get_user_model().objects.create_user(username=username, password="pw", **extra)
    if role is not None and role != Role.ADMIN:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def client_for_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def registry_key(db) -> str:
    _, key = ApiKey.create("ipas", Role.REGISTRY_SYSTEM)
    return key


@pytest.fixture
def registry(registry_key) -> APIClient:
    """The registry system (IPAS), authenticated with its API key."""
    return client_for_key(registry_key)


@pytest.fixture
def admin_client(db) -> APIClient:
    user = get_user_model().objects.create_superuser("root", "", "pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def examiner(db) -> APIClient:
    _, key = ApiKey.create("examiner-ui", Role.EXAMINER, user=make_user("erika"))
    return client_for_key(key)


@pytest.fixture
def other_examiner(db) -> APIClient:
    """A second examiner (otto), for what must stay each caller's own."""
    _, key = ApiKey.create("otto-ui", Role.EXAMINER, user=make_user("otto"))
    return client_for_key(key)


@pytest.fixture
def records_clerk(db) -> APIClient:
    _, key = ApiKey.create("scan-station", Role.RECORDS_CLERK, user=make_user("rico"))
    return client_for_key(key)


@pytest.fixture
def public(db) -> APIClient:
    return APIClient()


@pytest.fixture
def system_actor() -> Actor:
    return Actor(label="tests")


def create_dossier(key: str = "BG/P/2024/000123", **fields) -> Dossier:
    fields.setdefault("ip_type", "patent")
    fields.setdefault("title", "Widget with a handle")
    dossier, _ = actions.upsert_dossier(key, fields, actor=Actor(label="tests"))
    return dossier


def file_document(
    dossier: Dossier,
    content: bytes | None = None,
    *,
    type_code: str = "CLM",
    filename: str = "claims.txt",
    **fields,
) -> Document:
    """Register a document through the action, as the API would."""
    content = os.urandom(64) if content is None else content
    staged = blobstore.spool([content], filename=filename)
    fields.setdefault("official_date", dt.date(2024, 3, 1))
    version = actions.attach_document(
        dossier,
        staged,
        doc_type=DocumentType.objects.get(code=type_code),
        actor=Actor(label="tests"),
        **fields,
    )
    return version.document


@pytest.fixture
def dossier(db) -> Dossier:
    return create_dossier()
