"""What the broker holds and which workers answer, as plain data for the operations page.

- Workers: Celery's control `ping` over the broker, with a short timeout, so the page stays fast
  when none answers. The workers `edms run` starts (EDMS_LOCAL_WORKERS) are listed even when
  silent on the embedded default, where they are sure to be expected.
- Queues: how many tasks wait in each, and how long the oldest has waited. Every task published
  carries the time it was published in a header (`stamp_published_at`, connected to Celery's
  `before_task_publish` by this app). kombu's Redis transport LPUSHes and BRPOPs, so a list's
  oldest message is its tail; a queue with priorities has one list per priority step.
  Other brokers (RabbitMQ) give the depth (a passive declare) but not the age.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from celery import current_app as app
from django.conf import settings
from kombu.exceptions import OperationalError

# When each task entered the broker, in its headers: the age of a queue's oldest waiting task.
PUBLISHED_AT = "edms_published_at"

BROKER_TIMEOUT = 1.0  # seconds to reach the broker before the page says it is unreachable
PING_TIMEOUT = 0.5  # seconds to wait for workers' answers


def stamp_published_at(sender=None, headers=None, **kwargs) -> None:
    """Stamp the publishing time on a task's message (unless the sender already did)."""
    if headers is not None:
        headers.setdefault(PUBLISHED_AT, time.time())


@dataclass(frozen=True)
class WorkerState:
    name: str  # its hostname, e.g. "main@edms-1"
    answering: bool


@dataclass(frozen=True)
class QueueState:
    name: str
    waiting: int | None  # None: the broker cannot say
    oldest_age_s: float | None  # None: empty, or the broker cannot say


@dataclass(frozen=True)
class BrokerState:
    reachable: bool
    workers: list[WorkerState]
    queues: list[QueueState]


def queue_names() -> list[str]:
    """Every queue tasks are routed to or a local worker consumes."""
    names = {settings.CELERY_TASK_DEFAULT_QUEUE}
    names |= {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    for worker in settings.EDMS_LOCAL_WORKERS:
        names |= set(worker["queues"])
    return sorted(names)


def broker_state(
    queues: list[str] | None = None, *, ping_timeout: float = PING_TIMEOUT
) -> BrokerState:
    """Workers and queues as the broker sees them now; never waits long for either."""
    queues = queue_names() if queues is None else queues
    unknown = [QueueState(name, None, None) for name in queues]
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
        failures = (OperationalError, *connection.connection_errors, OSError)
        try:
            connection.ensure_connection(max_retries=0)  # one attempt: say "unreachable" at once
        except failures:
            return BrokerState(False, _workers(set()), unknown)
        try:
            states = _queues(connection, queues)
            replies = app.control.ping(
                timeout=ping_timeout, connection=connection, limit=_expected_count()
            )
        except failures:
            return BrokerState(False, _workers(set()), unknown)
    answered = {name for reply in replies for name in reply}
    return BrokerState(True, _workers(answered), states)


def queue_states(queues: list[str] | None = None) -> list[QueueState] | None:
    """The queues alone, without asking the workers (for metrics); None: broker unreachable."""
    queues = queue_names() if queues is None else queues
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
        failures = (OperationalError, *connection.connection_errors, OSError)
        try:
            connection.ensure_connection(max_retries=0)
            return _queues(connection, queues)
        except failures:
            return None


def _queues(connection, queues: list[str]) -> list[QueueState]:
    if connection.transport.driver_type == "redis":
        return _redis_queues(connection, queues)
    return [_declared_queue(connection, name) for name in queues]


def _expected() -> list[str]:
    """Name prefixes of the workers that `edms run` keeps running (embedded default only)."""
    if settings.EDMS_LOCAL_BROKER_SOCKET is None:
        return []
    return [f"{worker['name']}@" for worker in settings.EDMS_LOCAL_WORKERS]


def _expected_count() -> int | None:
    # With every expected worker's answer in, stop waiting; otherwise wait the whole timeout.
    return len(_expected()) or None


def _workers(answered: set[str]) -> list[WorkerState]:
    states = [WorkerState(name, True) for name in answered]
    silent = [p for p in _expected() if not any(name.startswith(p) for name in answered)]
    states += [WorkerState(prefix + "…", False) for prefix in silent]
    return sorted(states, key=lambda state: state.name)


def _redis_queues(connection, queues: list[str]) -> list[QueueState]:
    channel = connection.default_channel
    now = time.time()
    # The channel's client prefixes keys with the transport's global_keyprefix, if any.
    with channel.conn_or_acquire() as client, client.pipeline(transaction=False) as pipe:
        for name in queues:
            for key in _priority_keys(channel, name):
                pipe.llen(key)
                pipe.lindex(key, -1)  # the tail: LPUSH adds at the head, BRPOP takes the tail
        answers = pipe.execute()
    states = []
    steps = len(channel.priority_steps)
    for index, name in enumerate(queues):
        mine = answers[index * 2 * steps : (index + 1) * 2 * steps]
        waiting = sum(mine[0::2])
        stamps = [s for s in (_published_at(raw) for raw in mine[1::2]) if s is not None]
        oldest = max(now - min(stamps), 0.0) if stamps else None
        states.append(QueueState(name, waiting, oldest))
    return states


def _priority_keys(channel, queue: str) -> list[str]:
    """The lists of a queue: its name for priority 0, `<name><sep><step>` for the others."""
    return [f"{queue}{channel.sep}{step}" if step else queue for step in channel.priority_steps]


def _published_at(raw: bytes | None) -> float | None:
    if raw is None:
        return None
    try:
        stamp = json.loads(raw)["headers"][PUBLISHED_AT]
        return float(stamp)
    except (ValueError, KeyError, TypeError):
        return None  # published by an older edms, or by someone else


def _declared_queue(connection, name: str) -> QueueState:
    """AMQP: a passive declare answers the count of ready messages (not their age)."""
    channel = connection.channel()
    try:
        _, waiting, _ = channel.queue_declare(queue=name, passive=True)
        return QueueState(name, waiting, None)
    except connection.channel_errors:
        return QueueState(name, None, None)  # not declared yet: nobody consumed it so far
    finally:
        try:
            channel.close()
        except (*connection.connection_errors, *connection.channel_errors):
            pass
