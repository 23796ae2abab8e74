# A paper original received for a document: the date it came in, where it is kept, a note
# (`dossier.actions.paper.record_paper_original`). Documents before this have none recorded.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossier', '0010_case_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='document',
            name='paper_location',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='document',
            name='paper_note',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='document',
            name='paper_received_on',
            field=models.DateField(blank=True, null=True),
        ),
    ]
