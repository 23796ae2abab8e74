"""`POST/GET /api/v1/dossiers/{key}/case-events`: the registry records legal-status events, and
what the anonymous public sees through the API follows them day by day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dossier.models import AuditEvent, CaseEvent, Event, EventKind
from tests.api.test_problems import assert_problem
from tests.conftest import create_dossier, file_document

KEY = "BG/P/2025/000123"
URL = f"/api/v1/dossiers/{KEY}"
EVENTS = f"{URL}/case-events"


def test_the_registry_records_an_event_and_the_history_lists_it(registry, examiner):
    create_dossier(KEY)
    answer = registry.post(
        EVENTS,
        {"kind": "publication", "date": "2025-06-04", "wipo_code": "B10", "note": "A1"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert {k: body[k] for k in ("kind", "date", "wipo_code", "note", "recorded_by")} == {
        "kind": "publication",
        "date": "2025-06-04",
        "wipo_code": "B10",
        "note": "A1",
        "recorded_by": "ipas",
    }
    registry.post(EVENTS, {"kind": "grant", "date": "2026-01-20"}, format="json")
    registry.post(EVENTS, {"kind": "filing", "date": "2024-01-10"}, format="json")

    history = examiner.get(EVENTS)
    assert history.status_code == 200
    rows = history.json()["results"]
    assert [(row["kind"], row["date"]) for row in rows] == [
        ("filing", "2024-01-10"),
        ("publication", "2025-06-04"),
        ("grant", "2026-01-20"),
    ]
    assert registry.get(URL).json()["published_at"] == "2025-06-04"
    # The feed (and so webhooks) announce each one.
    feed = registry.get("/api/v1/events").json()["events"]
    kinds = [event["payload"]["kind"] for event in feed if event["kind"] == "dossier.case_event"]
    assert kinds == ["publication", "grant", "filing"]


@pytest.mark.parametrize(
    ("body", "status", "slug", "field"),
    [
        ({"kind": "published", "date": "2025-06-04"}, 400, "validation-error", "kind"),
        ({"kind": "publication", "date": "4 June 2025"}, 400, "validation-error", "date"),
        ({"kind": "publication", "date": "2025-02-30"}, 400, "validation-error", "date"),
        ({"kind": "publication"}, 400, "validation-error", "date"),
        (
            {"kind": "publication", "date": "2025-06-04", "wipo_code": "10B"},
            400,
            "invalid-change",
            "wipo_code",
        ),
        (
            {"kind": "publication", "date": "2025-06-04", "note": "nul \u0000 byte"},
            400,
            "validation-error",
            "note",
        ),
    ],
)
def test_bad_input_is_a_problem_and_changes_nothing(registry, body, status, slug, field):
    create_dossier(KEY)
    audits, events = AuditEvent.objects.count(), Event.objects.count()
    assert_problem(registry.post(EVENTS, body, format="json"), status, slug, field)
    assert not CaseEvent.objects.exists()
    assert (AuditEvent.objects.count(), Event.objects.count()) == (audits, events)
    assert registry.get(URL).json()["published_at"] is None


TEMPLATE = "/api/v1/dossiers/{key}/case-events"


def test_every_answer_conforms_to_the_openapi_schema(registry, public, conforms):
    create_dossier(KEY)
    good = {"kind": "publication", "date": "2025-06-04", "wipo_code": "B10"}
    recorded = registry.post(EVENTS, good, format="json")
    assert recorded.status_code == 201
    assert conforms(recorded, TEMPLATE)["wipo_code"] == "B10"
    for response, status in [
        (registry.post(EVENTS, {"kind": "x", "date": "2025-06-04"}, format="json"), 400),
        (registry.post(EVENTS, {**good, "wipo_code": "?"}, format="json"), 400),
        (public.post(EVENTS, good, format="json"), 401),
        (registry.post("/api/v1/dossiers/BG/P/2025/9/case-events", good, format="json"), 404),
        (public.get("/api/v1/dossiers/BG/P/2025/9/case-events"), 404),
    ]:
        assert response.status_code == status, response.content
        assert conforms(response, TEMPLATE)["status"] == status
    history = conforms(registry.get(EVENTS), TEMPLATE)
    assert [row["kind"] for row in history["results"]] == ["publication"]


def test_only_the_registry_and_admins_record_events(examiner, public):
    create_dossier(KEY)
    body = {"kind": "publication", "date": "2025-06-04"}
    assert_problem(examiner.post(EVENTS, body, format="json"), 403, "forbidden")
    assert_problem(public.post(EVENTS, body, format="json"), 401, "not-authenticated")
    assert not CaseEvent.objects.exists()


def test_the_public_cannot_read_the_history_of_an_unpublished_dossier(registry, public):
    create_dossier(KEY)
    registry.post(EVENTS, {"kind": "filing", "date": "2024-01-10"}, format="json")
    assert_problem(public.get(EVENTS), 404, "unknown-dossier")


# --- Replaying a case, day by day, as the anonymous public sees it through the API -------------
#
# The log's day 0 is the filing. To see day n without touching the clock, each day gets its own
# dossier whose whole log is shifted so that day n is today; the API then answers as on day n.

LOG = [("filing", 0), ("publication", 5), ("grant", 12), ("withdrawal", 14)]
WRAPPER = [  # type, title, dispatch/receipt day, visibility (None: the type's default)
    ("REQ", "request", 0, None),
    ("CLM", "claims", 0, None),
    ("SR", "search report", 3, None),
    ("OA", "office action", 8, None),
    ("DRAFT", "draft", 2, None),
    ("LETTER", "medical", 1, "confidential"),
]
PUBLISHED = {"request", "claims", "search report"}
EXPECTED = {n: None for n in range(5)}  # None: the dossier itself is not found
EXPECTED |= {n: PUBLISHED for n in range(5, 9)}
EXPECTED |= {n: PUBLISHED | {"office action"} for n in range(9, 16)}


def build_case_as_of(registry, key: str, today_is_day: int, log) -> None:
    """The case with `log` and `WRAPPER`, its day 0 put so that today is day `today_is_day`."""
    day0 = timezone.localdate() - dt.timedelta(days=today_is_day)
    dossier = create_dossier(key, filing_date=day0)
    for code, title, n, visibility in WRAPPER:
        fields = {"visibility": visibility} if visibility else {}
        official_date = day0 + dt.timedelta(days=n)
        file_document(dossier, type_code=code, title=title, official_date=official_date, **fields)
    for kind, n in log:
        body = {"kind": kind, "date": (day0 + dt.timedelta(days=n)).isoformat()}
        answer = registry.post(f"/api/v1/dossiers/{key}/case-events", body, format="json")
        assert answer.status_code == 201, answer.content


def public_view(public, key: str) -> set[str] | None:
    documents = public.get(f"/api/v1/dossiers/{key}/documents")
    if documents.status_code == 404:
        assert public.get(f"/api/v1/dossiers/{key}").status_code == 404
        return None
    assert documents.status_code == 200, documents.content
    return {row["title"] for row in documents.json()["results"]}


def test_replaying_the_log_day_by_day_the_public_sees_what_the_events_allow(registry, public):
    for n in EXPECTED:
        build_case_as_of(registry, f"BG/P/2025/{700 + n}", n, LOG)
    seen = {n: public_view(public, f"BG/P/2025/{700 + n}") for n in EXPECTED}
    assert seen == EXPECTED


def test_replaying_a_withdrawal_before_publication_shows_the_public_nothing(registry, public):
    log = [("filing", 0), ("withdrawal", 4), ("publication", 5)]
    for n in range(0, 12, 3):
        build_case_as_of(registry, f"BG/P/2025/{800 + n}", n, log)
        assert public_view(public, f"BG/P/2025/{800 + n}") is None, f"day {n}"


def test_a_published_at_set_through_put_is_in_the_history(registry):
    created = registry.put(URL, {"ip_type": "patent", "published_at": "2025-06-04"}, format="json")
    assert created.status_code == 201, created.content
    rows = registry.get(EVENTS).json()["results"]
    assert [(row["kind"], row["date"]) for row in rows] == [("publication", "2025-06-04")]
    assert EventKind.CASE_EVENT not in Event.objects.values_list("kind", flat=True)
