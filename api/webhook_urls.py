"""Routes of the webhook endpoints (included by `api.urls`)."""

from django.urls import path

from api import webhook_views as views

webhook_urlpatterns = [
    path("webhooks", views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/secret",
        views.WebhookSecretView.as_view(),
        name="webhook-secret",
    ),
    path("webhooks/<int:webhook_id>/ping", views.WebhookPingView.as_view(), name="webhook-ping"),
    path(
        "webhooks/<int:webhook_id>/deliveries",
        views.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
        views.WebhookRedeliverView.as_view(),
        name="webhook-redeliver",
    ),
]
