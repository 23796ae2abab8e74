from django.apps import AppConfig


class DossierConfig(AppConfig):
    name = "dossier"
    verbose_name = "Dossiers"

    def ready(self) -> None:
        from dossier import checks  # noqa: F401  (registers the system checks)
