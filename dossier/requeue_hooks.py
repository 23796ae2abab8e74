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


class _Hooks:
    """Hooks by name, in the order they were registered. Registering the same hook again is
    harmless; another under a taken name is an error."""

    def __init__(self, kind: str):
        self.kind = kind
        self._by_name: dict[str, RequeueHook] = {}

    def register(self, name: str, hook: RequeueHook) -> None:
        registered = self._by_name.setdefault(name, hook)
        if registered is not hook:
            raise ValueError(f"a {self.kind} named {name!r} is registered already: {registered!r}")

    def all(self) -> dict[str, RequeueHook]:
        return dict(self._by_name)


_requeue = _Hooks("requeue hook")
# Cleanup hooks: what `edms sweep` removes for other apps (expired resumable uploads), reported
# as `<count> <name> removed`; the same rules as requeue hooks.
_cleanup = _Hooks("cleanup hook")
# Periodic hooks: work due now and then that is neither lost nor expired (signing the audit
# chain's checkpoint), reported as `<count> <name>`; the same rules again.
_periodic = _Hooks("periodic hook")


def register_requeue_hook(name: str, hook: RequeueHook) -> None:
    """Have `edms sweep` run `hook`, reporting its count as `<count> <name>` (`webhook
    deliveries`)."""
    _requeue.register(name, hook)


def requeue_hooks() -> dict[str, RequeueHook]:
    """The registered hooks by name, in the order they were registered."""
    return _requeue.all()


def register_cleanup_hook(name: str, hook: RequeueHook) -> None:
    """Have `edms sweep` run `hook`, which removes what expired and returns how many."""
    _cleanup.register(name, hook)


def cleanup_hooks() -> dict[str, RequeueHook]:
    """The registered cleanup hooks by name, in the order they were registered."""
    return _cleanup.all()


def register_periodic_hook(name: str, hook: RequeueHook) -> None:
    """Have `edms sweep` run `hook`, which does what is due and returns how much it did."""
    _periodic.register(name, hook)


def periodic_hooks() -> dict[str, RequeueHook]:
    """The registered periodic hooks by name, in the order they were registered."""
    return _periodic.all()
