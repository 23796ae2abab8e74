"""A strict Content-Security-Policy on every HTML page: scripts only from edms's own files.

No inline script and no inline event handler runs, so markup that slips into a page cannot act.
Styles may be inline (pdf.js, Swagger UI and ReDoc set them), which runs no code. A response that
already carries a policy keeps it: content and renditions set their own sandbox.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def content_security_policy() -> str:
    """The policy of edms's pages; with single sign-on, forms may also lead to the provider
    (the sign-out form's answer redirects to its end-session endpoint)."""
    policy = settings.EDMS_CONTENT_SECURITY_POLICY
    issuer = getattr(settings, "EDMS_OIDC_ISSUER", "")
    if issuer:
        parts = urlsplit(issuer)
        policy = policy.replace(
            "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
        )
    return policy


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        return response
