from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from webhooks.deliveries import requeue_due_deliveries

        # Imported here, as the models it uses can be imported only once apps are loaded.
        register_requeue_hook("webhook deliveries", requeue_due_deliveries)
