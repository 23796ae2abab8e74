"""Saved searches and watched dossiers: who is told of what, once, and by e-mail when SMTP is
configured. Documents are filed through the actions, indexed by the real indexer on the
embedded engine, and the subscribers are handed the events as the dispatcher hands them."""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from django.core import mail

from dossier import actions
from dossier.audit import Actor
from dossier.events import dispatch_to
from dossier.models import EventKind
from dossier.roles import Role
from search import indexer
from search.tasks import queue_late_announcements, sync_index
from tests.conftest import create_dossier, file_document
from tests.factories import UserFactory
from tests.search_support import give_text
from watch import actions as watch_actions
from watch.inbox import notifications_for, unread_count
from watch.models import Notification, Reason
from watch.tasks import email_notification
from watch.wording import headline

pytestmark = pytest.mark.django_db

WATCHERS = "watch.dossier_watch.notify_watchers"
ACTOR = Actor(label="tests")


@pytest.fixture
def examiner_user():
    return UserFactory(role=Role.EXAMINER, email="erika@office.example")


def file_with_text(dossier, text: str, **fields):
    document = file_document(dossier, **fields)
    give_text(document, text, languages=["en"])
    return document


def test_a_saved_search_tells_of_a_new_matching_document_only(search_backend, examiner_user):
    dossier = create_dossier("BG/P/2024/1")
    before = file_with_text(dossier, "A sprocket filed before the search was saved.")
    indexer.sync()
    search = watch_actions.save_search(
        examiner_user, name="Sprockets", params="q=sprocket&type=CLM&page=3&sort=date"
    )
    assert search.params == "q=sprocket&type=CLM"  # page and sort are not what was asked

    matching = file_with_text(dossier, "The sprocket engages the chain.")
    other_text = file_with_text(dossier, "A pulley and a belt.")
    other_type = file_with_text(dossier, "A sprocket in a letter.", type_code="OA")
    indexer.sync()
    indexer.sync()  # again: nothing new, nothing told twice

    told = Notification.objects.filter(user=examiner_user)
    assert [(n.reason, n.document_id) for n in told] == [(Reason.SEARCH_MATCH, matching.id)]
    assert before.id != matching.id and other_text.id and other_type.id
    assert "Sprockets" in headline(told.get()) and "BG/P/2024/000001" in headline(told.get())


def test_a_saved_search_matches_when_the_text_arrives(search_backend, examiner_user):
    watch_actions.save_search(examiner_user, name="Gears", params="q=gearbox")
    document = file_document(create_dossier("BG/P/2024/2"), b"raw")
    indexer.sync()  # registered: metadata only, no match yet
    assert not Notification.objects.exists()
    give_text(document, "A gearbox housing.")
    indexer.sync()
    assert list(Notification.objects.values_list("document_id", flat=True)) == [document.id]


MATCHES = "watch.saved_searches.notify_matches"


def test_a_match_whose_check_failed_is_told_after_the_retry_and_once(search_backend, examiner_user):
    """The engine fails while the saved searches check a batch the index has applied: the
    batch is not lost, the next pass (asked by `edms sweep`) tells of the match, once."""
    watch_actions.save_search(examiner_user, name="Sprockets", params="q=sprocket")
    indexer.sync()
    document = file_with_text(create_dossier("BG/P/2024/9"), "The sprocket engages the chain.")
    # A repair pass (`edms search reconcile`) indexed it before the index consumer came to
    # its events, so that pass has nothing to write and goes straight to the saved searches.
    assert indexer.reconcile().missing == [str(document.id)]
    # Then the engine's pointer names a generation that is not on disk (a restore from a
    # backup taken mid-rebuild): every search fails.
    pointer = search_backend.root / "CURRENT"
    active = pointer.read_text()
    pointer.write_text("gen-20240101000000-gone")
    indexer.sync()
    assert not Notification.objects.exists()
    assert indexer.lag()["events_behind"] == 0  # the index moved on all the same
    assert indexer.announcements_behind() == [MATCHES]
    assert queue_late_announcements() == 1  # `edms sweep` asks the index consumer
    indexer.sync()  # still failing: the batch is kept again
    assert not Notification.objects.exists()

    pointer.write_text(active)  # the generation is back
    sync_index()  # what the index queue's consumer runs
    told = Notification.objects.get()
    assert (told.user, told.document_id) == (examiner_user, document.id)
    assert indexer.announcements_behind() == []
    assert queue_late_announcements() == 0
    indexer.sync()
    indexer.announce_indexed()
    assert Notification.objects.count() == 1


