"""Webhooks moved to the `webhooks` app, which took over their tables (`webhooks.0001`): they
leave `api`'s state only; the tables and their rows stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_webhook_delivery_errors_without_answers"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="Webhook"),
            ],
            database_operations=[],
        ),
    ]
