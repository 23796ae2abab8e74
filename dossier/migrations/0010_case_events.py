# Legal-status case events of a dossier (`dossier.case_events`): publication, grant, withdrawal...
# `published_at` becomes derived from them, so each dossier published before gets the publication
# event its date stands for: a withdrawal recorded later must not close a published file for
# lack of one. Nothing else is invented; the registry records the rest.

import django.db.models.deletion
import uuid

from django.db import migrations, models

# The note `dossier.actions.case_events` gives such an event (kept here as a literal: migrations
# must not change when the code does).
NOTE = "Recorded from the dossier's published_at."


def publication_events_for_published_dossiers(apps, schema_editor):
    Dossier = apps.get_model("dossier", "Dossier")
    CaseEvent = apps.get_model("dossier", "CaseEvent")
    published = Dossier.objects.exclude(published_at=None).values_list("pk", "published_at")
    for start in range(0, published.count(), 1000):
        CaseEvent.objects.bulk_create(
            CaseEvent(
                dossier_id=pk,
                kind="publication",
                date=date,
                note=NOTE,
                recorded_by="migration",
            )
            for pk, date in published.order_by("pk")[start : start + 1000]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('dossier', '0009_expunge'),
    ]

    operations = [
        migrations.AlterField(
            model_name='event',
            name='kind',
            field=models.CharField(choices=[('dossier.created', 'Dossier Created'), ('dossier.updated', 'Dossier Updated'), ('document.registered', 'Document Registered'), ('document.version_added', 'Version Added'), ('document.updated', 'Document Updated'), ('document.cancelled', 'Document Cancelled'), ('document.processed', 'Document Processed'), ('blob.corrupted', 'Blob Corrupted'), ('blob.repaired', 'Blob Repaired'), ('document.expunged', 'Document Expunged'), ('dossier.case_event', 'Case Event')], max_length=40),
        ),
        migrations.CreateModel(
            name='CaseEvent',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('filing', 'Filing'), ('priority_claimed', 'Priority claimed'), ('examination_requested', 'Examination requested'), ('search_report', 'Search report drawn up'), ('publication', 'Publication'), ('opposition_filed', 'Opposition filed'), ('opposition_decided', 'Opposition decided'), ('grant', 'Grant or registration'), ('refusal', 'Refusal'), ('withdrawal', 'Withdrawal'), ('appeal_filed', 'Appeal filed'), ('appeal_decided', 'Appeal decided'), ('lapse', 'Lapse'), ('restoration', 'Restoration (re-establishment of rights)'), ('renewal', 'Renewal'), ('recordal', 'Recordal (transfer, licence, change of name)'), ('revocation', 'Revocation or invalidation'), ('expiry', 'Expiry')], max_length=32)),
                ('date', models.DateField(help_text='The day the event took legal effect.')),
                ('wipo_code', models.CharField(blank=True, help_text='WIPO ST.27 / ST.61 / ST.87 category code.', max_length=8)),
                ('note', models.TextField(blank=True)),
                ('recorded_by', models.CharField(max_length=150)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('dossier', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='case_events', to='dossier.dossier')),
            ],
            options={
                'ordering': ['date', 'recorded_at'],
                'indexes': [models.Index(fields=['dossier', 'date'], name='dossier_cas_dossier_ca1736_idx')],
            },
        ),
        migrations.RunPython(
            publication_events_for_published_dossiers, migrations.RunPython.noop, elidable=True
        ),
    ]
