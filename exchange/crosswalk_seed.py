"""Starting crosswalk of the seed document types (`dossier.doctype_seed`) to other offices' codes,
copied into `DocumentTypeCrosswalk` by a data migration; from then on the admin is where it
changes. Pure data, so the migration can freeze it.

Only what CASE's examiners look for is mapped for CASE: the application as filed, search and
examination results, and priority documents with their translations; fees, powers of attorney,
correspondence, internal papers and the like stay unmapped, and CASE does not share documents of an
unmapped type. The codes are starting values: EXCHANGE.md names one CASE code (`EXRP`) and no code
list, so every CASE, USPTO and EPO code here is to be checked against the list an office receives
when it joins (README, "Exchange with other offices"); `edms crosswalk_unmapped` lists the gaps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrosswalkSeed:
    code: str  # the edms document type
    case_code: str = ""
    case_group: str = ""
    uspto_code: str = ""
    epo_code: str = ""  # EPO form numbers, where the EPO has one for the paper
    translation: bool = False


CROSSWALK: tuple[CrosswalkSeed, ...] = (
    # The application as filed.
    CrosswalkSeed("REQ", uspto_code="ADS", epo_code="1001"),
    CrosswalkSeed("DESC", "SPEC", "application", "SPEC"),
    CrosswalkSeed("CLM", "CLM", "application", "CLM"),
    CrosswalkSeed("ABST", "ABST", "application", "ABST"),
    CrosswalkSeed("DRW", "DRW", "application", "DRW"),
    CrosswalkSeed("SEQL", "SEQL", "application", "SEQLIST"),
    CrosswalkSeed("INV", uspto_code="OATH"),
    CrosswalkSeed("POA", uspto_code="PA.."),
    CrosswalkSeed("NPH", epo_code="1200"),
    # Priority documents and translations.
    CrosswalkSeed("PRIO", "PRIO", "priority", "FRPR"),
    CrosswalkSeed("PRIO-TR", "PRTR", "priority", translation=True),
    CrosswalkSeed("TRANS", "TRAN", "application", "TRNA", translation=True),
    # Search.
    CrosswalkSeed("SR", "SRPT", "search", epo_code="1503"),
    CrosswalkSeed("SO", "WOSA", "search", epo_code="1703"),
    CrosswalkSeed("CIT", "CITE", "search", "892"),
    CrosswalkSeed("IDS", "IDS", "search", "IDS"),
    CrosswalkSeed("SRCH-NOTE", uspto_code="SRNT"),
    # Examination.
    CrosswalkSeed("OA", "EXRP", "examination", "CTNF", "2001"),
    CrosswalkSeed("OA-F", "EXRP", "examination", "CTFR"),
    CrosswalkSeed("UNITY", "UNIT", "examination", "CTRS"),
    CrosswalkSeed("INTV", "INTV", "examination", "EXIN"),
    CrosswalkSeed("RESP", "RESP", "examination", "REM"),
    CrosswalkSeed("AMD", "AMND", "examination", "A..."),
    CrosswalkSeed("EXT", uspto_code="XT/"),
    CrosswalkSeed("PET", uspto_code="PET."),
    CrosswalkSeed("APPEAL", uspto_code="N/AP"),
    # Outcome.
    CrosswalkSeed("ALLOW", "ALLW", "grant", "NOA", "2004"),
    CrosswalkSeed("GRANT", "GRNT", "grant", "ISSUE.NTF", "2006"),
    CrosswalkSeed("REFUSE", "REFU", "examination"),
    CrosswalkSeed("ABAND", uspto_code="ABN"),
    CrosswalkSeed("RCPT", uspto_code="APP.FILE.REC"),
    CrosswalkSeed("BIB", uspto_code="BIB"),
)