@pytest.fixture
def interruptible():
    """SIGINT raises KeyboardInterrupt, as in a process started in the foreground: a shell starts
    background jobs (CI's test run among them) with SIGINT ignored, and Python keeps it so."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_match_is_told_after_the_process_was_stopped_before_the_check(
    search_backend, examiner_user, settings, interruptible
):
    """The index consumer is stopped (a real SIGINT) after it applied a batch and before the
    saved searches checked it: its next pass tells of the match, once."""
    watch_actions.save_search(examiner_user, name="Sprockets", params="q=sprocket")
    indexer.sync()
    settings.EDMS_INDEXED_SUBSCRIBERS = ["tests.dispatch_support.stop_the_process", MATCHES]
    document = file_with_text(create_dossier("BG/P/2024/10"), "A sprocket and its chain.")
    with pytest.raises(KeyboardInterrupt):
        indexer.sync()
    assert indexer.lag()["events_behind"] == 0
    assert not Notification.objects.exists()
    settings.EDMS_INDEXED_SUBSCRIBERS = [MATCHES]  # started again
    indexer.sync()
    indexer.sync()
    assert list(Notification.objects.values_list("document_id", flat=True)) == [document.id]


def test_a_saved_search_never_tells_of_a_document_its_owner_may_not_see(search_backend):
    examiner = UserFactory(role=Role.EXAMINER)
    cleared = UserFactory(role=Role.EXAMINER, secret_clearance=True)
    for user in (examiner, cleared):
        watch_actions.save_search(user, name="Secret", params="q=cipher")
    secret = create_dossier("BG/P/2024/3", secret=True)
    document = file_with_text(secret, "A cipher machine.")
    indexer.sync()
    assert not Notification.objects.filter(user=examiner).exists()
    assert Notification.objects.get(user=cleared).document_id == document.id


def test_a_saved_search_needs_a_name_and_a_valid_query(examiner_user):
    with pytest.raises(watch_actions.WatchError):
        watch_actions.save_search(examiner_user, name=" ", params="q=x")
    with pytest.raises(watch_actions.WatchError):
        watch_actions.save_search(examiner_user, name="Broken", params='q="unclosed')
    with pytest.raises(watch_actions.WatchError):
        watch_actions.save_search(examiner_user, name="Empty", params="page=2")
    with pytest.raises(watch_actions.WatchError):
        watch_actions.save_search(examiner_user, name="Bad number", params="dossier=nonsense")
    with pytest.raises(watch_actions.WatchError, match="too long"):
        watch_actions.save_search(examiner_user, name="Long", params="q=" + "ü" * 400)
    watch_actions.save_search(examiner_user, name="Ok", params="q=x")
    with pytest.raises(watch_actions.WatchError, match="already"):
        watch_actions.save_search(examiner_user, name="Ok", params="q=y")


def test_a_watched_dossier_tells_of_new_documents_versions_and_case_events(examiner_user):
    dossier = create_dossier("BG/P/2024/4")
    unwatched = create_dossier("BG/P/2024/5")
    earlier = file_document(dossier)
    dispatch_to(WATCHERS)
    watch_actions.watch_dossier(examiner_user, dossier)

    document = file_document(dossier)
    file_document(unwatched)
    actions.add_version(document, _spooled(b"second version"), actor=ACTOR)
    actions.record_case_event(dossier, kind="publication", date=dt.date(2024, 6, 1), actor=ACTOR)
    dispatch_to(WATCHERS)
    dispatch_to(WATCHERS)  # handed over again: told once

    told = list(Notification.objects.filter(user=examiner_user).order_by("id"))
    assert [(n.kind, n.document_id, n.version) for n in told] == [
        (EventKind.DOCUMENT_REGISTERED, document.id, 1),
        (EventKind.VERSION_ADDED, document.id, 2),
        (EventKind.CASE_EVENT, None, None),
    ]
    assert all(n.dossier_key == dossier.key and n.reason == Reason.DOSSIER_CHANGE for n in told)
    assert earlier.id not in {n.document_id for n in told}


def test_a_watcher_is_not_told_of_a_document_they_may_not_see(examiner_user):
    dossier = create_dossier("BG/P/2024/6")
    watch_actions.watch_dossier(examiner_user, dossier)
    actions.upsert_dossier(dossier.key, {"secret": True}, actor=ACTOR)  # a secrecy order since
    file_document(dossier)
    dispatch_to(WATCHERS)
    assert not Notification.objects.exists()


def test_watching_is_capped_per_user_with_a_clear_error(settings, examiner_user):
    settings.EDMS_WATCH_MAX_DOSSIERS = 2
    first, second, third = (create_dossier(f"BG/P/2024/{n}") for n in (7, 8, 9))
    watch_actions.watch_dossier(examiner_user, first)
    watch_actions.watch_dossier(examiner_user, second)
    watch_actions.watch_dossier(examiner_user, second)  # again: harmless, not counted twice
    with pytest.raises(watch_actions.WatchLimitReached, match="2 dossiers"):
        watch_actions.watch_dossier(examiner_user, third)
    assert watch_actions.unwatch_dossier(examiner_user, first)
    watch_actions.watch_dossier(examiner_user, third)


def test_a_notification_is_sent_by_email_when_smtp_is_configured(
    settings, examiner_user, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_HOST = "smtp.office.example"
    settings.EDMS_BASE_URL = "https://edms.office.example"
    dossier = create_dossier("BG/P/2024/10")
    watch_actions.watch_dossier(examiner_user, dossier)
    document = file_document(dossier)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        dispatch_to(WATCHERS)
    notification = Notification.objects.get()
    assert notification.email_pending and len(queued) == 1

    assert email_notification(notification.pk) is True  # the task, run here
    assert email_notification(notification.pk) is False  # twice: one e-mail
    [sent] = mail.outbox
    assert sent.to == ["erika@office.example"]
    assert sent.subject == "A new document was filed in BG/P/2024/000010."
    assert f"https://edms.office.example/documents/{document.id}" in sent.body


def test_no_email_without_smtp(settings, examiner_user):
    settings.EMAIL_HOST = ""
    dossier = create_dossier("BG/P/2024/11")
    watch_actions.watch_dossier(examiner_user, dossier)
    file_document(dossier)
    dispatch_to(WATCHERS)
    assert not Notification.objects.get().email_pending


def test_mark_read(examiner_user):
    dossier = create_dossier("BG/P/2024/12")
    watch_actions.watch_dossier(examiner_user, dossier)
    file_document(dossier)
    file_document(dossier)
    dispatch_to(WATCHERS)
    first, _second = Notification.objects.filter(user=examiner_user)
    assert watch_actions.mark_read(examiner_user, [first.pk]) == 1
    assert watch_actions.mark_read(examiner_user) == 1
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def _spooled(content: bytes):
    from dossier import blobstore

    return blobstore.spool([content], filename="claims-v2.txt")


def test_a_notification_about_what_was_hidden_since_drops_out_of_the_inbox(examiner_user):
    dossier = create_dossier("BG/P/2024/13")
    watch_actions.watch_dossier(examiner_user, dossier)
    file_document(dossier)
    actions.record_case_event(dossier, kind="publication", date=dt.date(2024, 6, 1), actor=ACTOR)
    dispatch_to(WATCHERS)
    assert notifications_for(examiner_user).count() == unread_count(examiner_user) == 2
    actions.upsert_dossier(dossier.key, {"secret": True}, actor=ACTOR)
    assert notifications_for(examiner_user).count() == unread_count(examiner_user) == 0
    assert Notification.objects.filter(user=examiner_user).count() == 2  # kept, not shown


def test_no_email_about_what_was_hidden_before_it_was_sent(settings, examiner_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_HOST = "smtp.office.example"
    dossier = create_dossier("BG/P/2024/14")
    watch_actions.watch_dossier(examiner_user, dossier)
    file_document(dossier)
    dispatch_to(WATCHERS)
    actions.upsert_dossier(dossier.key, {"secret": True}, actor=ACTOR)
    assert email_notification(Notification.objects.get().pk) is False
    assert mail.outbox == []
