from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What the people who run edms look at: the broker's queues and workers (more to come:
    metrics; the readiness checks behind `/readyz` are the wiring's, edms.readiness, since they
    reach every app's services)."""

    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from celery.signals import before_task_publish

        from operations.broker import stamp_published_at

        before_task_publish.connect(stamp_published_at, dispatch_uid="edms-published-at")
