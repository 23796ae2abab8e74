"""`edms run`: prepare the database, then start and keep running the web server, the Celery
workers of EDMS_LOCAL_WORKERS with the sandbox zygote they share, the sweeper and the scan inbox
watcher.

On the embedded default this is the whole installation: SQLite, blobs under ./var, and the
workers on a private Redis that `edms run` starts first (edms.localbroker). The same command
works with production settings (it then uses whatever DATABASE_URL, S3 and CELERY_BROKER_URL
say, and starts no broker). A process that dies is started again (edms.supervisor).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import tempfile
from pathlib import Path

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from edms import localbroker, supervisor
from ingest.sandbox.processes import child_environment
from ingest.sandbox.zygote import SHARED_ZYGOTE_ENV

SANDBOX_ZYGOTE = "sandbox zygote"


def sandbox_socket_path(data_dir: Path) -> Path:
    """Where the workers of `edms run` reach their shared sandbox zygote."""
    return data_dir / "run" / "sandbox.sock"


def _ensure_admin() -> str | None:
    """Create the `admin` superuser on first start; returns its new password, else None."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = os.environ.get("EDMS_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    users.objects.create_superuser("admin", "", password)
    return password


def _ensure_api_key() -> str:
    """The registry's first API key: created once, kept in a private file so it can be shown."""
    from api.models import ApiKey
    from dossier.roles import Role

    path = Path(settings.DATA_DIR) / "registry-api-key"
    if path.exists() and ApiKey.objects.filter(name="registry", revoked_at__isnull=True).exists():
        return path.read_text().strip()
    ApiKey.objects.filter(name="registry").delete()
    _, key = ApiKey.create("registry", Role.REGISTRY_SYSTEM)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def prepare() -> tuple[str | None, str]:
    django.setup()
    # The system checks (configuration, services, tools), which call_command() skips for the
    # commands below: an error stops the start with what to fix, warnings are printed.
    call_command("check")
    call_command("migrate", interactive=False, verbosity=0)
    collect_static()
    _sweep_leftovers()
    return _ensure_admin(), _ensure_api_key()


STATIC_STAMP = ".collected-from"


def collect_static() -> bool:
    """`collectstatic`, unless the static sources are those of the last collection: hashing and
    compressing ~65 MB (gzip and Brotli copies) takes half a minute, which every start paid.
    Whether the sources changed is judged by each file's path, size and modification time, and
    the storage that writes them; returns whether it collected."""
    stamp = Path(settings.STATIC_ROOT) / STATIC_STAMP
    sources = _static_sources_fingerprint()
    if stamp.is_file() and stamp.read_text() == sources:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(sources)  # after the collection: an interrupted one is done again
    return True


