"""Seed the starting table of document types and the role groups."""

from django.db import migrations

from dossier.doctype_seed import DOCUMENT_TYPES

ROLE_GROUPS = ("admin", "examiner", "records_clerk", "registry_system")


def seed(apps, schema_editor):
    DocumentType = apps.get_model("dossier", "DocumentType")
    for entry in DOCUMENT_TYPES:
        DocumentType.objects.get_or_create(
            code=entry.code,
            defaults={
                "direction": entry.direction,
                "default_visibility": entry.visibility,
                "to_be_published": entry.to_be_published,
                "notify_registry": entry.notify_registry,
                "paper_original_expected": entry.paper_original_expected,
                "labels": dict(entry.labels),
            },
        )
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("dossier", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
