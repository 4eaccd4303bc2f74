"""Benchmark: research events (docs/benchmarks.md, "Research events").

Run from the repository root:

    .venv/bin/python bench/research_ingest.py [--quick]          # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marcus .venv/bin/python bench/research_ingest.py

Against one Daphne process on a fresh database:

1. ingest through HTTP with ``wrk`` (a separate process): batches of 1,000 events, and single
   events, at a few connection counts;
2. the database ceiling in the same run: the same rows written straight into a copy of the
   table (COPY on PostgreSQL, executemany on SQLite), and ingest as a fraction of it;
3. 1,000,000 events loaded (spread over the 90-day retention window), then
   ``GET /api/cato/metrics/research`` latency, and again with every event in the last 24 h;
4. ``EXPLAIN`` of the list query filtered by agent and by type, at 1M rows;
5. the streamed export of all 1M events: the server's RSS growth while it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    api_key,
    database_kind,
    figure,
    machine,
    query_plan,
    summary_ms,
    write_results,
)

EXAMPLE_EVENTS = [
    {
        "event_type": "decision_point",
        "session_id": "bench-run",
        "agent_id": "agent-7",
        "task_id": "task-42",
        "event_data": {
            "decision_type": "architecture",
            "options_considered": ["REST", "GraphQL"],
            "choice_made": "REST",
            "reasoning": "The dashboard already speaks REST.",
            "confidence": 0.85,
        },
    },
    {
        "event_type": "performance_metric",
        "session_id": "bench-run",
        "event_data": {
            "metric_name": "task_completion_time",
            "metric_value": 1234.5,
            "metric_unit": "seconds",
            "context": {"agent_id": "agent-3", "task_id": "task-9"},
        },
    },
    {
        "event_type": "agent_coordination",
        "session_id": "bench-run",
        "event_data": {
            "coordination_type": "handoff",
            "agent_ids": ["agent-1", "agent-2"],
            "tasks_involved": ["task-1", "task-2"],
        },
    },
    {
        "event_type": "task_assignment",
        "session_id": "bench-run",
        "agent_id": "agent-2",
        "task_id": "task-5",
        "event_data": {"assignment_reason": "skills", "agent_workload": 2},
    },
    {
        "event_type": "failure_event",
        "session_id": "bench-run",
        "agent_id": "agent-4",
        "event_data": {
            "failure_type": "timeout",
            "component": "tests",
            "error_message": "Timed out after 300 s",
        },
    },
]


def wrk(url: str, key: str, body: str, connections: int, seconds: int) -> dict:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    script.unlink()
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(ms|s|us)", output)
    p99 = re.search(r"99%\s+([\d.]+)(ms|s|us)", output)

    def ms(match):
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return round(value * {"ms": 1, "s": 1000, "us": 0.001}[unit], 2)

    return {
        "requests_per_s": requests,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "p50_ms": ms(p50),
        "p99_ms": ms(p99),
    }


def batch_body(size: int) -> str:
    events = [EXAMPLE_EVENTS[i % len(EXAMPLE_EVENTS)] for i in range(size)]
    return json.dumps({"events": events}) if size > 1 else json.dumps(events[0])


# --- direct database access (the scratch database of the running server) ------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "marcus_site.settings"
    import django

    django.setup()


def stored_rows(count: int, *, spread: timedelta, agents: int = 100, seed: int = 7) -> list[tuple]:
    """Rows in research.services.COLUMNS order, with feed ids after the stored ones."""
    from django.db import connection

    from cato_api.models import LiveEvent
    from marcus_site.bulk import allocate_ids
    from research.registry import REGISTRY
    from research.schemas import EVENT_BATCH
    from research.validation import _ready

    now = datetime.now(UTC)
    validated = EVENT_BATCH.validate_python(EXAMPLE_EVENTS)
    templates = [_ready(event, now) for event in validated]
    assert len(REGISTRY) == len(templates)
    with connection.cursor():
        pass
    from django.db import transaction

    with transaction.atomic():
        feed_ids = allocate_ids(LiveEvent, count)
    rng = random.Random(seed)
    rows = []
    received = now.isoformat()
    for index, feed_id in enumerate(feed_ids):
        event = templates[index % len(templates)]
        moment = now - timedelta(seconds=rng.random() * spread.total_seconds())
        agent = f"agent-{rng.randrange(agents)}"
        rows.append(
            (
                feed_id,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                event.event_type,
                moment.isoformat(),
                received,
                f"session-{index // 500}",
                agent,
                event.task_id,
                event.feature_id,
                json.dumps(event.event_data),
                event.coordination_type,
                rng.random() if event.confidence is not None else None,
                event.metric_name,
                rng.random() * 5000 if event.metric_value is not None else None,
            )
        )
    return rows


def load(rows: list[tuple], table: str | None = None) -> float:
    """Write rows straight into the research table (or a copy); returns rows/s."""
    from django.db import connection, transaction

    from marcus_site.bulk import insert_rows
    from research.models import ResearchEvent
    from research.services import COLUMNS

    start = time.perf_counter()
    for offset in range(0, len(rows), 50_000):
        with transaction.atomic():
            if table is None:
                insert_rows(ResearchEvent, COLUMNS, rows[offset : offset + 50_000])
            else:
                _insert_into(connection, table, COLUMNS, rows[offset : offset + 50_000])
    return len(rows) / (time.perf_counter() - start)


def _insert_into(connection, table: str, columns, rows) -> None:
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def ceiling(rows: list[tuple]) -> float:
    """The same rows into an empty copy of the table, with the same indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS research_ceiling")
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TABLE research_ceiling (LIKE research_researchevent INCLUDING ALL)"
            )
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'research_researchevent'"
                " AND sql IS NOT NULL"
            )
            for (statement,) in cursor.fetchall():
                statement = statement.replace("research_researchevent", "research_ceiling")
                statement = re.sub(r'INDEX "?(\w+)"?', r'INDEX "ceiling_\1"', statement)
                cursor.execute(statement)
    rate = load(rows, table="research_ceiling")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE research_ceiling")
    return rate


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def explain(filters: dict) -> str:
    from research.selectors import LIST_FIELDS, EventFilters, filtered_events

    query = filtered_events(EventFilters(**filters)).order_by("-timestamp", "-feed_id")
    sql, params = query.values(*LIST_FIELDS)[:101].query.sql_with_params()
    return query_plan(sql, params)


