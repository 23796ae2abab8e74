"""Saved searches, watched dossiers and notifications in the web UI (Django's test client):
saving from the search page, the watch button and its cap, the badge, the list, mark read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from dossier.events import dispatch_to
from dossier.roles import Role
from search import indexer
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from watch.models import DossierWatch, Notification, SavedSearch
from watch.wording import link

pytestmark = pytest.mark.django_db

WATCHERS = "watch.dossier_watch.notify_watchers"


@pytest.fixture
def examiner():
    return UserFactory(role=Role.EXAMINER)


@pytest.fixture
def client(examiner) -> Client:
    client = Client()
    client.force_login(examiner)
    return client


def test_a_search_is_saved_from_the_search_page_and_tells_of_new_documents(
    client, examiner, search_backend
):
    dossier = create_dossier("BG/P/2024/21")
    page = client.get("/search", {"q": "sprocket", "type": "CLM", "page": "1"}).content.decode()
    assert 'name="params" value="q=sprocket&amp;type=CLM&amp;page=1"' in page

    response = client.post(
        "/saved-searches", {"name": "Sprockets", "params": "q=sprocket&type=CLM&page=1"}
    )
    assert response.status_code == 302 and response["Location"].startswith("/search?q=sprocket")
    assert SavedSearch.objects.get(owner=examiner).params == "q=sprocket&type=CLM"
    shown = client.get(response["Location"]).content.decode()
    assert "Search saved as “Sprockets”" in shown

    document = file_document(dossier)
    give_text(document, "A sprocket.")
    indexer.sync()
    home = client.get("/").content.decode()
    assert 'id="nav-notifications">Notifications <span class="badge unread"' in home
    listed = client.get("/notifications").content.decode()
    assert "matches your saved search “Sprockets”" in listed
    assert "BG/P/2024/000021" in listed


def test_saving_a_search_twice_under_one_name_explains(client):
    client.post("/saved-searches", {"name": "Mine", "params": "q=a"})
    response = client.post("/saved-searches", {"name": "Mine", "params": "q=b"}, follow=True)
    assert "You have a saved search named “Mine” already." in response.content.decode()


def test_the_public_cannot_save_or_watch():
    create_dossier("BG/P/2024/22", published_at="2024-01-01")
    public = Client()
    assert public.post("/saved-searches", {"name": "x", "params": "q=a"}).status_code == 302
    page = public.get("/dossiers/BG/P/2024/22").content.decode()
    assert "watch-button" not in page
    assert not SavedSearch.objects.exists()


def test_watch_button_watches_and_unwatches_and_tells_of_new_documents(client, examiner):
    dossier = create_dossier("BG/P/2024/23")
    page = client.get("/dossiers/BG/P/2024/23").content.decode()
    assert "Watch this dossier" in page
    client.post("/dossiers/BG/P/2024/000023/watch")
    assert DossierWatch.objects.filter(owner=examiner, dossier=dossier).exists()
    assert "Stop watching" in client.get("/dossiers/BG/P/2024/23").content.decode()

    document = file_document(dossier)
    dispatch_to(WATCHERS)
    notification = Notification.objects.get(user=examiner)
    listed = client.get("/notifications").content.decode()
    assert "A new document was filed in BG/P/2024/000023." in listed
    assert "1 unread" in listed

    opened = client.post(f"/notifications/{notification.pk}/open")
    assert opened["Location"] == f"/documents/{document.id}"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "0 unread" in client.get("/notifications").content.decode()

    client.post("/dossiers/BG/P/2024/000023/watch", {"stop": "1"})
    assert not DossierWatch.objects.exists()


def test_the_watch_cap_is_explained(client, settings):
    settings.EDMS_WATCH_MAX_DOSSIERS = 1
    create_dossier("BG/P/2024/24")
    create_dossier("BG/P/2024/25")
    client.post("/dossiers/BG/P/2024/24/watch")
    response = client.post("/dossiers/BG/P/2024/25/watch", follow=True)
    assert "You watch 1 dossier, the most one person may" in response.content.decode()
    assert DossierWatch.objects.count() == 1


def test_a_hidden_dossier_cannot_be_watched(client):
    create_dossier("BG/P/2024/26", secret=True)
    assert client.post("/dossiers/BG/P/2024/26/watch").status_code == 404
    assert not DossierWatch.objects.exists()


def test_mark_all_read(client, examiner):
    dossier = create_dossier("BG/P/2024/27")
    client.post("/dossiers/BG/P/2024/27/watch")
    file_document(dossier)
    file_document(dossier)
    dispatch_to(WATCHERS)
    assert "2 unread" in client.get("/notifications").content.decode()
    client.post("/notifications/read")
    assert not Notification.objects.filter(read_at__isnull=True).exists()


@pytest.fixture
def english_after():
    """The test client's requests leave their language active in this thread: not for the
    tests that follow."""
    yield
    translation.deactivate()


@pytest.mark.parametrize(
    ("language", "button", "told"),
    [
        ("fr", "Suivre ce dossier", "Un nouveau document a été déposé dans le dossier"),
        ("es", "Seguir este expediente", "Se presentó un nuevo documento en el expediente"),
        ("ar", "متابعة هذا الملف", "أُودعت وثيقة جديدة في الملف"),
    ],
)
def test_watching_speaks_the_ui_language(client, language, button, told, english_after):
    dossier = create_dossier("BG/P/2024/28")
    client.post("/i18n/setlang/", {"language": language})
    assert button in client.get("/dossiers/BG/P/2024/28").content.decode()
    client.post("/dossiers/BG/P/2024/28/watch")
    file_document(dossier)
    dispatch_to(WATCHERS)
    assert told in client.get("/notifications").content.decode()


def test_notification_links_are_the_ui_paths(examiner):
    dossier = create_dossier("BG/P/2024/29")
    document = file_document(dossier)
    on_document = Notification(user=examiner, dossier_key=dossier.key, document_id=document.id)
    on_dossier = Notification(user=examiner, dossier_key=dossier.key)
    assert link(on_document) == reverse("frontend:viewer", args=[document.id])
    assert link(on_dossier) == reverse("frontend:dossier", args=["BG/P/2024/000029"])
