"""Delivery errors recorded before 0003 quoted the start of the receiver's answer (`HTTP 404:
<body>`, a redirect's `Location`, a non-HTTP service's banner): keep only what edms knows."""

from django.db import migrations

_OWN_WORDS = ("cannot connect", "timed out", "TLS failed", "refused:", "the webhook")


def forget_answers(apps, schema_editor):
    WebhookDelivery = apps.get_model("api", "WebhookDelivery")
    for delivery in WebhookDelivery.objects.exclude(last_error="").iterator():
        error = delivery.last_error
        if delivery.last_status_code is not None:
            status = delivery.last_status_code
            cleaned = f"HTTP {status}"
            if 300 <= status < 400:
                cleaned += ": redirects are not followed"
        elif error.startswith(_OWN_WORDS):
            continue
        else:
            cleaned = (
                error.split(":", 1)[0][:100] + ": the answer is not HTTP, or the connection broke"
            )
        if cleaned != error:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=cleaned)


class Migration(migrations.Migration):
    dependencies = [("api", "0002_webhooks")]

    operations = [migrations.RunPython(forget_answers, migrations.RunPython.noop)]
