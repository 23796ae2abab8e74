"""Creating and updating dossiers (by any form of their file number)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from dossier import vienna
from dossier.actions.case_events import record_published_at
from dossier.actions.errors import InvalidChange
from dossier.audit import Actor, record_audit
from dossier.events import append_event
from dossier.models import Dossier, EventKind
from dossier.numbering import parse_file_number

DOSSIER_FIELDS = (
    "ip_type",
    "title",
    "applicants",
    "representatives",
    "filing_date",
    "published_at",
    "registration_date",
    "status",
    "language",
    "priority_claims",
    "vienna_codes",
    "secret",
    "paper_location",
)


def upsert_dossier(raw_key: str, fields: dict, *, actor: Actor) -> tuple[Dossier, bool]:
    """Create the dossier for `raw_key`, or update the given fields. Returns (dossier, created).

    Idempotent: repeating the same data changes nothing and appends no event. Fields left out
    keep their values. Setting `published_at` sets it as given and records the publication case
    event it stands for (`record_case_event` is the fuller way: a kind, a WIPO code, a note).
    Vienna codes are checked and kept in one form (`dossier.vienna`).
    """
    number = parse_file_number(raw_key)
    unknown = set(fields) - set(DOSSIER_FIELDS)
    if unknown:
        raise InvalidChange(f"unknown dossier field(s): {', '.join(sorted(unknown))}")
    if "vienna_codes" in fields:
        try:
            fields = {**fields, "vienna_codes": vienna.clean_codes(fields["vienna_codes"])}
        except vienna.InvalidViennaCode as exc:
            raise InvalidChange(str(exc), field="vienna_codes") from None
    try:
        with transaction.atomic():
            return _upsert_dossier(number.key, raw_key, fields, actor)
    except IntegrityError:
        # A concurrent request created the same dossier first: this one becomes an update.
        with transaction.atomic():
            return _upsert_dossier(number.key, raw_key, fields, actor)


def _upsert_dossier(key: str, raw_key: str, fields: dict, actor: Actor) -> tuple[Dossier, bool]:
    dossier = Dossier.objects.select_for_update().filter(key=key).first()
    if dossier is None:
        if not fields.get("ip_type"):
            raise InvalidChange("ip_type is required to create a dossier", field="ip_type")
        dossier = Dossier.objects.create(key=key, raw_key=raw_key.strip(), **fields)
        record_published_at(dossier, actor=actor)
        record_audit(
            actor,
            "dossier.create",
            object_type="dossier",
            object_id=dossier.id,
            dossier_key=key,
            detail={"raw_key": raw_key},
        )
        append_event(
            EventKind.DOSSIER_CREATED, dossier_key=key, payload={"dossierId": str(dossier.id)}
        )
        return dossier, True
    changed = sorted(name for name, value in fields.items() if getattr(dossier, name) != value)
    if not changed:
        return dossier, False
    for name in changed:
        setattr(dossier, name, fields[name])
    dossier.revision += 1
    dossier.save()
    if "published_at" in changed:
        record_published_at(dossier, actor=actor)
    record_audit(
        actor,
        "dossier.update",
        object_type="dossier",
        object_id=dossier.id,
        dossier_key=key,
        detail={"fields": changed},
    )
    append_event(
        EventKind.DOSSIER_UPDATED,
        dossier_key=key,
        payload={"dossierId": str(dossier.id), "fields": changed},
    )
    return dossier, False
