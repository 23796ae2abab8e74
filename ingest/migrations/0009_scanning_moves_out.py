# Scan batches and parts moved to the `scanning` app (`scanning.0001_initial` takes them over
# with their tables, which keep their names and rows): removed from ingest's migration state
# only, never from the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("ingest", "0008_renditions_after_text"),
        ("scanning", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ScanPart"),
                migrations.DeleteModel(name="ScanBatch"),
            ],
            database_operations=[],
        ),
    ]
