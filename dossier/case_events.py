"""Legal-status case events: what the registry tells edms happened to the case, and what the
visibility rules read from them.

The registry owns the legal case; edms keeps its event log (`CaseEvent`, recorded by
`actions.record_case_event`) because publication decides who may read the file wrapper. The
dossier's `published_at` is derived from the log by `effective_publication_date`.

The WIPO standards for legal-status data give each event a category code: ST.27 for patents
(and utility models, SPCs), ST.61 for trademarks, ST.87 for industrial designs. Offices map
their own events onto them; edms checks only the code's shape (a category letter and a
two-digit event number, e.g. ``B10``; up to three more characters, which ST.27 reserves), since
the tables change between revisions of the standards.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import models


class CaseEventKind(models.TextChoices):
    FILING = "filing", "Filing"
    PRIORITY_CLAIMED = "priority_claimed", "Priority claimed"
    EXAMINATION_REQUESTED = "examination_requested", "Examination requested"
    SEARCH_REPORT = "search_report", "Search report drawn up"
    PUBLICATION = "publication", "Publication"
    OPPOSITION_FILED = "opposition_filed", "Opposition filed"
    OPPOSITION_DECIDED = "opposition_decided", "Opposition decided"
    GRANT = "grant", "Grant or registration"
    REFUSAL = "refusal", "Refusal"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    APPEAL_FILED = "appeal_filed", "Appeal filed"
    APPEAL_DECIDED = "appeal_decided", "Appeal decided"
    LAPSE = "lapse", "Lapse"
    RESTORATION = "restoration", "Restoration (re-establishment of rights)"
    RENEWAL = "renewal", "Renewal"
    RECORDAL = "recordal", "Recordal (transfer, licence, change of name)"
    REVOCATION = "revocation", "Revocation or invalidation"
    EXPIRY = "expiry", "Expiry"


# Kinds that can move the publication date (see `effective_publication_date`).
PUBLICATION_KINDS = frozenset(
    {CaseEventKind.PUBLICATION, CaseEventKind.WITHDRAWAL, CaseEventKind.RESTORATION}
)

# The WIPO legal-status standard for each IP type (None: there is none, so no code is taken).
WIPO_STANDARD_BY_IP_TYPE = {
    "patent": "ST.27",
    "utility_model": "ST.27",
    "spc": "ST.27",
    "trademark": "ST.61",
    "design": "ST.87",
    "gi": None,
}

_WIPO_CODE = re.compile(r"[A-Z][0-9]{2}[0-9A-Z]{0,3}")


def wipo_standard(ip_type: str) -> str | None:
    """The legal-status standard whose category codes apply to dossiers of `ip_type`."""
    return WIPO_STANDARD_BY_IP_TYPE.get(ip_type)


def wipo_code_problem(ip_type: str, code: str) -> str | None:
    """Why `code` is not a category code for a dossier of `ip_type`; None when it is."""
    standard = wipo_standard(ip_type)
    if standard is None:
        return f"dossiers of IP type {ip_type!r} have no WIPO legal-status category codes"
    if not _WIPO_CODE.fullmatch(code):
        return (
            f"{code!r} is not a {standard} category code: a capital letter and two digits "
            "(e.g. B10), optionally up to three more letters or digits"
        )
    return None


def effective_publication_date(events: Iterable[tuple[str, dt.date]]) -> dt.date | None:
    """The date the dossier became published, from its `(kind, date)` case events.

    The earliest publication counts (a later one, say of the grant, does not close the file
    again). A withdrawal before publication keeps the file closed: a publication dated on or
    after a withdrawal counts only if a restoration came in between. A withdrawal after
    publication changes nothing, since what was published stays open to inspection. Events of
    one day apply in the order withdrawal, restoration, publication, so a publication recorded
    for the day of a withdrawal does not open the file.
    """
    order = {CaseEventKind.WITHDRAWAL: 0, CaseEventKind.RESTORATION: 1}
    withdrawn = False
    for kind, date in sorted(events, key=lambda event: (event[1], order.get(event[0], 2))):
        if kind == CaseEventKind.WITHDRAWAL:
            withdrawn = True
        elif kind == CaseEventKind.RESTORATION:
            withdrawn = False
        elif kind == CaseEventKind.PUBLICATION and not withdrawn:
            return date
    return None
