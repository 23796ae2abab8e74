"""Admin pages. Dossiers, documents and versions are read-only here: they change through the
API's actions, which audit and announce every change; the admin manages the tables around them."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from dossier.models import (
    AuditCheckpoint,
    AuditEvent,
    CaseEvent,
    Document,
    DocumentType,
    Dossier,
    Event,
    FixityPass,
    Version,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "label_en",
        "direction",
        "default_visibility",
        "to_be_published",
        "notify_registry",
        "paper_original_expected",
        "active",
    ]
    list_filter = ["direction", "default_visibility", "active"]
    search_fields = ["code", "labels"]

    def has_delete_permission(self, request, obj=None):
        return False  # documents point at types; retire a type by unticking "active"

    @admin.display(description="label")
    def label_en(self, obj: DocumentType) -> str:
        return obj.label("en")


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["date", "kind", "wipo_code", "note", "recorded_by", "recorded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # recorded through the API (`actions.record_case_event`)


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    list_display = ["key", "ip_type", "title", "status", "filing_date", "published_at", "secret"]
    list_filter = ["ip_type", "status", "secret"]
    search_fields = ["key", "raw_key", "title"]
    inlines = [CaseEventInline]


class VersionInline(admin.TabularInline):
    model = Version
    fields = ["number", "blob", "filename", "media_type", "created_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dossier",
        "doc_type",
        "direction",
        "official_date",
        "visibility",
        "state",
    ]
    list_filter = ["doc_type", "direction", "visibility", "state"]
    search_fields = ["dossier__key", "title", "registry_id"]
    inlines = [VersionInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # Read-only: the rows are evidence, chained by hash (`edms audit verify`).
    list_display = [
        "seq",
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "dossier_key",
        "client_address",
        "request_id",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "dossier_key", "actor_label", "request_id"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "head_hash", "at", "key_id"]
    readonly_fields = ["seq", "head_hash", "at", "key_id", "signature"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "at", "dossier_key", "document_id", "version"]
    list_filter = ["kind"]


@admin.register(FixityPass)
class FixityPassAdmin(ReadOnlyAdmin):
    """The fixity scrub's passes (`edms fixity`), each with the blobs it found bad."""

    list_display = ["started_at", "finished_at", "cycle_days", "checked", "left_due", "bad_count"]
    fields = [
        "started_at",
        "finished_at",
        "cycle_days",
        "checked",
        "checked_bytes",
        "left_due",
        "bad_found",
    ]
    readonly_fields = fields

    @admin.display(description="bad")
    def bad_count(self, obj: FixityPass) -> int:
        return len(obj.bad)

    @admin.display(description="bad blobs")
    def bad_found(self, obj: FixityPass) -> str:
        """Each bad blob with the documents whose versions it is the content of."""
        if not obj.bad:
            return "none"
        sha256s = [entry["sha256"] for entry in obj.bad]
        uses: dict[str, list[Version]] = {}
        for version in Version.objects.filter(blob_id__in=sha256s).order_by("number"):
            uses.setdefault(version.blob_id, []).append(version)
        rows = []
        for entry in obj.bad:
            links = format_html_join(
                ", ",
                '<a href="{}">{} v{}</a>',
                (
                    (
                        reverse("admin:dossier_document_change", args=[version.document_id]),
                        version.document_id,
                        version.number,
                    )
                    for version in uses.get(entry["sha256"], [])
                ),
            )
            rows.append(
                format_html(
                    "<li>{} {}: {} {}</li>",
                    entry["problem"].upper(),
                    entry["sha256"],
                    entry["detail"],
                    links,
                )
            )
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((row,) for row in rows)))
