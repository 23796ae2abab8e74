from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Registry API"

    def ready(self):
        from api import resumable, upload_sessions
        from dossier.requeue_hooks import register_cleanup_hook

        # `edms sweep` deletes resumable uploads past their expiry, with their spools, and
        # aborts expired upload sessions (S3 drops their parts).
        register_cleanup_hook("expired uploads", resumable.delete_expired)
        register_cleanup_hook("expired upload sessions", upload_sessions.delete_expired)
