from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from ingest import checks  # noqa: F401  (registers the system checks)
        from ingest.pipeline import requeue_stalled_renditions

        # Imported here, as the models it uses can be imported only once apps are loaded.
        register_requeue_hook("version renditions", requeue_stalled_renditions)
