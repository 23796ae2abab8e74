from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "watch"
    verbose_name = "Saved searches and watched dossiers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from watch.notify import requeue_unsent_mail

        # Imported here, as the models it uses can be imported only once apps are loaded.
        register_requeue_hook("notification e-mails", requeue_unsent_mail)
