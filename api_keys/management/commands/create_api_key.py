from django.core.management.base import BaseCommand, CommandError

from api_keys.services import api_key_create, api_key_rotate


class Command(BaseCommand):
    help = (
        "Create an API key. The key is printed once, alone on the last line of output; "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who or what will use the key, e.g. 'marcus-prod'.")
        parser.add_argument(
            "--admin",
            action="store_true",
            help="The key may also delete installation data from the telemetry backend.",
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Revoke the active keys of the same name first (used by scripts/run).",
        )

    def handle(self, *args, name: str, admin: bool, rotate: bool, **options):
        if not name.strip():
            raise CommandError("The key needs a non-empty name.")
        if len(name) > 100:
            raise CommandError("The name is longer than 100 characters.")
        create = api_key_rotate if rotate else api_key_create
        issued = create(name=name, is_admin=admin)
        kind = "admin API key" if admin else "API key"
        self.stdout.write(
            f"Created {kind} {issued.api_key.name!r} (prefix {issued.api_key.prefix}). "
            "Store it now: it is not shown again."
        )
        self.stdout.write(issued.raw_key)
