from django.core.management.base import BaseCommand, CommandError

from telemetry.uploader import UploadRefused, telemetry_upload


class Command(BaseCommand):
    help = (
        "Send this installation's anonymized telemetry of the last interval (default 24 h) to "
        "the central backend. Opt-in: off unless TELEMETRY_UPLOAD_ENABLED=true; DO_NOT_TRACK=1 "
        "always wins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the exact JSON that would be sent (alone on standard output); send none.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Send even if the last batch was sent less than an interval ago.",
        )

    def handle(self, *args, dry_run: bool, force: bool, **options):
        try:
            outcome = telemetry_upload(dry_run=dry_run, force=force, say=self.stderr.write)
        except UploadRefused as refusal:
            raise CommandError(str(refusal)) from None
        if dry_run and outcome.batch_json is not None:
            # The JSON alone on standard output, so that it can be piped; the note aside.
            self.stdout.write(outcome.batch_json)
            self.stderr.write(outcome.message)
        else:
            self.stdout.write(outcome.message)
