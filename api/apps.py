from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Registry API"

    def ready(self):
        from dossier.requeue_hooks import register_cleanup_hook

        # `edms sweep` deletes resumable uploads past their expiry, with their spools, and
        # aborts expired upload sessions (S3 drops their parts).
        register_cleanup_hook("expired uploads", delete_expired_uploads)
        register_cleanup_hook("expired upload sessions", delete_expired_upload_sessions)


# The hooks import the API's modules when they run, not when the app is ready: every process
# that sets Django up gets here (the workers, `edms sweep`), and those modules bring Django REST
# framework with the PostgreSQL fields and psycopg it imports (~13 MiB in a worker that has no
# other use for them).


def delete_expired_uploads() -> int:
    from api import resumable

    return resumable.delete_expired()


def delete_expired_upload_sessions() -> int:
    from api import upload_sessions

    return upload_sessions.delete_expired()
