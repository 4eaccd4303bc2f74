import sys
import time
from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from marcus_site.conf import marcus_setting
from operations.retention import now, target_names, targets

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Delete rows older than their retention window (MARCUS['RETENTION_DAYS']): "
        "milestones and live events 30 days, research events 90, telemetry batches 365. "
        "Deletes in short batches by primary-key ranges, with a progress bar."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be removed; remove nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=10_000, help="Rows per batch (100 to 1,000,000)."
        )
        parser.add_argument(
            "--only", choices=target_names(), help="Only this table (by its retention name)."
        )
        parser.add_argument(
            "--as-of",
            help="Apply the windows as of this moment (ISO 8601, not in the future); "
            "default: now. Makes a dry run and the run after it agree exactly.",
        )

    def handle(self, *args, dry_run: bool, batch_size: int, only: str | None, **options):
        if not 100 <= batch_size <= 1_000_000:
            raise CommandError("--batch-size must be between 100 and 1,000,000.")
        moment = self._moment(options.get("as_of"))
        days = marcus_setting("RETENTION_DAYS")
        chosen = [target for target in targets() if only in (None, target.name)]
        total = 0
        for target in chosen:
            cutoff = target.cutoff(moment)
            expired = target.count(cutoff)
            label = f"older than {days[target.name]} days (before {cutoff:%Y-%m-%d %H:%M:%S}Z)"
            if dry_run:
                self.stdout.write(f"{target.name}: would remove {expired:,} rows — {label}")
                continue
            started = time.perf_counter()
            removed = target.purge(
                cutoff, batch_size=batch_size, progress=self._bar(target.name, expired, started)
            )
            elapsed = time.perf_counter() - started
            self._end_bar()
            rate = removed / elapsed if elapsed > 0 else 0
            self.stdout.write(
                f"{target.name}: removed {removed:,} rows in {elapsed:.1f} s "
                f"({rate:,.0f} rows/s) — {label}"
            )
            total += removed
        if dry_run:
            self.stdout.write("Dry run: nothing was removed.")
        else:
            self.stdout.write(f"Removed {total:,} rows in all.")

    @staticmethod
    def _moment(as_of: str | None):
        current = now()
        if as_of is None:
            return current
        moment = parse_datetime(as_of)
        if moment is None:
            raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 date and time.")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment > current:
            raise CommandError("--as-of cannot be in the future: it would remove rows early.")
        return moment

    def _bar(self, name: str, expected: int, started: float):
        interactive = sys.stderr.isatty()
        last_line = [0.0]

        def show(done: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-6)
            share = done / expected if expected else 1.0
            filled = int(BAR_WIDTH * min(share, 1.0))
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            text = (
                f"{name:16} [{bar}] {done:,}/{expected:,} {share:4.0%} {done / elapsed:,.0f} rows/s"
            )
            if interactive:
                self.stderr.write("\r" + text, ending="")
            elif time.perf_counter() - last_line[0] >= 1 or done >= expected:
                self.stderr.write(text)
                last_line[0] = time.perf_counter()

        return show

    def _end_bar(self) -> None:
        if sys.stderr.isatty():
            self.stderr.write("")
