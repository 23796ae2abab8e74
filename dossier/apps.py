from django.apps import AppConfig


class DossierConfig(AppConfig):
    name = "dossier"
    verbose_name = "Dossiers"

    def ready(self) -> None:
        from dossier import checks  # noqa: F401  (registers the system checks)
        from dossier.audit_signing import sweep_checkpoint
        from dossier.requeue_hooks import register_periodic_hook

        # `edms sweep` (every EDMS_SWEEP_INTERVAL under `edms run`, a timer in production)
        # signs the audit chain's head when a checkpoint is due.
        register_periodic_hook("audit checkpoints signed", sweep_checkpoint)