def timed_gets(url: str, key: str, params: dict, count: int) -> dict:
    import httpx

    durations = []
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        client.get(url, params=params)
        for _ in range(count):
            start = time.perf_counter()
            response = client.get(url, params=params)
            durations.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return summary_ms(durations)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def export_rss(url: str, key: str, pid: int, export_format: str) -> dict:
    import httpx

    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    lines = size = 0
    start = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{url}/api/research/events/export/",
        params={"format": export_format},
        headers={"Authorization": f"Bearer {key}"},
        timeout=600,
    ) as response:
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - start
    done.set()
    watcher.join()
    return {
        "format": export_format,
        "lines": lines,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(elapsed, 1),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak[0] / 1024, 1),
        "rss_growth_mb": round((peak[0] - before) / 1024, 1),
    }


def summarize(results: dict) -> list[dict]:
    postgres = database_kind() == "postgresql"
    batch = max(f["events_per_s"] for f in results["ingest"] if f["events_per_request"] > 1)
    single = max(f["events_per_s"] for f in results["ingest"] if f["events_per_request"] == 1)
    batch_target = 15_000 if postgres else 8_000
    metrics = results["metrics_90_days"]["hours=24"]["p50_ms"]
    worst = results["metrics_all_in_24h"]["hours=24"]["p50_ms"]
    growth = results["export"]["rss_growth_mb"]
    return [
        figure(
            "batches of 1,000 through HTTP",
            batch,
            "events/s",
            f">= {batch_target:,}",
            batch >= batch_target,
        ),
        figure("single events through HTTP", single, "events/s", ">= 500", single >= 500),
        figure(
            "database alone (same rows, same indexes)",
            results["ceiling"]["database_rows_per_s"],
            "rows/s",
        ),
        figure(
            "batch ingest as a share of the database alone",
            results["ceiling"]["fraction_of_ceiling"],
            "fraction",
        ),
        figure(
            "research metrics p50, events over 90 days",
            metrics,
            "ms",
            "<= 100 (PostgreSQL)",
            metrics <= 100 if postgres else None,
        ),
        figure(
            "research metrics p50, every event in the last 24 h",
            worst,
            "ms",
            "<= 100 (PostgreSQL)",
            worst <= 100 if postgres else None,
        ),
        figure(
            f"export of {results['export']['lines']:,} events: server RSS growth",
            growth,
            "MB",
            "< 50",
            growth < 50,
        ),
        figure("list by agent, p50", results["list"]["agent_id"]["p50_ms"], "ms"),
        figure("list by type, p50", results["list"]["event_type"]["p50_ms"], "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 50,000 rows")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(
            "This benchmark drives its load with wrk, which is not installed: apt-get install wrk"
        )
    seconds = 3 if arguments.quick else 15
    total = 50_000 if arguments.quick else 1_000_000
    from tests.e2e.server import running_server

    results: dict = {"quick": arguments.quick, "machine": machine()}
    with tempfile.TemporaryDirectory() as scratch, running_server(Path(scratch)) as server:
        key = api_key(server.environment)
        url = f"{server.url}/api/research/events/"
        ingest = []
        for size, connections in ((1000, 2), (1000, 4), (1, 8), (1, 32)):
            figures = wrk(url, key, batch_body(size), connections, seconds)
            figures.update(
                events_per_request=size,
                connections=connections,
                events_per_s=round(figures["requests_per_s"] * size),
            )
            print(json.dumps(figures), flush=True)
            ingest.append(figures)
        results["ingest"] = ingest

        setup_django(server.environment["DATABASE_URL"])
        sample = stored_rows(50_000, spread=timedelta(days=1))
        ceiling_rate = ceiling(sample)
        best_batch = max(f["events_per_s"] for f in ingest if f["events_per_request"] > 1)
        results["ceiling"] = {
            "database_rows_per_s": round(ceiling_rate),
            "best_batch_ingest_events_per_s": best_batch,
            "fraction_of_ceiling": round(best_batch / ceiling_rate, 2),
        }
        print(json.dumps(results["ceiling"]), flush=True)

        rows = stored_rows(total, spread=timedelta(days=90), seed=9)
        results["load_rows_per_s"] = round(load(rows))
        del rows
        analyze()
        count = 50 if arguments.quick else 200
        metrics_url = f"{server.url}/api/cato/metrics/research"
        results["metrics_90_days"] = {
            "hours=24": timed_gets(metrics_url, key, {"hours": 24}, count),
            "hours=168": timed_gets(metrics_url, key, {"hours": 168}, count),
            "hours=24&agent_id": timed_gets(
                metrics_url, key, {"hours": 24, "agent_id": "agent-7"}, count
            ),
        }
        size = f"{total:,} rows"
        results["explain"] = {
            f"GET /api/research/events/?agent_id=agent-7 ({size})": explain(
                {"agent_id": "agent-7"}
            ),
            f"GET /api/research/events/?event_type=decision_point ({size})": explain(
                {"event_type": "decision_point"}
            ),
        }
        list_url = f"{server.url}/api/research/events/"
        results["list"] = {
            "agent_id": timed_gets(list_url, key, {"agent_id": "agent-7"}, count),
            "event_type": timed_gets(list_url, key, {"event_type": "decision_point"}, count),
        }
        print(json.dumps(results["metrics_90_days"]), flush=True)
        results["export"] = export_rss(server.url, key, server.process.pid, "jsonl")
        print(json.dumps(results["export"]), flush=True)

        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM research_researchevent")
        rows = stored_rows(total, spread=timedelta(hours=23), seed=8)
        load(rows)
        del rows
        analyze()
        results["metrics_all_in_24h"] = {
            "hours=24": timed_gets(metrics_url, key, {"hours": 24}, count),
        }
        print(json.dumps(results["metrics_all_in_24h"]), flush=True)
        from django.db import connections

        connections.close_all()
    results["summary"] = summarize(results)
    path = write_results("research_ingest", results)
    print(f"database: {database_kind()}  results: {path}")


if __name__ == "__main__":
    main()
