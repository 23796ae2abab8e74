"""Admin pages: the retention rules are edited here; the disposition queue is read here and its
items approved with the "Approve disposition" action (the same `approve_disposition` as the
API); scans and decided items are read-only records."""

from django.contrib import admin, messages

from dossier.admin import ReadOnlyAdmin
from dossier.audit import actor_of
from dossier.models import LegalHold
from retention.disposition import approve_disposition
from retention.models import DispositionItem, DispositionState, RetentionRule, RetentionScan


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "ip_type", "doc_type", "permanent", "years", "note"]
    list_filter = ["ip_type", "permanent"]


@admin.register(DispositionItem)
class DispositionItemAdmin(ReadOnlyAdmin):
    list_display = ["document", "due_on", "trigger_kind", "trigger_date", "rule_text", "state"]
    list_filter = ["state"]
    actions = ["approve"]

    @admin.action(description="Approve disposition (expunge the documents)")
    def approve(self, request, queryset):
        ids = list(queryset.filter(state=DispositionState.PENDING).values_list("pk", flat=True))
        outcome = approve_disposition(ids, actor=actor_of(request))
        self.message_user(
            request,
            f"{len(outcome.disposed)} disposed of, {len(outcome.held)} held by a legal hold, "
            f"{len(outcome.skipped)} no longer pending",
            messages.SUCCESS if not outcome.held else messages.WARNING,
        )


@admin.register(RetentionScan)
class RetentionScanAdmin(ReadOnlyAdmin):
    list_display = ["ran_at", "as_of", "queued", "withdrawn"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    """Read-only: holds are placed and released through the API's actions (audited)."""

    list_display = ["reference", "dossier", "document", "placed_by", "placed_at", "released_at"]
    list_filter = ["released_at"]
