"""The sign-in page: the provider's single sign-on when configured, and the password form for
whom `EDMS_LOCAL_LOGIN` allows (see frontend/sso.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views


class SignInView(auth_views.LoginView):
    template_name = "frontend/login.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(
            sso_enabled=settings.EDMS_SSO_ENABLED,
            provider_name=settings.EDMS_OIDC_PROVIDER_NAME,
            # "all", "superusers" (an emergency administrator's form) or "none" (no form).
            local_login=settings.EDMS_LOCAL_LOGIN,
        )
        return context
