"""`edms crosswalk_unmapped`: the active document types with no code for a scheme of the
crosswalk. For CASE that is also the list of types whose documents are not shared."""

from django.core.management.base import BaseCommand

from exchange.crosswalk import Scheme, unmapped_types


class Command(BaseCommand):
    help = "List the document types the crosswalk leaves unmapped (CASE, USPTO, EPO)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scheme",
            choices=[scheme.value for scheme in Scheme],
            action="append",
            help="Only this scheme (repeatable); default: all.",
        )

    def handle(self, *args, scheme=None, **options):
        for name in scheme or [each.value for each in Scheme]:
            types = unmapped_types(name)
            self.stdout.write(f"{name}: {len(types)} unmapped")
            for doc_type in types:
                self.stdout.write(f"  {doc_type.code}\t{doc_type.label()}")
