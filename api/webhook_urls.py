"""Routes of the webhook endpoints (included by `api.urls`)."""

from django.urls import path

from api.views import webhooks

webhook_urlpatterns = [
    path("webhooks", webhooks.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>", webhooks.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/secret",
        webhooks.WebhookSecretView.as_view(),
        name="webhook-secret",
    ),
    path("webhooks/<int:webhook_id>/ping", webhooks.WebhookPingView.as_view(), name="webhook-ping"),
    path(
        "webhooks/<int:webhook_id>/deliveries",
        webhooks.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
        webhooks.WebhookRedeliverView.as_view(),
        name="webhook-redeliver",
    ),
]
