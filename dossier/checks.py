"""System checks for settings combinations that cannot work, with clear messages."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility)
def check_configuration(app_configs, **kwargs):
    problems = []
    db_engine = settings.DATABASES["default"]["ENGINE"]
    local_broker = settings.EDMS_LOCAL_BROKER_SOCKET is not None
    blobs = settings.STORAGES["blobs"]["BACKEND"]
    if local_broker and "sqlite3" not in db_engine:
        problems.append(
            Warning(
                "The private local Celery broker (a Redis on a Unix socket that `edms run` "
                "starts) is meant for the single-machine default.",
                hint="Set CELERY_BROKER_URL (redis://… or amqp://…) with a database server.",
                id="edms.W001",
            )
        )
    if "sqlite3" in db_engine and "s3" in blobs.lower():
        problems.append(
            Warning(
                "SQLite with S3 blob storage: the database cannot be shared by several machines.",
                hint="Use DATABASE_URL=postgres://… for a production setup.",
                id="edms.W002",
            )
        )
    # A broker on a Unix socket (the private one, or one named so) is not shared with others.
    if not settings.CELERY_BROKER_URL.startswith("redis+socket://") and "sqlite3" in db_engine:
        problems.append(
            Warning(
                "A shared Celery broker with a local SQLite database: workers on other machines "
                "would not see the database.",
                hint="Set DATABASE_URL to a PostgreSQL server, or unset CELERY_BROKER_URL.",
                id="edms.W003",
            )
        )
    if local_broker and shutil.which("redis-server") is None:
        problems.append(
            Warning(
                "redis-server is not installed: `edms run` cannot start the embedded default's "
                "Celery broker.",
                hint="apt-get install redis-server (infra/install-system-packages.sh does it), "
                "or set CELERY_BROKER_URL.",
                id="edms.W004",
            )
        )
    consumed = {q for worker in settings.EDMS_LOCAL_WORKERS for q in worker.get("queues", [])}
    routed = {settings.CELERY_TASK_DEFAULT_QUEUE, settings.EDMS_INTERACTIVE_QUEUE} | {
        route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route
    }
    if routed - consumed:
        problems.append(
            Warning(
                "No worker of EDMS_LOCAL_WORKERS consumes the queue(s) "
                + ", ".join(sorted(routed - consumed))
                + ": under `edms run` their tasks would wait for ever.",
                hint="Add the queue to a worker's `queues` in EDMS_LOCAL_WORKERS.",
                id="edms.W005",
            )
        )
    if settings.EDMS_MAX_UPLOAD_SIZE <= 0:
        problems.append(Error("EDMS_MAX_UPLOAD_SIZE must be positive.", id="edms.E002"))
    unknown_types = set(settings.EDMS_PUBLIC_FROM_FILING) - {
        "patent",
        "utility_model",
        "trademark",
        "design",
        "spc",
        "gi",
    }
    if unknown_types:
        problems.append(
            Error(
                "EDMS_PUBLIC_FROM_FILING names unknown IP types: "
                + ", ".join(sorted(unknown_types)),
                hint="Use patent, utility_model, trademark, design, spc or gi.",
                id="edms.E003",
            )
        )
    if "s3" in blobs.lower() and not settings.STORAGES["blobs"]["OPTIONS"].get("bucket_name"):
        problems.append(Error("S3 blob storage needs EDMS_S3_BUCKET.", id="edms.E004"))
    return problems
