"""Benchmark: ``enforce_retention`` on 1,000,000 expired research events
(docs/benchmarks.md, "Retention").

Run from the repository root:

    .venv/bin/python bench/retention.py [--quick]                     # SQLite
    DATABASE_URL=postgres://... .venv/bin/python bench/retention.py    # PostgreSQL (the target)

A scratch database gets 1,000,000 research events older than the 90-day window and 100,000
inside it; the command then runs in this process while a thread samples its resident memory.
Target on PostgreSQL: at least 100,000 rows/s deleted, RSS growing by less than 50 MB.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_kind, figure, write_results
from bench.research_ingest import load, rss_kb, setup_django, stored_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 expired rows")
    parser.add_argument("--batch-size", type=int, default=10_000)
    arguments = parser.parse_args()
    expired = 100_000 if arguments.quick else 1_000_000
    from tests.e2e.server import base_environment, manage, scratch_database

    with tempfile.TemporaryDirectory() as scratch, scratch_database(Path(scratch)) as url:
        manage(base_environment(Path(scratch), DATABASE_URL=url), "migrate", "--noinput")
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        from research.models import ResearchEvent

        # Old rows: between 91 and 180 days ago; kept rows: the last 30 days.
        old = stored_rows(expired, spread=timedelta(days=89))
        shift = timedelta(days=91)
        old = [(*row[:3], _minus(row[3], shift), *row[4:]) for row in old]
        load(old)
        del old
        load(stored_rows(expired // 10, spread=timedelta(days=30), seed=11))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        assert ResearchEvent.objects.count() == expired + expired // 10

        import gc

        gc.collect()
        before = rss_kb(_pid())
        peak = [before]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(_pid()))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        call_command(
            "enforce_retention",
            "--only",
            "research_events",
            "--batch-size",
            str(arguments.batch_size),
            stdout=out,
            stderr=err,
        )
        elapsed = time.perf_counter() - started
        done.set()
        watcher.join()
        remaining = ResearchEvent.objects.count()
    results = {
        "quick": arguments.quick,
        "expired_rows": expired,
        "kept_rows": expired // 10,
        "remaining_rows": remaining,
        "batch_size": arguments.batch_size,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(expired / elapsed),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak[0] / 1024, 1),
        "rss_growth_mb": round((peak[0] - before) / 1024, 1),
        "command_output": out.getvalue().strip(),
    }
    postgres = database_kind() == "postgresql"
    results["summary"] = [
        figure(
            f"deleting {expired:,} expired research events",
            results["rows_per_s"],
            "rows/s",
            ">= 100,000 (PostgreSQL)",
            results["rows_per_s"] >= 100_000 if postgres else None,
        ),
        figure(
            "RSS growth while deleting",
            results["rss_growth_mb"],
            "MB",
            "< 50",
            results["rss_growth_mb"] < 50,
        ),
        figure(
            "rows inside the window kept",
            results["remaining_rows"],
            "rows",
            f"{expired // 10:,}",
            results["remaining_rows"] == expired // 10,
        ),
    ]
    print(json.dumps(results, indent=2))
    print("results:", write_results("retention", results), "database:", database_kind())


def _minus(iso: str, delta: timedelta) -> str:
    from datetime import datetime

    return (datetime.fromisoformat(iso) - delta).isoformat()


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":
    main()
