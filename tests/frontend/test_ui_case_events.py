"""The dossier page lists the registry's case-event history (read only), oldest first."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dossier import actions
from dossier.audit import Actor
from dossier.roles import Role
from tests.conftest import create_dossier
from tests.frontend.test_ui_views import client_as

pytestmark = pytest.mark.django_db


def test_the_dossier_page_lists_the_case_events_oldest_first():
    dossier = create_dossier("BG/P/2023/7")
    registry = Actor(label="ipas")
    for kind, date, code, note in [
        ("grant", dt.date(2025, 3, 1), "E10", ""),
        ("filing", dt.date(2023, 1, 9), "", "counter filing"),
        ("publication", dt.date(2024, 7, 15), "B10", "A1 <published>"),
    ]:
        actions.record_case_event(
            dossier, kind=kind, date=date, wipo_code=code, note=note, actor=registry
        )

    page = client_as(Role.EXAMINER).get("/dossiers/BG/P/2023/7").content.decode()
    table = page[
        page.index('id="case-events"') : page.index("</table>", page.index('id="case-events"'))
    ]
    assert re.findall(r'data-case-event="(\w+)"', table) == ["filing", "publication", "grant"]
    assert "2024-07-15" in table and "B10" in table and "ipas" in table
    assert "Grant or registration" in table
    assert "A1 &lt;published&gt;" in table  # the registry's note is escaped
    # The header's publication date follows the event.
    assert 'Published</span> <time datetime="2024-07-15" dir="ltr">2024-07-15</time>' in page


def test_a_dossier_without_events_says_so():
    create_dossier("BG/P/2023/8")
    page = client_as(Role.EXAMINER).get("/dossiers/BG/P/2023/8").content.decode()
    assert "The registry has recorded no case event." in page


def test_the_history_is_translated():
    dossier = create_dossier("BG/P/2023/9")
    actions.record_case_event(
        dossier, kind="withdrawal", date=dt.date(2024, 1, 2), actor=Actor(label="ipas")
    )
    client = client_as(Role.EXAMINER)
    page = client.get("/dossiers/BG/P/2023/9", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Événements de la procédure" in page and "Retrait" in page
