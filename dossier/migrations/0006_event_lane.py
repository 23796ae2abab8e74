from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dossier', '0005_blob_corrupt'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='lane',
            field=models.CharField(choices=[('interactive', 'Interactive'), ('bulk', 'Bulk')], default='interactive', max_length=12),
        ),
    ]
