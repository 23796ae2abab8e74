"""API keys in the admin: creating one shows its key once."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from api.models import ApiKey, is_service_user, service_user


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
