from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Registry API"

    def ready(self):
        from api.resumable import delete_expired
        from dossier.requeue_hooks import register_cleanup_hook

        # `edms sweep` deletes resumable uploads past their expiry, with their spools.
        register_cleanup_hook("expired uploads", delete_expired)
