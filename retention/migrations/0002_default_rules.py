"""Seeds the starting retention rules (`retention.rule_seed`); the admin is where they change."""

from django.db import migrations

from retention.rule_seed import RULES


def seed(apps, schema_editor):
    rule_model = apps.get_model("retention", "RetentionRule")
    types = set(apps.get_model("dossier", "DocumentType").objects.values_list("code", flat=True))
    for rule in RULES:
        if rule.doc_type is not None and rule.doc_type not in types:
            continue  # an installation without that type: nothing to keep by it
        rule_model.objects.get_or_create(
            ip_type=rule.ip_type,
            doc_type_id=rule.doc_type,
            defaults={
                "permanent": rule.permanent,
                "years": rule.years,
                "triggers": list(rule.triggers),
                "note": rule.note,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
        ("dossier", "0014_legal_hold"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
