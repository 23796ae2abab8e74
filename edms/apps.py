from django.apps import AppConfig


class EdmsConfig(AppConfig):
    """The project's wiring as an app, for what belongs to no app: the readiness checks of
    `edms check --deploy` (edms.checks). It holds no models."""

    name = "edms"
    verbose_name = "edms"

    def ready(self) -> None:
        from edms import checks  # noqa: F401  (registers the system checks)
