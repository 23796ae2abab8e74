"""Approving disposition: a records manager's decision, carried out by the expunge action
(content gone; the version rows stay as tombstones, the audit trail stays), in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from dossier import actions
from dossier.audit import Actor, record_audit
from retention.models import DispositionItem, DispositionState


class BatchTooLarge(actions.InvalidChange):
    """More items than EDMS_DISPOSITION_BATCH in one approval."""


@dataclass
class Outcome:
    """What an approval did with each item asked for, by item id."""

    disposed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # a legal hold came first: withdrawn
    skipped: list[int] = field(default_factory=list)  # not pending (decided, withdrawn, unknown)


def approve_disposition(item_ids: Sequence[int], *, actor: Actor) -> Outcome:
    """Dispose of the pending items `item_ids` (at most EDMS_DISPOSITION_BATCH): each document
    is expunged with the rule as the reason and the item as the reference, and marked disposed;
    one held meanwhile is refused by the expunge action and leaves the queue. Call it outside a
    transaction (expunge deletes content after its commit); an item is claimed by a conditional
    update first, so two approvals never dispose of the same document twice."""
    limit = settings.EDMS_DISPOSITION_BATCH
    wanted = list(dict.fromkeys(item_ids))
    if not wanted:
        raise actions.InvalidChange("name at least one item", field="items")
    if len(wanted) > limit:
        raise BatchTooLarge(f"approve at most {limit} items at a time", field="items")
    outcome = Outcome()
    for item_id in wanted:
        claimed = DispositionItem.objects.filter(pk=item_id, state=DispositionState.PENDING).update(
            state=DispositionState.DISPOSING, decided_at=timezone.now()
        )
        if not claimed:
            outcome.skipped.append(item_id)
            continue
        item = DispositionItem.objects.select_related("document__dossier").get(pk=item_id)
        _dispose(item, actor, outcome)
    record_audit(
        actor,
        "retention.disposition_batch",
        object_type="disposition",
        object_id=f"{len(wanted)} items",
        detail={"disposed": outcome.disposed, "held": outcome.held, "skipped": outcome.skipped},
    )
    return outcome


def _dispose(item: DispositionItem, actor: Actor, outcome: Outcome) -> None:
    decided = {
        "decided_by": actor.user_or_none,
        "decided_by_label": actor.name,
        "decided_at": timezone.now(),
    }
    try:
        actions.expunge_document(
            item.document,
            reason=f"retention period ended: {item.rule_text}",
            reference=f"disposition item {item.pk} (due {item.due_on.isoformat()})",
            actor=actor,
        )
    except actions.LegalHoldActive as held:
        DispositionItem.objects.filter(pk=item.pk).update(
            state=DispositionState.WITHDRAWN, withdrawn_reason=str(held)[:300], **decided
        )
        outcome.held.append(item.pk)
        return
    except BaseException:
        # Not decided: back in the queue, to be approved again.
        DispositionItem.objects.filter(pk=item.pk).update(state=DispositionState.PENDING)
        raise
    DispositionItem.objects.filter(pk=item.pk).update(state=DispositionState.DISPOSED, **decided)
    record_audit(
        actor,
        "retention.dispose",
        object_type="document",
        object_id=item.document_id,
        dossier_key=item.document.dossier.key,
        detail={
            "item": item.pk,
            "rule": item.rule_text,
            "trigger": item.trigger_kind,
            "trigger_date": item.trigger_date.isoformat(),
            "due_on": item.due_on.isoformat(),
        },
    )
    outcome.disposed.append(item.pk)
