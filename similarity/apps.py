from django.apps import AppConfig


class SimilarityConfig(AppConfig):
    name = "similarity"
    verbose_name = "Similar documents, near-duplicates and similar marks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from similarity.duplicate_tasks import queue_missing
        from similarity.requeue import queue_lost_embeddings

        # Imported here, as the models they use can be imported only once apps are loaded.
        register_requeue_hook("embeddings", queue_lost_embeddings)
        register_requeue_hook("duplicate checks", queue_missing)
