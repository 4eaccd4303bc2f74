"""Helpers the benchmarks share: a real Daphne on a scratch database, percentiles, results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"


def database_kind() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50/p90/p99/mean of durations given in seconds, in milliseconds."""
    ms = [value * 1000 for value in seconds]
    return {
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
        "count": len(ms),
    }


def machine() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
        except OSError:
            return ""

    memory = run("free", "-h").splitlines()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": str(os.cpu_count()),
        "memory": memory[1].split()[1] if len(memory) > 1 else "?",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": database_kind(),
        "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
    }


def api_key(environment: dict[str, str]) -> str:
    from tests.e2e.server import manage

    return manage(environment, "create_api_key", "bench").strip().splitlines()[-1]


def results_path(name: str, database: str, quick: bool) -> Path:
    """Where a run's results go: quick runs aside, so that the tables of docs/benchmarks.md
    (made from ``bench/results/*.json``) always show full runs."""
    folder = RESULTS / "quick" if quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-{database}.json"


def write_results(name: str, results: dict) -> Path:
    path = results_path(name, database_kind(), bool(results.get("quick")))
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2, default=str))
    return path


def figure(name: str, value, unit: str, target: str | None = None, met: bool | None = None) -> dict:
    """One row of a benchmark's summary table in docs/benchmarks.md."""
    return {"figure": name, "value": value, "unit": unit, "target": target, "met": met}


# --- the SQL a selector runs, in a Django process of its own --------------------------------
# A benchmark script runs itself as `script _django '<json config>'` with the server's
# environment (its database), to time a selector without HTTP and show its query plans.


def run_django_helper(script: str, environment: dict[str, str], config: dict) -> dict:
    """``script``'s ``_django`` mode with ``config``; the JSON it prints."""
    completed = subprocess.run(
        [sys.executable, script, "_django", json.dumps(config)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"Django helper failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def setup_django_helper() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marcus_site.settings")
    django.setup()


def queries_and_timings(call: Callable[[], object], repeat: int) -> tuple[list, list[float]]:
    """The statements ``call()`` runs (SQL, parameters), then its time over ``repeat`` calls."""
    from django.db import connection

    captured: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        timings.append(time.perf_counter() - began)
    return captured, timings


def query_plan(sql: str, params) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
