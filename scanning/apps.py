from django.apps import AppConfig


class ScanningConfig(AppConfig):
    name = "scanning"
    verbose_name = "Digitization"

    def ready(self) -> None:
        # Here, once models are loaded. `ingest` is below this app and never imports it: the
        # sweeper learns of lost scan batches from this registration, and the split task, which
        # `splitting.queue_split` sends by name, is registered in every process (not only in a
        # worker, whose Celery app discovers it).
        from ingest import sweeper
        from scanning import requeue, tasks  # noqa: F401

        sweeper.register_batch_sweeper(requeue.sweep_batches)
