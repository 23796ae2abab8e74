"""Renditions are made after the text (`Processing.renditions_state`), no longer as a stage
before "done": versions waiting for the old render stage are extracted again."""

from django.db import migrations, models


def reextract_waiting_renders(apps, schema_editor):
    Processing = apps.get_model("ingest", "Processing")
    Processing.objects.filter(stage="render", state__in=["pending", "running"]).update(
        stage="extract", state="pending", started_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0007_processing_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="processing",
            name="renditions_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Pending"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                ],
                default="",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="processing",
            name="renditions_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(reextract_waiting_renders, migrations.RunPython.noop),
    ]
