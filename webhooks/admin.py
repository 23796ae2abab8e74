"""Webhooks in the admin: any owner's, and their deliveries. A new webhook shows its secret once."""

from django import forms
from django.contrib import admin, messages

from dossier.audit import Actor
from webhooks import actions, deliveries
from webhooks.models import Webhook, WebhookDelivery


class WebhookForm(forms.ModelForm):
    class Meta:
        model = Webhook
        fields = ["owner", "api_key", "url", "kinds", "dossier_prefix", "description", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if problem := actions.url_problem(url):
            raise forms.ValidationError(problem)
        return url

    def clean_dossier_prefix(self):
        return actions.normalise_prefix(self.cleaned_data["dossier_prefix"])


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
        obj.after_event_id = actions.outbox_head()
        super().save_model(request, obj, form, change)
        actions.audit_created(obj, Actor(user=request.user))
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
                deliveries.redeliver(delivery)
            except deliveries.DeliveryInProgress:
                busy += 1
        if busy:
            messages.warning(request, f"{busy} deliveries were being sent and were left alone")
