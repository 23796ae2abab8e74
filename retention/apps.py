from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention and disposition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossier.object_lock import register_permanence_rule
        from dossier.requeue_hooks import register_requeue_hook
        from retention.rules import is_permanent
        from retention.scan import scan_when_due

        # Imported here, as the models it uses can be imported only once apps are loaded. The
        # sweeper runs every few minutes; the scan itself runs once a day (see `scan_when_due`).
        register_requeue_hook("documents due for disposition", scan_when_due)
        # Which documents' content S3 Object Lock keeps for good (`dossier.object_lock`).
        register_permanence_rule(is_permanent)
