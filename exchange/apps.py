from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange with other offices (DAS, CASE, USPTO-shaped reads)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from exchange.das.tasks import requeue_das_requests

        # Imported here, as the models it uses can be imported only once apps are loaded.
        register_requeue_hook("DAS requests", requeue_das_requests)
