"""The DAS exchange API as edms calls it: OAuth2 client-credentials tokens, JSON calls, files.

Tokens (valid an hour) are cached per process and fetched again shortly before they expire, or
at once when DAS answers 401 to one (revoked early). Each call has a timeout. What a call's
failure means decides what the caller does: `DasUnavailable` (no connection, a timeout, 429 or
5xx) is transient and retried later with backoff by `exchange.das.progress`; `DasRefused` (any
other 4xx) is permanent and recorded on the request with DAS's reason.

No OAuth library: the client-credentials grant is one form POST (RFC 6749 §4.4), and what a
library adds (refresh tokens, PKCE, authorization codes) does not apply to it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

API = "/das-api/v1"
# A token is fetched again this long before DAS says it expires (clocks, calls under way).
TOKEN_MARGIN_S = 60.0


class DasError(Exception):
    """A call to DAS did not succeed."""

    def __init__(self, message: str, *, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


class DasUnavailable(DasError):
    """Transient: DAS could not be reached, timed out, or answered 429 or 5xx."""


class DasRefused(DasError):
    """Permanent: DAS refused the call (4xx other than 401 after a fresh token, 408, 429)."""


class DasNotConfigured(DasError):
    """EDMS_DAS_URL or the client credentials are not set."""


@dataclass
class _Token:
    value: str
    expires_at: float  # time.monotonic()


_tokens: dict[tuple[str, str], _Token] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests; a rotated client secret takes effect at once)."""
    with _tokens_lock:
        _tokens.clear()


@dataclass(frozen=True)
class Status:
    """A request's status as DAS reports it."""

    category: str  # pending | success | error
    error_code: str = ""
    message: str = ""
    available_from: dt.date | None = None
    document_url: str = ""


class DasClient:
    """One office's client of the DAS exchange API, configured from settings."""

    def __init__(self, session: requests.Session | None = None):
        if not (settings.EDMS_DAS_URL and settings.EDMS_DAS_CLIENT_ID):
            raise DasNotConfigured("DAS is not configured (EDMS_DAS_URL, EDMS_DAS_CLIENT_ID)")
        self.base = settings.EDMS_DAS_URL
        self.timeout = settings.EDMS_DAS_TIMEOUT
        self.session = session or requests.Session()

    # --- tokens ---------------------------------------------------------------------------
    def _token(self, *, fresh: bool = False) -> str:
        key = (settings.EDMS_DAS_TOKEN_URL, settings.EDMS_DAS_CLIENT_ID)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not fresh and cached.expires_at > time.monotonic():
                return cached.value
            answer = self._send(
                "POST",
                settings.EDMS_DAS_TOKEN_URL,
                data={"grant_type": "client_credentials", "scope": settings.EDMS_DAS_SCOPE},
                auth=(settings.EDMS_DAS_CLIENT_ID, settings.EDMS_DAS_CLIENT_SECRET),
            )
            body = _json(answer)
            lifetime = float(body.get("expires_in", 3600))
            token = _Token(
                body["access_token"], time.monotonic() + max(lifetime - TOKEN_MARGIN_S, 1.0)
            )
            _tokens[key] = token
            return token.value

    # --- transport ------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            answer = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise DasUnavailable(f"DAS unreachable: {type(exc).__name__}: {exc}"[:400]) from exc
        if answer.status_code in (408, 429) or answer.status_code >= 500:
            raise DasUnavailable(f"DAS answered {answer.status_code}", status=answer.status_code)
        if answer.status_code >= 400:
            problem = _problem(answer)
            raise DasRefused(
                problem.get("statusMessage") or problem.get("detail") or answer.reason,
                status=answer.status_code,
                code=problem.get("errorCode", ""),
            )
        return answer

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        headers = kwargs.pop("headers", {})
        try:
            return self._send(
                method,
                url,
                headers=headers | {"Authorization": f"Bearer {self._token()}"},
                **kwargs,
            )
        except DasRefused as exc:
            if exc.status != 401:
                raise
        # The token was refused before its time (revoked, the service restarted): once more
        # with a fresh one.
        fresh = self._token(fresh=True)
        return self._send(
            method, url, headers=headers | {"Authorization": f"Bearer {fresh}"}, **kwargs
        )

    # --- the calls ------------------------------------------------------------------------
    def upload(self, content: bytes, *, filename: str, media_type: str) -> str:
        """Put `content` where DAS says (`url-uploads`); returns its `fileId`."""
        slot = _json(
            self._call(
                "POST", f"{API}/url-uploads", json={"fileName": filename, "contentType": media_type}
            )
        )
        self._call("PUT", slot["uploadUrl"], data=content, headers={"Content-Type": media_type})
        return slot["fileId"]

    def submit(self, operation: str, body: dict[str, Any]) -> str:
        """Send a registration, retrieval or withdrawal request; returns DAS's request id."""
        path = {
            "registration": "registrations",
            "retrieval": "retrievals",
            "withdrawal": "withdrawals",
        }[operation]
        answer = _json(
            self._call(
                "POST", f"{API}/requests/{path}", json={"operationCategory": operation} | body
            )
        )
        return str(answer["requestId"])

    def status(self, das_request_id: str) -> Status:
        body = _json(self._call("GET", f"{API}/requests/{das_request_id}"))
        available = body.get("documentAvailabilityDate")
        return Status(
            category=body.get("requestStatusCategory", "pending"),
            error_code=body.get("errorCode") or "",
            message=body.get("statusMessage") or "",
            available_from=dt.date.fromisoformat(available) if available else None,
            document_url=body.get("documentUrl") or "",
        )

    def download(self, url: str) -> bytes:
        """The retrieved document's bytes (`documentUrl` of a successful retrieval)."""
        return self._call("GET", url).content

    def certificate(self, das_request_id: str) -> bytes:
        """The registration certificate (PDF) of a successful registration."""
        return self._call("GET", f"{API}/requests/{das_request_id}/certificate").content


def _json(answer: requests.Response) -> dict:
    try:
        body = answer.json()
    except ValueError as exc:
        raise DasUnavailable(f"DAS answered {answer.status_code} without JSON") from exc
    if not isinstance(body, dict):
        raise DasUnavailable("DAS answered JSON that is not an object")
    return body


def _problem(answer: requests.Response) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
