"""Which tasks the broker still holds, for the sweeper to tell waiting work from lost work.

Only kombu's Redis transport can be asked: a queue is a Redis list per priority step (`name`,
`name\\x06\\x163`, ...) of JSON messages whose `headers.id` is the task id, and a message a
worker has taken but not acknowledged yet waits in the `unacked` hash (restored to its queue
when the worker dies and the visibility timeout passes), so it is not lost either. Queue names
are the configured ones plus every queue kombu bound (`_kombu.binding.<exchange>` sets). For
other brokers the answer is None: the sweeper falls back to its time rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator

from celery import Celery, current_app

log = logging.getLogger(__name__)

CHUNK = 1000  # messages read at once: a backlog of 100,000 tasks is never held in memory


def task_ids_in_broker(wanted: Iterable[str], app: Celery | None = None) -> set[str] | None:
    """Those of the `wanted` task ids that are queued or delivered and unacknowledged; None
    when the broker cannot be asked (not Redis, unreachable)."""
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
                for message in _messages(client, channel, queues)
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


def _messages(client, channel, queues: Iterable[str]) -> Iterator[object]:
    """Every message queued (parsed), then every message delivered and not acknowledged."""
    for queue in queues:
        for step in channel.priority_steps:
            key = channel._q_for_pri(queue, step)
            start = 0
            while batch := client.lrange(key, start, start + CHUNK - 1):
                yield from (_parsed(raw) for raw in batch)
                start += CHUNK
    for _, value in client.hscan_iter(channel.unacked_key, count=CHUNK):
        entry = _parsed(value)  # [message, exchange, routing key]
        yield entry[0] if isinstance(entry, list) and entry else None


def _parsed(raw) -> object:
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None


def _task_id(message: object) -> str | None:
    if isinstance(message, dict) and isinstance(message.get("headers"), dict):
        return message["headers"].get("id")
    return None
