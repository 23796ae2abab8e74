"""API keys and webhooks in the admin: creating either shows its secret once."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from api import webhooks
from api.models import ApiKey, Webhook, WebhookDelivery, is_service_user, service_user
from dossier.audit import Actor


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "role", "user", "revoked_at"]

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name")
        if self.instance.pk is None and not cleaned.get("user") and name:
            existing = get_user_model().objects.filter(username=name).first()
            if existing is not None and not is_service_user(existing):
                self.add_error(
                    "name",
                    f"{name!r} is a person's account: a key without a user acts as a service "
                    "user named like it. Choose another name, or pick the user explicitly.",
                )
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "role", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["role"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "role", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "role", "user", "name"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            key, obj.prefix, obj.key_hash = ApiKey.generate()
            if obj.user_id is None:
                obj.user = service_user(obj.name)
            super().save_model(request, obj, form, change)
            messages.warning(request, f"The new API key (shown once, copy it now): {key}")
            return
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "user" in form.base_fields:
            form.base_fields["user"].required = False
            form.base_fields[
                "user"
            ].help_text = "Leave empty to create a service user named like the key."
        return form

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key.revoke()


class WebhookForm(forms.ModelForm):
    class Meta:
        model = Webhook
        fields = ["owner", "api_key", "url", "kinds", "dossier_prefix", "description", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if problem := webhooks.url_problem(url):
            raise forms.ValidationError(problem)
        return url

    def clean_dossier_prefix(self):
        return webhooks.normalise_prefix(self.cleaned_data["dossier_prefix"])


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Any owner's webhooks. A new one shows its secret once; the secret is never shown again."""

    form = WebhookForm
    list_display = ["id", "owner", "url", "active", "kinds", "dossier_prefix", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__username", "description"]
    raw_id_fields = ["owner", "api_key"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.after_event_id = webhooks.outbox_head()
        super().save_model(request, obj, form, change)
        webhooks.audit_created(obj, Actor(user=request.user))
        messages.warning(request, f"The webhook's secret (shown once, copy it now): {obj.secret}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """What was sent where and how it went; read-only, except sending again."""

    list_display = ["id", "webhook", "kind", "event", "state", "attempts", "last_status_code"]
    list_filter = ["state", "kind"]
    list_select_related = ["webhook__owner"]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected deliveries again")
    def send_again(self, request, queryset):
        busy = 0
        for delivery in queryset:
            try:
                webhooks.redeliver(delivery)
            except webhooks.DeliveryInProgress:
                busy += 1
        if busy:
            messages.warning(request, f"{busy} deliveries were being sent and were left alone")
