"""Which tasks the broker still holds, for the sweeper to tell waiting work from lost work.

Only kombu's Redis transport can be asked: a queue is a Redis list per priority step (`name`,
`name\\x06\\x163`, ...) of JSON messages whose `headers.id` is the task id, and a message a
worker has taken but not acknowledged yet waits in the `unacked` hash, with the time it was taken
in the `unacked_index` sorted set. Queue names are the configured ones plus every queue kombu
bound (`_kombu.binding.<exchange>` sets). For other brokers the answer is None: the sweeper falls
back to its time rule.

A message taken is held only while a worker may still run it: taken within `TAKEN_WITHIN`, or
waiting for its countdown (`headers.eta`). The work it stands for is still waiting (a version
`pending`, a batch `queued`), so a worker that took it longer ago never started it: it was
killed (SIGKILL, a crash) holding it prefetched. Redis gives such a message back only after the
visibility timeout — hours, see CELERY_BROKER_TRANSPORT_OPTIONS — so it is lost until then, and
the sweeper sends its work again; if it comes back later, its claim finds the work done.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Iterator

from celery import Celery, current_app

log = logging.getLogger(__name__)

CHUNK = 1000  # messages read at once: a backlog of 100,000 tasks is never held in memory
# A worker starts a task it took (prefetch 1 per slot) at once: one taken longer ago than this,
# whose work never started, was taken by a worker that is gone. As long as a runner's lease.
TAKEN_WITHIN = 75.0  # seconds


def task_ids_in_broker(
    wanted: Iterable[str], app: Celery | None = None, *, taken_within: float = TAKEN_WITHIN
) -> set[str] | None:
    """Those of the `wanted` task ids that are queued, or taken by a worker that may still run
    them (within `taken_within` seconds, or waiting for their countdown); None when the broker
    cannot be asked (not Redis, unreachable)."""
    wanted = set(wanted)
    app = app or current_app
    try:
        with app.connection_for_read() as conn:
            if conn.transport.driver_type != "redis":
                return None
            channel = conn.default_channel
            if getattr(channel, "global_keyprefix", ""):
                return None  # keys would need the prefix spelled out: not worth it
            client = channel.client
            queues = _queue_names(app, client, channel)
            return {
                task_id
                for message in _messages(client, channel, queues, taken_within)
                if (task_id := _task_id(message)) in wanted
            }
    except Exception:
        log.exception("could not read the broker's queues; falling back to the time rule")
        return None


def _queue_names(app: Celery, client, channel) -> set[str]:
    names = {app.conf.task_default_queue, *app.amqp.queues.keys()}
    routes = app.conf.task_routes
    if isinstance(routes, dict):
        names.update(route.get("queue") for route in routes.values() if isinstance(route, dict))
    for key in client.scan_iter(match=channel.keyprefix_queue % "*", count=100):
        for member in client.smembers(key):
            member = member.decode() if isinstance(member, bytes) else member
            names.add(member.split(channel.sep)[-1])
    return {name for name in names if name}


def _messages(client, channel, queues: Iterable[str], taken_within: float) -> Iterator[object]:
    """Every message queued (parsed), then every message taken that a worker may still run."""
    for queue in queues:
        for step in channel.priority_steps:
            key = channel._q_for_pri(queue, step)
            start = 0
            while batch := client.lrange(key, start, start + CHUNK - 1):
                yield from (_parsed(raw) for raw in batch)
                start += CHUNK
    now = time.time()
    for tag, value in client.hscan_iter(channel.unacked_key, count=CHUNK):
        entry = _parsed(value)  # [message, exchange, routing key]
        message = entry[0] if isinstance(entry, list) and entry else None
        taken_at = client.zscore(channel.unacked_index_key, tag)
        if _may_still_run(message, taken_at, now, taken_within):
            yield message


def _may_still_run(
    message: object, taken_at: float | None, now: float, taken_within: float
) -> bool:
    """Whether a worker that took `message` at `taken_at` may still run it (see the docstring
    at the top)."""
    if taken_at is None or now - taken_at < taken_within:
        return True  # just taken (or its index entry not yet written)
    eta = message.get("headers", {}).get("eta") if isinstance(message, dict) else None
    if not eta:
        return False
    try:
        due = dt.datetime.fromisoformat(eta).timestamp()
    except (TypeError, ValueError):
        return True  # cannot tell: leave it to the visibility timeout
    return due > now - taken_within


def _parsed(raw) -> object:
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None


def _task_id(message: object) -> str | None:
    if isinstance(message, dict) and isinstance(message.get("headers"), dict):
        return message["headers"].get("id")
    return None
