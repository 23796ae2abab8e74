from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0005_scan_part_blank'),
    ]

    operations = [
        migrations.AddField(
            model_name='processing',
            name='lane',
            field=models.CharField(choices=[('interactive', 'Interactive'), ('bulk', 'Bulk')], default='interactive', max_length=12),
        ),
    ]
