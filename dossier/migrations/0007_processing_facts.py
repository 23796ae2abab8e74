# What processing found in a version becomes a domain fact on it (`dossier.processing_facts`):
# the version gains the fields, and dossier takes over the renditions `ingest` made, with their
# table (`ingest_rendition`, which keeps its name and rows: a change of migration state only).
# `ingest.0010_processing_facts` fills the fields from ingest's processing rows.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dossier", "0006_event_lane"),
    ]

    operations = [
        migrations.AddField(
            model_name="version",
            name="detected_media_type",
            field=models.CharField(
                blank=True, help_text="Detected from content by processing.", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="version",
            name="page_count",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="version",
            name="languages",
            field=models.JSONField(blank=True, default=list, help_text="ISO 639-1 codes."),
        ),
        migrations.AddField(
            model_name="version",
            name="metadata",
            field=models.JSONField(
                blank=True, default=dict, help_text="title, author, created, pdfa, encrypted"
            ),
        ),
        migrations.AddField(
            model_name="version",
            name="text",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="dossier.blob",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Rendition",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("pdfa", "Searchable PDF/A (OCR)"),
                                    ("pdf", "PDF for viewing"),
                                    ("thumbnail", "First-page thumbnail"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("media_type", models.CharField(max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "blob",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="dossier.blob",
                            ),
                        ),
                        (
                            "version",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="renditions",
                                to="dossier.version",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ingest_rendition",
                        "ordering": ["version", "kind"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("version", "kind"), name="rendition_kind_unique"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
