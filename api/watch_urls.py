"""Routes of saved searches, watched dossiers and notifications (included by `api.urls`)."""

from django.urls import path

from api.views import watch

watch_urlpatterns = [
    path("saved-searches", watch.SavedSearchListView.as_view(), name="saved-search-list"),
    path(
        "saved-searches/<int:search_id>",
        watch.SavedSearchDetailView.as_view(),
        name="saved-search-detail",
    ),
    path("watches", watch.WatchListView.as_view(), name="watch-list"),
    path("watches/<int:watch_id>", watch.WatchDetailView.as_view(), name="watch-detail"),
    path("notifications", watch.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read", watch.NotificationReadView.as_view(), name="notification-read"),
    path(
        "notifications/<int:notification_id>",
        watch.NotificationDetailView.as_view(),
        name="notification-detail",
    ),
]
