from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook

        # Here, once models are loaded: registers the system checks, and the Celery tasks that
        # `pipeline.queue` sends by name (so a web process knows them too).
        from ingest import checks, tasks  # noqa: F401
        from ingest.pipeline import requeue_stalled_renditions

        register_requeue_hook("version renditions", requeue_stalled_renditions)
