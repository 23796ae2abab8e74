# Scanning became an app of its own (it was part of `ingest`): its models are moved, not made.
# Their tables stay `ingest_scanbatch` and `ingest_scanpart` (created by ingest 0003 to 0005), so
# this migration changes the migration state only and an existing database keeps its rows;
# `ingest.0009_scanning_moves_out` removes them from ingest's state.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("dossier", "0006_event_lane"),
        ("ingest", "0008_renditions_after_text"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ScanBatch',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('state', models.CharField(choices=[('queued', 'Queued'), ('splitting', 'Splitting'), ('qc', 'Waiting for quality control'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('progress', models.PositiveSmallIntegerField(default=0, help_text='Percent of pages read.')),
                        ('station', models.CharField(blank=True, max_length=100)),
                        ('operator_label', models.CharField(blank=True, max_length=200)),
                        ('origin', models.CharField(default='api', help_text='api or folder', max_length=20)),
                        ('source_filename', models.CharField(max_length=255)),
                        ('drop_blank_pages', models.BooleanField(default=True)),
                        ('pages_in', models.PositiveIntegerField(blank=True, null=True)),
                        ('pages_out', models.PositiveIntegerField(blank=True, null=True)),
                        ('cover_sheets', models.PositiveIntegerField(blank=True, null=True)),
                        ('blank_pages', models.PositiveIntegerField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('queued_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('task_id', models.CharField(blank=True, max_length=64)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('split_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('operator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('source', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dossier.blob')),
                    ],
                    options={
                        'db_table': 'ingest_scanbatch',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ScanPart',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('index', models.PositiveIntegerField(help_text='Order in the batch (re-splits append).')),
                        ('state', models.CharField(choices=[('unassigned', 'Unassigned'), ('qc', 'Waiting for quality control'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('merged', 'Merged into another part'), ('blank', 'Set aside as blank')], max_length=12)),
                        ('reason', models.TextField(blank=True, help_text='Why unassigned, rejected or merged.')),
                        ('dossier_key', models.CharField(blank=True, max_length=128)),
                        ('type_code', models.CharField(blank=True, max_length=20)),
                        ('official_date', models.DateField(blank=True, null=True)),
                        ('title', models.CharField(blank=True, max_length=500)),
                        ('source_pages', models.JSONField(default=list, help_text='1-based pages of the batch file.')),
                        ('page_count', models.PositiveIntegerField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('batch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parts', to='scanning.scanbatch')),
                        ('content', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dossier.blob')),
                        ('document', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='dossier.document')),
                    ],
                    options={
                        'db_table': 'ingest_scanpart',
                        'ordering': ['batch', 'index'],
                        'constraints': [models.UniqueConstraint(fields=('batch', 'index'), name='scan_part_index_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
