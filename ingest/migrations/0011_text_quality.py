# The text-quality gate's verdict on a run's text (`ingest.quality`), recorded on the version
# when the run finishes (`dossier.0008_text_quality`).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0010_processing_facts'),
    ]

    operations = [
        migrations.AddField(
            model_name='processing',
            name='quality',
            field=models.CharField(blank=True, choices=[('ok', 'Text checked'), ('warning', 'Text quality warning')], max_length=10),
        ),
        migrations.AddField(
            model_name='processing',
            name='quality_reason',
            field=models.TextField(blank=True),
        ),
    ]
