"""The starting set of retention rules, copied into the database by a data migration; from then
on the admin is where an office sets its own (its law and its records schedule decide).

Pure data with no Django imports, so the migration can freeze it. Document types are codes of
`dossier.doctype_seed`; a rule whose type an installation does not have is left out.
"""

from dataclasses import dataclass

# The end of the case: the rights lapsed, were withdrawn, refused, expired or revoked.
END_OF_CASE = ("lapse", "withdrawal", "refusal", "expiry", "revocation")


@dataclass(frozen=True)
class RuleSeed:
    ip_type: str  # "" : every IP type
    doc_type: str | None  # None: every document type
    permanent: bool
    years: int | None
    triggers: tuple[str, ...]
    note: str


RULES = (
    RuleSeed("", None, False, 5, END_OF_CASE, "Default: 5 years after the case ended."),
    # What proves the right itself is kept for good.
    RuleSeed("", "GRANT", True, None, (), "Grant or registration decision: permanent."),
    RuleSeed("", "CERT", True, None, (), "Certificate of grant or registration: permanent."),
    RuleSeed("", "PUBN", True, None, (), "Publication: part of the public record, permanent."),
    # Refusals can be appealed and cited for years: kept longer than the rest.
    RuleSeed("", "REFUSE", False, 10, END_OF_CASE, "Refusal decision: 10 years after the end."),
)
