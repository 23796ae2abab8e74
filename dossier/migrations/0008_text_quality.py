# The text-quality gate's verdict becomes a fact on the version (`dossier.processing_facts`):
# "ok", or a "warning" with its reason. Versions processed before have none (""): reprocess
# them to have their text checked.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossier', '0007_processing_facts'),
    ]

    operations = [
        migrations.AddField(
            model_name='version',
            name='quality',
            field=models.CharField(blank=True, choices=[('ok', 'Text checked'), ('warning', 'Text quality warning')], max_length=10),
        ),
        migrations.AddField(
            model_name='version',
            name='quality_reason',
            field=models.TextField(blank=True),
        ),
    ]
