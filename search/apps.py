from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from dossier.requeue_hooks import register_requeue_hook
        from search import checks  # noqa: F401  (registers the system checks)
        from search.tasks import queue_late_announcements, queue_rebuild_of_outdated_index

        register_requeue_hook("search index rebuilds", queue_rebuild_of_outdated_index)
        register_requeue_hook("indexed-event announcements", queue_late_announcements)
