# What processing found is recorded on the version as domain facts (`dossier.processing_facts`):
# renditions move to dossier's migration state (their table keeps its name and rows), and the
# facts of versions processed before are filled from the processing rows — as the pipeline
# records them when a run finishes: the text only of a run that finished done. Rows of a run
# still going are copied too, so the API shows what it showed before the upgrade. The
# renditions' content type moves along, so permissions given on them stay given.

from django.db import migrations

BATCH = 1000
FIELDS = ["detected_media_type", "page_count", "languages", "metadata", "text"]


def fill_version_facts(apps, schema_editor):
    Processing = apps.get_model("ingest", "Processing")
    Version = apps.get_model("dossier", "Version")
    rows = Processing.objects.values_list(
        "version_id", "state", "media_type", "page_count", "languages", "metadata", "text_id"
    ).order_by("pk")
    batch = []
    for version_id, state, media_type, page_count, languages, metadata, text_id in rows.iterator(
        chunk_size=BATCH
    ):
        version = Version(pk=version_id)
        version.detected_media_type = media_type
        version.page_count = page_count
        version.languages = languages or []
        version.metadata = metadata or {}
        version.text_id = text_id if state == "done" else None
        batch.append(version)
        if len(batch) >= BATCH:
            Version.objects.bulk_update(batch, FIELDS)
            batch = []
    if batch:
        Version.objects.bulk_update(batch, FIELDS)


def move_rendition_content_type(apps, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new_label, model="rendition").exists():
        ContentType.objects.filter(app_label=old_label, model="rendition").update(
            app_label=new_label
        )


def forwards(apps, schema_editor):
    move_rendition_content_type(apps, "ingest", "dossier")
    fill_version_facts(apps, schema_editor)


def backwards(apps, schema_editor):
    # The facts go with their fields when `dossier.0007_processing_facts` is unapplied.
    move_rendition_content_type(apps, "dossier", "ingest")


class Migration(migrations.Migration):

    dependencies = [
        ("ingest", "0009_scanning_moves_out"),
        ("dossier", "0007_processing_facts"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Rendition")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
