"""Webhooks move from `api` to an app of their own, tables and rows untouched.

The models are created here in Django's state only, on the tables `api` made (`db_table`), and
`api.0004` drops them from `api`'s state: no table is created, renamed or copied. What names
them in rows follows them: their content types (so permissions given to groups, and the
admin's history, stay theirs), and the event subscriber's cursor, named by the subscriber's
dotted path (so webhooks hear of no event twice, and miss none).
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import webhooks.models

OLD_SUBSCRIBER = "api.webhooks.queue_deliveries"
NEW_SUBSCRIBER = "webhooks.deliveries.queue_deliveries"
MODELS = ("webhook", "webhookdelivery")


def _move_content_types(apps, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=new_label, model=model).exists():
            ContentType.objects.filter(app_label=old_label, model=model).update(
                app_label=new_label
            )


def _rename_cursor(apps, old_name: str, new_name: str) -> None:
    SubscriberCursor = apps.get_model("dossier", "SubscriberCursor")
    old = SubscriberCursor.objects.filter(name=old_name).first()
    if old is None:
        return
    new, created = SubscriberCursor.objects.get_or_create(
        name=new_name, defaults={"last_event_id": old.last_event_id}
    )
    if not created and new.last_event_id < old.last_event_id:
        # A dispatch under the new name ran before this migration (from 0): it resumes where
        # the old cursor stood; deliveries are unique per (webhook, event), so nothing repeats.
        new.last_event_id = old.last_event_id
        new.save(update_fields=["last_event_id"])
    old.delete()


def forwards(apps, schema_editor):
    _move_content_types(apps, "api", "webhooks")
    _rename_cursor(apps, OLD_SUBSCRIBER, NEW_SUBSCRIBER)


def backwards(apps, schema_editor):
    _move_content_types(apps, "webhooks", "api")
    _rename_cursor(apps, NEW_SUBSCRIBER, OLD_SUBSCRIBER)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("api", "0003_webhook_delivery_errors_without_answers"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("dossier", "0004_alter_document_state"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Webhook',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.CharField(help_text='http(s) URL the events are POSTed to.', max_length=2000)),
                        ('secret', models.CharField(default=webhooks.models.new_secret, editable=False, max_length=100)),
                        ('kinds', models.JSONField(blank=True, default=list, help_text='Event kinds; empty: all.')),
                        ('dossier_prefix', models.CharField(blank=True, help_text='Only dossiers whose file number starts so (BG/P/).', max_length=64)),
                        ('description', models.CharField(blank=True, max_length=200)),
                        ('active', models.BooleanField(default=True)),
                        ('after_event_id', models.BigIntegerField(default=0, editable=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('api_key', models.ForeignKey(blank=True, help_text="The key it was created with: it acts with that key's role, and stops when the key is revoked. Empty: it acts with its owner's role.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to='api.apikey')),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'api_webhook',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(help_text="The event's kind, or `ping`.", max_length=40)),
                        ('state', models.CharField(choices=[('pending', 'Waiting for its next attempt'), ('sending', 'An attempt is under way'), ('delivered', 'Delivered'), ('failed', 'Failed (the receiver refused it, or it may not be sent)'), ('gave_up', 'Gave up after the last attempt')], default='pending', max_length=16)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='dossier.event')),
                        ('webhook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhook')),
                    ],
                    options={
                        'db_table': 'api_webhookdelivery',
                        'verbose_name_plural': 'webhook deliveries',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['state', 'next_attempt_at'], name='api_webhook_state_d9c596_idx'), models.Index(fields=['webhook', 'state'], name='api_webhook_webhook_22f979_idx')],
                        'constraints': [models.UniqueConstraint(fields=('webhook', 'event'), name='webhook_delivery_once')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
