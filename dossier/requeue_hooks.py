"""What `edms sweep` queues again besides ingestion's own work: the requeue hooks of apps.

An app whose tasks can be lost (a broker restarted without its messages, a worker killed after
it acknowledged) registers a hook from its `AppConfig.ready`: a function that sends again the
tasks of whatever waits in vain and returns how many it sent. The sweeper (`ingest.sweeper`)
runs every hook and reports each count under its name, so it names no app above it. Hooks run,
and are reported, in the order they were registered: the order of `INSTALLED_APPS`.
"""

from __future__ import annotations

from collections.abc import Callable

RequeueHook = Callable[[], int]

_hooks: dict[str, RequeueHook] = {}


def register_requeue_hook(name: str, hook: RequeueHook) -> None:
    """Have `edms sweep` run `hook`, reporting its count as `<count> <name>` (`webhook
    deliveries`). Registering the same hook again is harmless; another under a taken name is
    an error."""
    registered = _hooks.setdefault(name, hook)
    if registered is not hook:
        raise ValueError(f"a requeue hook named {name!r} is registered already: {registered!r}")


def requeue_hooks() -> dict[str, RequeueHook]:
    """The registered hooks by name, in the order they were registered."""
    return dict(_hooks)


# Cleanup hooks: what `edms sweep` removes for other apps (expired resumable uploads), reported
# as `<count> <name> removed`; the same rules as requeue hooks.
_cleanup_hooks: dict[str, RequeueHook] = {}


def register_cleanup_hook(name: str, hook: RequeueHook) -> None:
    """Have `edms sweep` run `hook`, which removes what expired and returns how many."""
    registered = _cleanup_hooks.setdefault(name, hook)
    if registered is not hook:
        raise ValueError(f"a cleanup hook named {name!r} is registered already: {registered!r}")


def cleanup_hooks() -> dict[str, RequeueHook]:
    """The registered cleanup hooks by name, in the order they were registered."""
    return dict(_cleanup_hooks)