def _static_sources_fingerprint() -> str:
    from django.apps import apps
    from django.contrib.staticfiles.finders import get_finders

    ignore = apps.get_app_config("staticfiles").ignore_patterns
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            info = os.stat(storage.path(path))
            entries.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n")
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def _sweep_leftovers() -> None:
    """Spool files of uploads killed with the last run (`edms sweep` goes on doing it)."""
    from dossier import blobstore

    if removed := blobstore.sweep_stale():
        print(f"removed {removed} spool/staging leftover(s) of killed processes")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="edms run", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    # One web process with threads: a small office's requests fit in it (most of a request's
    # time is I/O, which threads overlap), and each further process holds a copy of Django.
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")))
    parser.add_argument("--no-worker", action="store_true", help="Do not start the Celery workers.")
    options = parser.parse_args(argv)

    broker = None
    if settings.EDMS_LOCAL_BROKER_SOCKET is not None:
        broker = localbroker.LocalBroker(
            settings.EDMS_LOCAL_BROKER_SOCKET, Path(settings.DATA_DIR) / "broker"
        )
        try:
            broker.check()  # before the migrations: a missing redis-server is said at once
        except localbroker.BrokerError as exc:
            print(f"edms run: {exc}", file=sys.stderr)
            return 1
    try:
        admin_password, api_key = prepare()
    except SystemCheckError as exc:
        print(f"edms run: {exc}", file=sys.stderr)
        return 1
    bin_dir = Path(sys.executable).parent
    web = [
        str(bin_dir / "gunicorn"),
        "edms.wsgi:application",
        # Limits, and problem+json for the requests gunicorn refuses itself.
        "--config",
        "python:edms.gunicorn_conf",
        "--bind",
        f"{options.host}:{options.port}",
        "--workers",
        str(options.web_workers),
        "--threads",
        str(options.web_threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "120",
        "--access-logfile",
        "-",
    ]
    web_env = _web_environment()
    children = [("web server", web, web_env, None)]
    if not options.no_worker:
        # One sandbox zygote for all the workers (see ingest.sandbox), with the minimal
        # environment of a sandbox child, instead of one per worker process.
        zygote_socket = sandbox_socket_path(Path(settings.DATA_DIR))
        zygote_socket.parent.mkdir(parents=True, exist_ok=True)
        zygote = [sys.executable, "-m", "ingest.sandbox", "--zygote", "--listen"]
        zygote_env = child_environment(tempfile.gettempdir())
        children.append((SANDBOX_ZYGOTE, [*zygote, str(zygote_socket)], zygote_env, None))
        worker_env = {SHARED_ZYGOTE_ENV: str(zygote_socket), **_threaded_environment()}
        # The web server renders the viewer's page images (`ingest.page_images`) through it too.
        web_env[SHARED_ZYGOTE_ENV] = str(zygote_socket)
        children += [
            (f"worker {name}", command, worker_env, None)
            for name, command in worker_commands(bin_dir)
        ]
        # Work whose task was lost (see ingest.sweeper) is queued again now and then: one pass
        # every EDMS_SWEEP_INTERVAL, by a process that exits after it rather than one waiting
        # in memory between passes.
        sweeper = [str(bin_dir / "edms"), "sweep"]
        children.append(("sweeper", sweeper, {}, float(settings.EDMS_SWEEP_INTERVAL)))
        if settings.EDMS_FIXITY_INTERVAL:
            # The fixity scrub likewise: a share of the blobs each pass, all within
            # EDMS_FIXITY_CYCLE_DAYS (see dossier.fixity_pass); damage goes to the event feed.
            # At a lower priority (nice), so reading the store does not slow what people do.
            scrub = ["nice", "-n", "10", str(bin_dir / "edms"), "fixity", "--scheduled"]
            children.append(("fixity scrub", scrub, {}, float(settings.EDMS_FIXITY_INTERVAL)))
        if settings.EDMS_SCAN_INBOX:
            inbox = [str(bin_dir / "edms"), "scan_inbox"]
            children.append(("scan inbox watcher", inbox, {}, None))

    url = f"http://{options.host}:{options.port}"
    print(f"\nedms is serving at {url}  (API docs: {url}/api/v1/docs, admin: {url}/admin/)")
    print(f"data directory: {settings.DATA_DIR}")
    print(_renditions_status())
    if admin_password:
        print(f"admin user created: admin / {admin_password}  (change it in the admin)")
    print("registry API key (Authorization: Bearer <key>):")
    print(api_key, flush=True)
    empty_metrics_dir()
    # The rest is supervision, which needs no Django: this process becomes the supervisor
    # (same pid, so a service manager's signals still reach it) and leaves Django's memory.
    plan = supervisor.plan(children, broker, only_env=(SANDBOX_ZYGOTE,))
    os.execv(sys.executable, [sys.executable, "-m", "edms.supervisor", plan])


def empty_metrics_dir() -> None:
    """A fresh start for the processes' metric files (metrics.instruments): those of an earlier
    run's processes would otherwise be added to this run's for ever. Every process of edms
    inherits PROMETHEUS_MULTIPROC_DIR from here (the settings put it in the environment)."""
    directory = Path(settings.EDMS_METRICS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


def worker_commands(bin_dir: Path) -> list[tuple[str, list[str]]]:
    """`celery worker` command lines of EDMS_LOCAL_WORKERS, by worker name."""
    commands = []
    for entry in settings.EDMS_LOCAL_WORKERS:
        try:
            name, queues, concurrency = entry["name"], entry["queues"], int(entry["concurrency"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"EDMS_LOCAL_WORKERS: {entry!r} needs a name, a list of queues and a concurrency"
            ) from exc
        if not queues or isinstance(queues, str) or concurrency < 1:
            raise ImproperlyConfigured(
                f"EDMS_LOCAL_WORKERS: {name!r} needs a list of queues and a concurrency ≥ 1"
            )
        command = [
            str(bin_dir / "celery"),
            "-A",
            "edms",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            # One process whatever the concurrency: a worker of one slot runs its tasks itself,
            # one of several runs a thread per slot. A prefork pool would add a parent and a
            # process per slot, each holding a copy of Django (~90 MiB) and a sandbox zygote.
            # Parsing, OCR and renditions run in sandbox children (one zygote serves all the
            # threads' jobs at once); what stays in the worker is mostly waiting on them and
            # on the database, which threads overlap.
            "--pool",
            "solo" if concurrency == 1 else "threads",
            # A stable name across restarts: the operations page lists workers by it.
            "--hostname",
            f"{name}@%h",
            "-Q",
            ",".join(queues),
        ]
        commands.append((name, command))
    return commands


def _web_environment() -> dict[str, str]:
    """What the web server's environment adds to `edms run`'s."""
    # glibc hands each 1 MiB upload buffer back to the OS and maps a fresh one for the next
    # chunk; raising its thresholds keeps buffers reused (measured: half the server CPU time of
    # a large upload was page faults). Values already in the environment win.
    defaults = {
        "MALLOC_MMAP_THRESHOLD_": str(4 * 1024 * 1024),
        "MALLOC_TRIM_THRESHOLD_": str(16 * 1024 * 1024),
    }
    return {
        **_threaded_environment(),
        **{name: value for name, value in defaults.items() if name not in os.environ},
    }


def _threaded_environment() -> dict[str, str]:
    """What the environment of a process with threads (the web server, the workers) adds."""
    # glibc gives each thread that allocates while another does an arena of its own (up to 8
    # per core), each keeping freed pages of its own: the web server has 8 threads, the main
    # worker one per slot. Two arenas are enough for threads that mostly wait on I/O and hold
    # the GIL when they allocate. A value already in the environment wins.
    if "MALLOC_ARENA_MAX" in os.environ:
        return {}
    return {"MALLOC_ARENA_MAX": "2"}


def _renditions_status() -> str:
    """Say at start-up which renditions this machine cannot make (and what to install)."""
    from ingest import capabilities

    disabled = capabilities.disabled_summary()
    if not disabled:
        return "renditions: searchable PDF/A (OCR), office PDF and thumbnails are enabled"
    return f"WARNING {disabled}; infra/install-system-packages.sh installs them (as root)"
