"""A fake WIPO DAS exchange API, built from the published shapes (../shared/EXCHANGE.md), run
as its own process: `python -m tests.exchange.fake_das --port 8765` (`make exchange-demo`).

What it implements, and how it fills in what the published description leaves open (the README
lists these under "Exchange with other offices"):

- `POST /oauth2/token`: OAuth2 client credentials (HTTP Basic), scope `das-api/office-exchange`;
  tokens last `--token-lifetime` seconds (3600 as DAS). An unknown or expired token: 401.
- `POST /das-api/v1/url-uploads` → `{"uploadUrl", "fileId"}`; the file is PUT to `uploadUrl`.
- `POST /das-api/v1/requests/registrations|retrievals|withdrawals` (the request shape with its
  `operationCategory`) → 202 `{"requestId", "requestStatusCategory": "pending"}`.
- `GET /das-api/v1/requests/{id}` → `requestStatusCategory` pending | success | error, with
  `errorCode`, `statusMessage`, `documentAvailabilityDate`, and for a retrieval `documentUrl`.
  A request is settled `--settle-after` seconds after it arrived; then, when `--notify ID=URL`
  names a URL for the client that sent it, DAS POSTs `{"requestId", "requestStatusCategory"}`
  there (Bearer `--notify-token`) and records the answer's status code (edms answers 204):
  `GET /_fake/notifications`.
- `GET /das-api/v1/requests/{id}/document` (a retrieval's document),
  `GET /das-api/v1/requests/{id}/certificate` (a registration's certificate, a PDF).
- Errors: `WRONG_ACCESS_CODE`, `DOCUMENT_WITHDRAWN`, `DOCUMENT_NOT_FOUND`, `FILE_NOT_FOUND` as a
  request's `errorCode`; `POST /_fake/unavailable {"count": n}` makes the next n API calls
  answer 503 (DAS down for maintenance).

Everything lives in memory: a restart forgets every registration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SCOPE = "das-api/office-exchange"
API = "/das-api/v1"


@dataclass
class Registration:
    kind: str
    number: str
    date: str | None
    access_code: str
    content: bytes
    withdrawn: bool = False


@dataclass
class DasRequestRow:
    id: str
    operation: str
    body: dict
    arrived: float
    status: str = "pending"
    error_code: str = ""
    message: str = ""
    available: str | None = None
    content: bytes = b""
    notified: int | None = None
    client: str = ""


@dataclass
class FakeDas:
    clients: dict[str, str]
    token_lifetime: float = 3600.0
    settle_after: float = 0.2
    notify_urls: dict[str, str] = field(default_factory=dict)
    notify_token: str = ""
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    uploads: dict[str, bytes | None] = field(default_factory=dict)
    registrations: dict[tuple[str, str], Registration] = field(default_factory=dict)
    requests: dict[str, DasRequestRow] = field(default_factory=dict)
    unavailable: int = 0
    notifications: list[dict] = field(default_factory=list)
    tokens_issued: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    url_map = Map(
        [
            Rule("/_fake/health", endpoint="health"),
            Rule("/_fake/unavailable", endpoint="unavailable", methods=["POST"]),
            Rule("/_fake/notifications", endpoint="notifications"),
            Rule("/_fake/stats", endpoint="stats"),
            Rule("/_fake/revoke-tokens", endpoint="revoke_tokens", methods=["POST"]),
            Rule("/_fake/notify", endpoint="notify", methods=["POST"]),
            Rule("/oauth2/token", endpoint="token", methods=["POST"]),
            Rule(f"{API}/url-uploads", endpoint="url_upload", methods=["POST"]),
            Rule(f"{API}/uploads/<file_id>", endpoint="put_file", methods=["PUT"]),
            Rule(
                f"{API}/requests/<any(registrations,retrievals,withdrawals):kind>",
                endpoint="create",
                methods=["POST"],
            ),
            Rule(f"{API}/requests/<request_id>", endpoint="status"),
            Rule(f"{API}/requests/<request_id>/document", endpoint="document"),
            Rule(f"{API}/requests/<request_id>/certificate", endpoint="certificate"),
        ]
    )

    # --- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except Exception:
            return _json({"statusMessage": "not found"}, 404)(environ, start_response)
        if not endpoint.startswith(("health", "unavailable", "notif", "stats", "revoke")):
            with self.lock:
                if self.unavailable > 0:
                    self.unavailable -= 1
                    response = _json({"statusMessage": "service unavailable"}, 503)
                    return response(environ, start_response)
            if endpoint != "token" and not self._client_of(request):
                return _json({"statusMessage": "invalid or expired token"}, 401)(
                    environ, start_response
                )
        response = getattr(self, f"on_{endpoint}")(request, **args)
        return response(environ, start_response)

    def _client_of(self, request: Request) -> str:
        """The client whose live token the request carries; empty: none."""
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self.lock:
            client, expires = self.tokens.get(token, ("", 0.0))
        return client if expires > time.monotonic() else ""

    # --- control ---------------------------------------------------------------------------
    def on_health(self, request):
        return _json({"status": "ok"})

    def on_unavailable(self, request):
        with self.lock:
            self.unavailable = int(
                (request.get_json(force=True, silent=True) or {}).get("count", 1)
            )
        return _json({"unavailable": self.unavailable})

    def on_notifications(self, request):
        with self.lock:
            return _json({"notifications": list(self.notifications)})

    def on_stats(self, request):
        with self.lock:
            return _json({"tokensIssued": self.tokens_issued, "requests": len(self.requests)})

    def on_revoke_tokens(self, request):
        """Every token issued so far stops working (DAS restarted, or revoked them early)."""
        with self.lock:
            self.tokens.clear()
        return _json({"revoked": True})

    def on_notify(self, request):
        """Where to notify a client's requests from now on (`{"client", "url"}`)."""
        body = request.get_json(force=True, silent=True) or {}
        with self.lock:
            self.notify_urls[body["client"]] = body["url"]
        return _json({"notify": dict(self.notify_urls)})

    # --- the API ---------------------------------------------------------------------------
    def on_token(self, request):
        auth = request.authorization
        client_id, secret = (auth.username, auth.password) if auth else ("", "")
        if request.form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if not client_id or self.clients.get(client_id) != secret:
            return _json({"error": "invalid_client"}, 401)
        if SCOPE not in request.form.get("scope", "").split():
            return _json({"error": "invalid_scope"}, 400)
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = (client_id, time.monotonic() + self.token_lifetime)
            self.tokens_issued += 1
        return _json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": SCOPE,
            }
        )

    def on_url_upload(self, request):
        file_id = f"file-{secrets.token_hex(8)}"
        with self.lock:
            self.uploads[file_id] = None
        upload_url = f"{request.host_url.rstrip('/')}{API}/uploads/{file_id}"
        return _json({"uploadUrl": upload_url, "fileId": file_id}, 201)

    def on_put_file(self, request, file_id):
        with self.lock:
            if file_id not in self.uploads:
                return _json({"statusMessage": "unknown upload"}, 404)
            self.uploads[file_id] = request.get_data()
        return Response(status=200)

    def on_create(self, request, kind):
        body = request.get_json(silent=True)
        expected = {
            "registrations": "registration",
            "retrievals": "retrieval",
            "withdrawals": "withdrawal",
        }[kind]
        if not isinstance(body, dict) or body.get("operationCategory") != expected:
            return _json(
                {
                    "errorCode": "INVALID_REQUEST",
                    "statusMessage": f"operationCategory must be {expected}",
                },
                400,
            )
        missing = [
            n
            for n in ("documentKindCategory", "documentNumber", "dasAccessCode")
            if not body.get(n)
        ]
        if expected == "registration":
            missing += [n for n in ("fileId", "applicationNumber") if not body.get(n)]
        if missing:
            return _json(
                {"errorCode": "INVALID_REQUEST", "statusMessage": f"missing: {', '.join(missing)}"},
                400,
            )
        row = DasRequestRow(f"req-{secrets.token_hex(8)}", expected, body, time.monotonic())
        row.client = self._client_of(request)
        with self.lock:
            self.requests[row.id] = row
        threading.Timer(self.settle_after, self._settle, (row.id,)).start()
        return _json({"requestId": row.id, "requestStatusCategory": "pending"}, 202)

    def on_status(self, request, request_id):
        with self.lock:
            row = self.requests.get(request_id)
            if row is None:
                return _json({"statusMessage": "unknown request"}, 404)
            body = {
                "requestId": row.id,
                "operationCategory": row.operation,
                "requestStatusCategory": row.status,
                "errorCode": row.error_code or None,
                "statusMessage": row.message or None,
                "documentAvailabilityDate": row.available,
            }
            if row.operation == "retrieval" and row.status == "success":
                body["documentUrl"] = (
                    f"{request.host_url.rstrip('/')}{API}/requests/{row.id}/document"
                )
        return _json(body)

    def on_document(self, request, request_id):
        with self.lock:
            row = self.requests.get(request_id)
        if row is None or row.operation != "retrieval" or row.status != "success":
            return _json({"statusMessage": "no document for this request"}, 404)
        return Response(row.content, mimetype="application/pdf")

    def on_certificate(self, request, request_id):
        with self.lock:
            row = self.requests.get(request_id)
        if row is None or row.operation != "registration" or row.status != "success":
            return _json({"statusMessage": "no certificate for this request"}, 404)
        return Response(_certificate_pdf(row), mimetype="application/pdf")

    # --- settling ----------------------------------------------------------------------------
    def _settle(self, request_id: str) -> None:
        with self.lock:
            row = self.requests[request_id]
            body = row.body
            key = (body["documentKindCategory"], body["documentNumber"])
            registration = self.registrations.get(key)
            if row.operation == "registration":
                content = self.uploads.get(body["fileId"])
                if content is None:
                    self._error(row, "FILE_NOT_FOUND", "the fileId names no uploaded file")
                else:
                    self.registrations[key] = Registration(
                        key[0], key[1], body.get("documentDate"), body["dasAccessCode"], content
                    )
                    row.status, row.available = "success", dt.date.today().isoformat()
            elif registration is None:
                self._error(
                    row, "DOCUMENT_NOT_FOUND", "no document is registered under this number"
                )
            elif registration.withdrawn:
                self._error(row, "DOCUMENT_WITHDRAWN", "the document was withdrawn from DAS")
            elif registration.access_code != body["dasAccessCode"]:
                self._error(row, "WRONG_ACCESS_CODE", "the access code does not match")
            elif row.operation == "withdrawal":
                registration.withdrawn = True
                row.status = "success"
            else:
                row.status, row.content = "success", registration.content
        if url := self.notify_urls.get(row.client):
            self._notify(row, url)

    @staticmethod
    def _error(row: DasRequestRow, code: str, message: str) -> None:
        row.status, row.error_code, row.message = "error", code, message

    def _notify(self, row: DasRequestRow, url: str) -> None:
        data = json.dumps({"requestId": row.id, "requestStatusCategory": row.status}).encode()
        call = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.notify_token}",
            },
        )
        try:
            with urllib.request.urlopen(call, timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = None
        with self.lock:
            row.notified = status
            self.notifications.append({"requestId": row.id, "status": status})


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _certificate_pdf(row: DasRequestRow) -> bytes:
    """A one-page PDF naming the registration (a real certificate is WIPO's to design)."""
    text = (
        f"WIPO DAS registration certificate: {row.body['documentNumber']} "
        f"({row.body['documentKindCategory']}), request {row.id}"
    )
    text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 11 Tf 40 780 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="A fake WIPO DAS exchange API, for tests and demos."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="an office's client credentials (repeatable; default demo:demo-secret)",
    )
    parser.add_argument("--token-lifetime", type=float, default=3600.0)
    parser.add_argument(
        "--settle-after", type=float, default=0.2, help="seconds a request stays pending"
    )
    parser.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="ID=URL",
        help="where to POST status notifications of a client's requests (repeatable)",
    )
    parser.add_argument("--notify-token", default="")
    args = parser.parse_args(argv)
    clients = dict(pair.split(":", 1) for pair in args.client) or {"demo": "demo-secret"}
    notify_urls = dict(pair.split("=", 1) for pair in args.notify)
    app = FakeDas(clients, args.token_lifetime, args.settle_after, notify_urls, args.notify_token)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"fake DAS on http://{args.host}:{args.port} (clients: {', '.join(clients)})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
