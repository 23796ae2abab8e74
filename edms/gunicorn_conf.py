"""gunicorn's settings for edms, used by every way of starting the web server:
`gunicorn edms.wsgi:application --config python:edms.gunicorn_conf ...` (`edms run`, the systemd
unit, the README, the tests' server).

gunicorn refuses some requests before edms sees them (a request line over `limit_request_line`,
a header over `limit_request_field_size`, a malformed request) and answers them with an HTML
page of its own. Here those answers become RFC 9457 problems like every other error of edms.
gunicorn's own logs (its error log, and the access log: one line a request) take edms's format
(edms.logs: JSON lines unless standard error is a terminal or EDMS_LOG_FORMAT says otherwise).
This module is read by gunicorn's master before Django is set up: of edms it imports only
`edms.logs`, which imports no Django.
"""

from __future__ import annotations

import json
import os

from gunicorn import util

from edms import logs

# gunicorn's defaults, stated: a request line (method, URL, version) of at most 4094 bytes (the
# UI's and the API's URLs stay far below), header fields of at most 8190 bytes, 100 of them.
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 100

# Logging: gunicorn's loggers configured like Django's (see edms.logs); in text, the access
# line is gunicorn's usual one with the request id edms answered with at its end.
logconfig_dict = logs.gunicorn_logging_config(
    logs.log_format(), os.environ.get("EDMS_LOG_LEVEL", "INFO").upper()
)
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)

# gunicorn's statuses for requests it refuses, as types of edms's problem catalogue
# (api.problems; a test checks that the two agree).
PROBLEMS = {
    400: ("bad-request", "The request is malformed"),
    403: ("forbidden", "The caller's role does not allow this"),
    414: ("request-line-too-long", "The request line (URL) is too long"),
    431: ("request-headers-too-large", "The request's headers are too large"),
    500: ("server-error", "Internal error"),
}


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, answering `application/problem+json` instead of HTML."""
    # Any other status (417, 501) is RFC 9457's plain problem: type about:blank, the reason.
    slug, title = PROBLEMS.get(status_int, (None, reason))
    body = {
        "type": f"/api/v1/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status_int,
        "detail": mesg or reason,
    }
    if status_int == 414:
        body["limit"] = limit_request_line
    content = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(content)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + content)


def post_worker_init(worker) -> None:
    # Workers write their refusals through `util.write_error` (gunicorn.workers.base); the
    # tests' real gunicorn server checks that this still takes effect after an upgrade.
    util.write_error = write_problem
