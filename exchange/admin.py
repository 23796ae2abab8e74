"""Exchange in the admin: the CASE client registry (a new client, or a new secret, shows its
secret once), the document-type crosswalk (editable, filtered by what is left unmapped) and the
citations recorded on dossiers (read-only: they are written through the API, audited)."""

from __future__ import annotations

from django.contrib import admin, messages

from exchange.case.clients import create_client, new_secret
from exchange.crosswalk import Scheme
from exchange.models import CaseClient, Citation, DocumentTypeCrosswalk


@admin.register(CaseClient)
class CaseClientAdmin(admin.ModelAdmin):
    list_display = ["client_id", "name", "office_code", "active", "created_at", "last_token_at"]
    list_filter = ["active", "office_code"]
    search_fields = ["client_id", "name", "office_code"]
    fields = ["name", "office_code", "active", "client_id", "created_at", "last_token_at"]
    readonly_fields = ["client_id", "created_at", "last_token_at"]
    actions = ["give_new_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, secret = create_client(name=obj.name, office_code=obj.office_code)
        client.active = obj.active
        client.save(update_fields=["active"])
        obj.pk = client.pk
        obj.client_id = client.client_id
        messages.warning(
            request,
            f"Client id {client.client_id}; its secret (shown once, copy it now): {secret}",
        )

    @admin.action(description="Give the selected clients a new secret (ends their tokens)")
    def give_new_secret(self, request, queryset):
        for client in queryset:
            messages.warning(
                request, f"New secret of {client.client_id} (shown once): {new_secret(client)}"
            )


class UnmappedFilter(admin.SimpleListFilter):
    title = "unmapped for"
    parameter_name = "unmapped"

    def lookups(self, request, model_admin):
        return [(scheme.value, scheme.name) for scheme in Scheme]

    def queryset(self, request, queryset):
        if self.value() in Scheme._value2member_map_:
            return queryset.filter(**{Scheme(self.value()).field: ""})
        return queryset


@admin.register(DocumentTypeCrosswalk)
class DocumentTypeCrosswalkAdmin(admin.ModelAdmin):
    """Types with no row at all are listed by `edms crosswalk_unmapped`; add a row for them here."""

    list_display = ["doc_type", "case_code", "case_group", "uspto_code", "epo_code", "translation"]
    list_editable = ["case_code", "case_group", "uspto_code", "epo_code", "translation"]
    list_filter = [UnmappedFilter, "case_group", "translation"]
    search_fields = ["doc_type__code", "case_code", "uspto_code", "epo_code"]


@admin.register(Citation)
class CitationAdmin(admin.ModelAdmin):
    list_display = ["dossier", "kind", "__str__", "categories", "claims", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["dossier__key", "document_number", "npl_text"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
