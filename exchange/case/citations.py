"""Search-report citations kept per dossier (what CASE's `applications/citations` serves).

Recording one is a change to the dossier: audited (`dossier.citation_recorded`) in the same
transaction. Citations are kept as recorded: there is no edit or removal yet.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from dossier.actions.errors import InvalidChange
from dossier.audit import Actor, record_audit
from dossier.models import Dossier
from exchange.models import CITATION_CATEGORIES, Citation, CitationKind


def record_citation(
    dossier: Dossier,
    *,
    actor: Actor,
    categories: list[str],
    office_code: str = "",
    document_number: str = "",
    kind_code: str = "",
    document_date: dt.date | None = None,
    npl_text: str = "",
    claims: str = "",
    passages: list[str] | None = None,
) -> Citation:
    """Record one cited document of a search report on `dossier`: a patent document (office code
    and number, optionally kind code and date) or non-patent literature (`npl_text`), never both.
    Raises `InvalidChange` for anything else."""
    categories = [category.strip().upper() for category in categories]
    unknown = [category for category in categories if category not in CITATION_CATEGORIES]
    if not categories or unknown:
        raise InvalidChange(
            f"give one or more ST.14 categories of {', '.join(CITATION_CATEGORIES)}",
            field="citationCategoryCodes",
        )
    npl_text = npl_text.strip()
    patent = bool(office_code.strip() or document_number.strip())
    if patent == bool(npl_text):
        raise InvalidChange(
            "a citation is either a patent document or non-patent literature text",
            field="patentCitation",
        )
    office_code = office_code.strip().upper()
    if patent and not (len(office_code) == 2 and office_code.isalpha() and document_number.strip()):
        raise InvalidChange(
            "a patent citation needs a two-letter ST.3 office code and a document number",
            field="patentCitation",
        )
    with transaction.atomic():
        citation = Citation.objects.create(
            dossier=dossier,
            kind=CitationKind.PATENT if patent else CitationKind.NPL,
            categories=categories,
            office_code=office_code,
            document_number=document_number.strip(),
            kind_code=kind_code.strip().upper(),
            document_date=document_date,
            npl_text=npl_text,
            claims=claims.strip(),
            passages=[passage.strip() for passage in passages or [] if passage.strip()],
            recorded_by=actor.name,
        )
        record_audit(
            actor,
            "dossier.citation_recorded",
            object_type="dossier",
            object_id=dossier.id,
            dossier_key=dossier.key,
            detail={"citation": str(citation.id), "cited": str(citation), "categories": categories},
        )
    return citation


def dossier_citations(dossier: Dossier):
    """The dossier's citations in the order they were recorded."""
    return Citation.objects.filter(dossier=dossier).order_by("recorded_at", "id")
