from django.apps import AppConfig


class SimilarityConfig(AppConfig):
    name = "similarity"
    verbose_name = "Similar documents, near-duplicates and similar marks"
    default_auto_field = "django.db.models.BigAutoField"
