from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange with other offices (DAS, CASE, USPTO-shaped reads)"
    default_auto_field = "django.db.models.BigAutoField"
