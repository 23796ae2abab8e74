from django.core.management.base import BaseCommand, CommandError

from api.models import ApiKey, NotAServiceUser
from dossier.roles import Role


class Command(BaseCommand):
    help = (
        "Create a named API key for an integrated system, acting as a service user of the same "
        "name (never a person's account); prints the key alone on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The integrated system, e.g. ipas.")
        parser.add_argument(
            "--role",
            default=Role.REGISTRY_SYSTEM.value,
            choices=[r.value for r in Role if r != Role.PUBLIC],
        )

    def handle(self, *args, name, role, **options):
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"an API key named {name!r} exists; revoke it in the admin first")
        try:
            api_key, key = ApiKey.create(name, Role(role))
        except NotAServiceUser as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Created API key {api_key.name!r} (role {api_key.role}). "
            "It is shown once, on the next line; store it now."
        )
        self.stdout.write(key)
