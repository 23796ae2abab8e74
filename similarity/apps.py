from django.apps import AppConfig


class SimilarityConfig(AppConfig):
    name = "similarity"
    verbose_name = "Similar documents, near-duplicates and similar marks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from similarity.duplicate_tasks import queue_missing

        # Imported here, as the models it uses can be imported only once apps are loaded.
        register_requeue_hook("duplicate checks", queue_missing)
