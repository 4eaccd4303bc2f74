"""Benchmark: the central telemetry backend through a real Daphne (docs/benchmarks.md, "Central
telemetry backend").

Run from the repository root (wait until no other benchmark runs: `pgrep -af bench/`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marcus \
        .venv/bin/python bench/backend_aggregate.py [--quick]
    .venv/bin/python bench/backend_aggregate.py [--quick]          # SQLite, smaller data set

On one Daphne process serving a fresh, migrated database of the chosen kind
(tests.e2e.server.running_server; a PostgreSQL database is created and dropped afterwards):

1. ingest: POST /v1/telemetry/batch from a load generator in its own process (wrk with a Lua
   script that varies installation ids and periods, so every batch is new; or an asyncio +
   httpx client with --loadgen python), at several concurrencies; batches/s against the seed's
   605 batches/s, with the rows counted in the database afterwards;
2. loads 100,000 batches x 10 milestone types = 1,000,000 milestone rows (PostgreSQL COPY,
   SQLite executemany) into the backend's tables, with each batch's raw JSON, received over the
   last 365 days from 2,000 installations on several versions and OS types; ANALYZE;
3. GET /v1/metrics/aggregate through HTTP (sequential requests; p50/p90/p99) for hours=24
   (the target), 168 and 8760, with and without marcus_version;
4. in the same run, on the same data, the seed's own JSONB query as the FastAPI seed wrote it:
   a full scan of the batches with jsonb_each(raw->'milestones'), SUMs and an average of the
   per-batch averages grouped by type, plus a separate COUNT(DISTINCT installation_id), no
   index helping it (index scans are switched off in its session, as the seed had none), timed
   from Python with psycopg (json_each and NOT INDEXED on SQLite);
5. EXPLAIN (ANALYZE, BUFFERS) of the SQL the endpoint runs (EXPLAIN QUERY PLAN on SQLite).

It prints a summary and writes bench/results/backend-<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    queries_and_timings,
    query_plan,
    results_path,
    run_django_helper,
    setup_django_helper,
    summary_ms,
)

SEED_BATCHES_PER_SECOND = 605
TARGET_P50_MS = 20.0
TARGET_RATIO = 5.0
BATCH_TABLE = "backend_telemetrybatch"
MILESTONE_TABLE = "backend_batchmilestone"
GIN_INDEX = "backend_batch_raw_gin"
MILESTONE_TYPES = [
    "project_creation",
    "agent_registration",
    "board_setup",
    "task_assignment",
    "first_task_completed",
    "code_review",
    "pr_merged",
    "deployment",
    "research_run",
    "onboarding_done",
]
VERSIONS = (("1.0.0", 0.10), ("1.1.0", 0.15), ("1.2.0", 0.15), ("1.3.0", 0.20), ("1.4.2", 0.40))
FILTER_VERSION = "1.4.2"
OS_TYPES = (("linux", 0.6), ("darwin", 0.3), ("win32", 0.1))
FEATURES = [
    "agent_registered",
    "task_created",
    "task_assigned",
    "task_completed",
    "decision_point",
    "agent_coordination",
    "performance_metric",
    "failure_event",
]
BATCH_COLUMNS = (
    "id",
    "installation_id",
    "marcus_version",
    "python_version",
    "os_type",
    "period_start",
    "period_end",
    "received_at",
    "raw",
)
MILESTONE_COLUMNS = (
    "batch_id",
    "milestone_type",
    "attempts",
    "completed",
    "failed",
    "duration_total_seconds",
    "received_at",
    "marcus_version",
)

# --------------------------------------------------------------------------------------------
# Small helpers


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# 1. Ingest: the load generator in its own process


WRK_SCRIPT = r"""
-- Every request a new batch: the installation cycles over 2,000 ids, the period moves on by
-- one second per request, per thread and per run, so (installation, period) never repeats.
local counter = 0
local run = tonumber(os.getenv("BENCH_RUN") or "0")
-- Periods end from 2020-01-02 on, one second apart: always in the past, never repeated.
local first_end = 1577923200
local template = [[TEMPLATE]]
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  thread:set("tid", (setup_count or 0))
  setup_count = (setup_count or 0) + 1
end

request = function()
  counter = counter + 1
  local serial = run * 1000000 + (tid or 0) * 100000 + counter
  local installation = string.format("%016x", 1000000 + (serial % 2000))
  local period_end = first_end + serial
  local body = string.format(template, installation,
    os.date("!%Y-%m-%dT%H:%M:%SZ", period_end - 86400),
    os.date("!%Y-%m-%dT%H:%M:%SZ", period_end))
  return wrk.format(nil, nil, nil, body)
end
"""


def sample_batch(generator: random.Random, *, installation: str, start: str, end: str) -> dict:
    """A realistic day of one installation: 10 milestone types, 8 features, 2 error groups."""
    milestones = {}
    for milestone_type in MILESTONE_TYPES:
        attempts = generator.randint(1, 40)
        completed = generator.randint(0, attempts)
        failed = generator.randint(0, attempts - completed)
        milestones[milestone_type] = {
            "attempts": attempts,
            "completed": completed,
            "failed": failed,
            "avg_duration_seconds": round(generator.lognormvariate(3.4, 1.0), 3)
            if completed
            else 0.0,
        }
    return {
        "installation_id": installation,
        "marcus_version": generator.choices(*zip(*VERSIONS, strict=True))[0],
        "python_version": "3.11.7",
        "os_type": generator.choices(*zip(*OS_TYPES, strict=True))[0],
        "period_start": start,
        "period_end": end,
        "milestones": milestones,
        "feature_usage": {name: generator.randint(0, 500) for name in FEATURES},
        "errors": [
            {
                "error_type": "TimeoutError",
                "count": generator.randint(1, 9),
                "contexts": ["deployment: TimeoutError: no answer after 30s", "HTTP 503"],
            },
            {
                "error_type": "MilestoneFailed",
                "count": generator.randint(1, 9),
                "contexts": ["board_setup: the board was not ready"],
            },
        ],
    }


def wrk_template() -> str:
    body = json.dumps(
        sample_batch(random.Random(7), installation="@ID@", start="@START@", end="@END@"),
        separators=(",", ":"),
    )
    return (
        body.replace("%", "%%")
        .replace("@ID@", "%s")
        .replace("@START@", "%s")
        .replace("@END@", "%s")
    )


def run_wrk(url: str, concurrency: int, duration: float, run: int, scratch: Path) -> dict:
    script = scratch / "batch.lua"
    script.write_text(WRK_SCRIPT.replace("TEMPLATE", wrk_template()))
    completed = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"{url}/v1/telemetry/batch",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 120,
        env={**os.environ, "BENCH_RUN": str(run)},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{completed.stderr}")
    text = completed.stdout

    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, text)
        return float(match.group(1)) if match else default

    def milliseconds(label: str) -> float | None:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if not match:
            return None
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return round(float(match.group(1)) * scale, 2)

    requests = int(number(r"(\d+) requests in"))
    seconds = number(r"requests in ([\d.]+)s", default=duration)
    non_2xx = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    socket_errors = sum(
        int(value) for value in re.findall(r"(?:connect|read|write|timeout) (\d+)", text)
    )
    return {
        "loadgen": "wrk",
        "concurrency": concurrency,
        "requests": requests,
        # Answered 200 (stored, or a duplicate) per second; wrk's own figure counts every answer.
        "batches_per_s": round((requests - non_2xx) / seconds, 1),
        "wrk_requests_per_s": round(number(r"Requests/sec:\s+([\d.]+)"), 1),
        "p50_ms": milliseconds("50%"),
        "p90_ms": milliseconds("90%"),
        "p99_ms": milliseconds("99%"),
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
        "raw_output": text,
    }


async def _python_loadgen(config: dict) -> dict:
    import httpx

    concurrency = config["concurrency"]
    template = wrk_template()
    latencies: list[float] = []
    statuses: Counter = Counter()
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=config["url"], limits=limits, timeout=60) as client:

        async def worker(deadline: float) -> None:
            nonlocal counter
            while time.perf_counter() < deadline:
                counter += 1
                serial = config["run"] * 1_000_000 + counter
                end = datetime(2020, 1, 2, tzinfo=UTC) + timedelta(seconds=serial)
                body = template % (
                    f"{1_000_000 + serial % 2000:016x}",
                    iso(end - timedelta(days=1)),
                    iso(end),
                )
                began = time.perf_counter()
                response = await client.post(
                    "/v1/telemetry/batch",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                latencies.append(time.perf_counter() - began)
                statuses[response.status_code] += 1

        began = time.perf_counter()
        deadline = began + config["duration"]
        await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    summary = summary_ms(latencies)
    return {
        "loadgen": "python",
        "concurrency": concurrency,
        "requests": len(latencies),
        "batches_per_s": round(statuses[200] / elapsed, 1),
        "p50_ms": summary["p50_ms"],
        "p90_ms": summary["p90_ms"],
        "p99_ms": summary["p99_ms"],
        "non_2xx": sum(n for status, n in statuses.items() if status != 200),
        "socket_errors": 0,
    }


def run_python_loadgen(url: str, concurrency: int, duration: float, run: int) -> dict:
    config = {"url": url, "concurrency": concurrency, "duration": duration, "run": run}
    completed = subprocess.run(
        [sys.executable, __file__, "_loadgen", json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def count_rows(database_url: str, table: str) -> int:
    if is_postgres(database_url):
        import psycopg

        with psycopg.connect(database_url) as connection:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    import sqlite3

    connection = sqlite3.connect(sqlite_path(database_url), timeout=60)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def empty_tables(database_url: str) -> None:
    if is_postgres(database_url):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"TRUNCATE {MILESTONE_TABLE}, {BATCH_TABLE}")
        return
    import sqlite3

    connection = sqlite3.connect(sqlite_path(database_url), timeout=60, isolation_level=None)
    try:
        connection.execute(f"DELETE FROM {MILESTONE_TABLE}")
        connection.execute(f"DELETE FROM {BATCH_TABLE}")
        connection.execute("VACUUM")
    finally:
        connection.close()


def measure_ingest(arguments, server, database_url: str, scratch: Path) -> list[dict]:
    loadgen = arguments.loadgen
    if loadgen == "wrk" and not shutil.which("wrk"):
        log("wrk is not installed: using the Python load generator")
        loadgen = "python"
    duration = arguments.duration or (2.0 if arguments.quick else 10.0)
    results = []
    run = 0
    for concurrency in [int(value) for value in arguments.concurrency.split(",")]:
        rounds = []
        for _ in range(arguments.repeat or (1 if arguments.quick else 3)):
            run += 1
            before = count_rows(database_url, BATCH_TABLE)
            cpu_before = process_cpu_seconds(server.process.pid)
            wall = time.perf_counter()
            if loadgen == "wrk":
                one = run_wrk(server.url, concurrency, duration, run, scratch)
            else:
                one = run_python_loadgen(server.url, concurrency, duration, run)
            wall = time.perf_counter() - wall
            one["server_cpu_percent"] = round(
                100 * (process_cpu_seconds(server.process.pid) - cpu_before) / wall, 1
            )
            time.sleep(0.5)  # the last group commits
            one["stored"] = count_rows(database_url, BATCH_TABLE) - before
            one.pop("raw_output", None)
            rounds.append(one)
            log(
                f"  ingest c={concurrency}: {one['batches_per_s']} batches/s, p50 {one['p50_ms']}"
                f" ms, p99 {one['p99_ms']} ms, non-2xx {one['non_2xx']}, stored {one['stored']}"
                f" of {one['requests']}, server CPU {one['server_cpu_percent']}%"
            )
        results.append(
            {
                "concurrency": concurrency,
                "loadgen": loadgen,
                "batches_per_s": round(statistics.median(r["batches_per_s"] for r in rounds), 1),
                "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
                "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
                "non_2xx": sum(r["non_2xx"] + r["socket_errors"] for r in rounds),
                "vs_seed": round(
                    statistics.median(r["batches_per_s"] for r in rounds) / SEED_BATCHES_PER_SECOND,
                    2,
                ),
                "rounds": rounds,
            }
        )
    return results


def measure_scale_out(arguments, scratch: Path) -> dict:
    """The same load on two Daphne processes sharing one database (overview.md's scale-out),
    each with its own load generator; batches/s summed."""
    import threading

    from tests.e2e.server import running_servers

    loadgen = "wrk" if arguments.loadgen == "wrk" and shutil.which("wrk") else "python"
    duration = arguments.duration or (2.0 if arguments.quick else 10.0)
    concurrency = 32
    rounds = []
    folder = scratch / "scale-out"
    folder.mkdir()
    with running_servers(folder, 2, MARCUS_TELEMETRY_RATE_LIMIT="1000000000/second") as servers:
        for number in range(arguments.repeat or (1 if arguments.quick else 3)):
            results: list[dict] = [{}, {}]

            def load(index: int, number: int = number, results: list = results) -> None:
                run = 50 + number * 2 + index
                own = folder / f"loadgen-{number}-{index}"
                own.mkdir()
                if loadgen == "wrk":
                    results[index] = run_wrk(servers[index].url, concurrency, duration, run, own)
                else:
                    results[index] = run_python_loadgen(
                        servers[index].url, concurrency, duration, run
                    )

            threads = [threading.Thread(target=load, args=(index,)) for index in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            total = round(sum(result["batches_per_s"] for result in results), 1)
            errors = sum(result["non_2xx"] + result["socket_errors"] for result in results)
            rounds.append(
                {
                    "batches_per_s": total,
                    "per_process": [r["batches_per_s"] for r in results],
                    "errors": errors,
                }
            )
            log(f"  scale-out, 2 processes x c={concurrency}: {total} batches/s, errors {errors}")
    median = round(statistics.median(r["batches_per_s"] for r in rounds), 1)
    return {
        "processes": 2,
        "concurrency_per_process": concurrency,
        "loadgen": loadgen,
        "batches_per_s": median,
        "vs_seed": round(median / SEED_BATCHES_PER_SECOND, 2),
        "errors": sum(r["errors"] for r in rounds),
        "rounds": rounds,
    }


# --------------------------------------------------------------------------------------------
# 2. The data set, straight into the database


def generate(batches: int, installations: int, now: datetime, seed: int):
    """(batch row, milestone rows) in received_at order, as a live server stores them."""
    generator = random.Random(seed)
    days = 365
    per_installation = batches // installations
    plan = []
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for number in range(installations):
        installation = f"{0xB000000000000000 + number:016x}"
        for days_ago in generator.sample(range(days), per_installation):
            # Received some time on a UTC day of the last 365 (today: until now), about the
            # day before.
            end = midnight - timedelta(days=days_ago)
            day_length = (now - midnight) if days_ago == 0 else timedelta(days=1)
            received = end + day_length * generator.random()
            plan.append((received, installation, end))
    plan.sort()
    for batch_id, (received, installation, end) in enumerate(plan, 1):
        body = sample_batch(
            generator, installation=installation, start=iso(end - timedelta(days=1)), end=iso(end)
        )
        raw = json.dumps(body, separators=(",", ":"))
        batch_row = (
            batch_id,
            installation,
            body["marcus_version"],
            body["python_version"],
            body["os_type"],
            end - timedelta(days=1),
            end,
            received,
            raw,
        )
        milestone_rows = [
            (
                batch_id,
                milestone_type,
                figures["attempts"],
                figures["completed"],
                figures["failed"],
                figures["completed"] * figures["avg_duration_seconds"],
                received,
                body["marcus_version"],
            )
            for milestone_type, figures in body["milestones"].items()
        ]
        yield batch_row, milestone_rows


def _copy_text(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_postgres(database_url: str, rows, total: int) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        # A GIN index is much cheaper built once than maintained row by row during a load.
        connection.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
    with psycopg.connect(database_url) as connection:
        with connection.cursor() as cursor:
            batch_copy = f"COPY {BATCH_TABLE} ({', '.join(BATCH_COLUMNS)}) FROM STDIN"
            milestone_copy = f"COPY {MILESTONE_TABLE} ({', '.join(MILESTONE_COLUMNS)}) FROM STDIN"
            pending_milestones: list[str] = []
            with cursor.copy(batch_copy) as copy:
                chunk: list[str] = []
                for done, (batch_row, milestone_rows) in enumerate(rows, 1):
                    chunk.append("\t".join(_copy_text(value) for value in batch_row))
                    pending_milestones.extend(
                        "\t".join(_copy_text(value) for value in row) for row in milestone_rows
                    )
                    if len(chunk) == 5000:
                        copy.write("\n".join(chunk) + "\n")
                        chunk.clear()
                    if done % 20_000 == 0:
                        log(f"  batches {done:,}/{total:,}")
                if chunk:
                    copy.write("\n".join(chunk) + "\n")
            with cursor.copy(milestone_copy) as copy:
                for start in range(0, len(pending_milestones), 50_000):
                    copy.write("\n".join(pending_milestones[start : start + 50_000]) + "\n")
            log(f"  milestone rows {len(pending_milestones):,}")
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
                f"{BATCH_TABLE}))",
                [BATCH_TABLE],
            )
        connection.commit()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE INDEX {GIN_INDEX} ON {BATCH_TABLE} USING gin (raw)")
        # VACUUM sets the visibility map, so that index-only scans need no heap fetches (a
        # live table gets there through autovacuum).
        connection.execute(f"VACUUM (ANALYZE) {BATCH_TABLE}")
        connection.execute(f"VACUUM (ANALYZE) {MILESTONE_TABLE}")


def sqlite_datetime(value: datetime) -> str:
    return str(value.astimezone(UTC).replace(tzinfo=None))


def load_sqlite(database_url: str, rows, total: int) -> None:
    import sqlite3

    connection = sqlite3.connect(sqlite_path(database_url), timeout=60, isolation_level=None)
    try:
        batch_sql = (
            f"INSERT INTO {BATCH_TABLE} ({', '.join(BATCH_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in BATCH_COLUMNS)})"
        )
        milestone_sql = (
            f"INSERT INTO {MILESTONE_TABLE} ({', '.join(MILESTONE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in MILESTONE_COLUMNS)})"
        )
        batches: list[tuple] = []
        milestones: list[tuple] = []

        def flush() -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(batch_sql, batches)
            connection.executemany(milestone_sql, milestones)
            connection.execute("COMMIT")
            batches.clear()
            milestones.clear()

        for done, (batch_row, milestone_rows) in enumerate(rows, 1):
            batches.append(
                tuple(sqlite_datetime(v) if isinstance(v, datetime) else v for v in batch_row)
            )
            milestones.extend(
                tuple(sqlite_datetime(v) if isinstance(v, datetime) else v for v in row)
                for row in milestone_rows
            )
            if len(batches) == 10_000:
                flush()
                log(f"  batches {done:,}/{total:,}")
        if batches:
            flush()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def load_dataset(database_url: str, batches: int, installations: int) -> dict:
    now = datetime.now(UTC)
    began = time.perf_counter()
    rows = generate(batches, installations, now, seed=1)
    if is_postgres(database_url):
        load_postgres(database_url, rows, batches)
    else:
        load_sqlite(database_url, rows, batches)
    return {
        "batches": count_rows(database_url, BATCH_TABLE),
        "milestone_rows": count_rows(database_url, MILESTONE_TABLE),
        "installations": installations,
        "received_over_days": 365,
        "load_seconds": round(time.perf_counter() - began, 1),
    }


# --------------------------------------------------------------------------------------------
# 3. Our endpoint through HTTP; 4. the seed's query


def measure_aggregate(url: str, params: dict, requests: int, warmup: int) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: Counter = Counter()
    last = None
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(warmup):
            client.get("/v1/metrics/aggregate", params=params)
        for _ in range(requests):
            began = time.perf_counter()
            last = client.get("/v1/metrics/aggregate", params=params)
            latencies.append(time.perf_counter() - began)
            statuses[last.status_code] += 1
    result = summary_ms(latencies)
    result["statuses"] = {str(code): n for code, n in statuses.items()}
    if last is not None and last.status_code == 200:
        result["answer"] = last.json()
    return result


SEED_SQL_POSTGRES = (
    # What the FastAPI seed ran: unpack each batch's JSON in the window, average the averages.
    "SELECT m.key AS milestone_type,"
    " SUM((m.value->>'attempts')::int) AS total_attempts,"
    " SUM((m.value->>'completed')::int) AS total_completed,"
    " SUM((m.value->>'failed')::int) AS total_failed,"
    " AVG((m.value->>'avg_duration_seconds')::float) AS avg_duration_seconds"
    f" FROM {BATCH_TABLE} b, jsonb_each(b.raw->'milestones') AS m"
    " WHERE b.received_at > now() - make_interval(hours => %s){version}"
    " GROUP BY m.key",
    f"SELECT COUNT(DISTINCT b.installation_id) FROM {BATCH_TABLE} b"
    " WHERE b.received_at > now() - make_interval(hours => %s){version}",
)
SEED_SQL_SQLITE = (
    "SELECT m.key AS milestone_type,"
    " SUM(json_extract(m.value, '$.attempts')), SUM(json_extract(m.value, '$.completed')),"
    " SUM(json_extract(m.value, '$.failed')), AVG(json_extract(m.value, '$.avg_duration_seconds'))"
    f" FROM {BATCH_TABLE} AS b NOT INDEXED, json_each(b.raw, '$.milestones') AS m"
    " WHERE b.received_at > ?{version} GROUP BY m.key",
    f"SELECT COUNT(DISTINCT b.installation_id) FROM {BATCH_TABLE} AS b NOT INDEXED"
    " WHERE b.received_at > ?{version}",
)


def measure_seed(database_url: str, hours: int, version: str | None, repeat: int) -> dict:
    timings = []
    if is_postgres(database_url):
        import psycopg

        statements = [
            sql.format(version=" AND b.marcus_version = %s" if version else "")
            for sql in SEED_SQL_POSTGRES
        ]
        params = [hours, version] if version else [hours]
        with psycopg.connect(database_url, autocommit=True) as connection:
            rows_in_window = connection.execute(
                f"SELECT count(*) FROM {MILESTONE_TABLE} b WHERE b.received_at > now() - "
                "make_interval(hours => %s)" + (" AND b.marcus_version = %s" if version else ""),
                params,
            ).fetchone()[0]
            # The seed's table had no index: none may help its query here either.
            for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                connection.execute(f"SET {setting} = off")
            plan = "\n".join(
                row[0] for row in connection.execute(f"EXPLAIN (ANALYZE) {statements[0]}", params)
            )
            for _ in range(repeat):
                began = time.perf_counter()
                for statement in statements:
                    connection.execute(statement, params).fetchall()
                timings.append(time.perf_counter() - began)
    else:
        import sqlite3

        since = sqlite_datetime(datetime.now(UTC) - timedelta(hours=hours))
        statements = [
            sql.format(version=" AND b.marcus_version = ?" if version else "")
            for sql in SEED_SQL_SQLITE
        ]
        params = [since, version] if version else [since]
        connection = sqlite3.connect(sqlite_path(database_url), timeout=60)
        try:
            rows_in_window = connection.execute(
                f"SELECT count(*) FROM {MILESTONE_TABLE} b WHERE b.received_at > ?"
                + (" AND b.marcus_version = ?" if version else ""),
                params,
            ).fetchone()[0]
            plan = "\n".join(
                str(row[-1])
                for row in connection.execute(f"EXPLAIN QUERY PLAN {statements[0]}", params)
            )
            for _ in range(repeat):
                began = time.perf_counter()
                for statement in statements:
                    connection.execute(statement, params).fetchall()
                timings.append(time.perf_counter() - began)
        finally:
            connection.close()
    result = summary_ms(timings)
    result["plan"] = plan
    result["milestone_rows_in_window"] = rows_in_window
    return result


def _django_helper(config: dict) -> dict:
    """In a Django process on the server's database: the endpoint's SQL, its plans, its time."""
    setup_django_helper()
    from backend.selectors import milestone_aggregate

    arguments = {"hours": config["hours"], "marcus_version": config.get("marcus_version")}
    captured, timings = queries_and_timings(
        lambda: milestone_aggregate(**arguments), config["repeat"]
    )
    return {
        "queries": [sql for sql, _ in captured],
        "plans": [query_plan(sql, params) for sql, params in captured],
        "in_process": summary_ms(timings),
    }


# --------------------------------------------------------------------------------------------
# The benchmark


def machine() -> dict:
    info = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return info


def code_state() -> dict:
    def git(*arguments: str) -> str:
        try:
            completed = subprocess.run(
                ["git", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=30
            )
        except OSError:
            return ""
        return completed.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed_files": git("status", "--porcelain").splitlines(),
    }


def benchmark(arguments: argparse.Namespace) -> dict:
    from tests.e2e.server import running_server

    database_kind = "postgres" if is_postgres(os.environ.get("DATABASE_URL", "")) else "sqlite"
    quick = arguments.quick
    default_batches = 100_000 if database_kind == "postgres" else 20_000
    batches = arguments.batches or (default_batches // 10 if quick else default_batches)
    installations = min(2000, max(10, batches // 50))
    requests = arguments.requests or (30 if quick else 200)
    seed_repeat = arguments.seed_repeat or (3 if quick else 10)
    results: dict = {
        "benchmark": "backend_aggregate",
        "database": database_kind,
        "quick": quick,
        "machine": machine(),
        "code": code_state(),
        "settings": {
            "batches": batches,
            "milestone_types": len(MILESTONE_TYPES),
            "installations": installations,
            "aggregate_requests": requests,
            "seed_repeat": seed_repeat,
            "concurrencies": arguments.concurrency,
            "loadgen": arguments.loadgen,
        },
        "targets": {
            "aggregate_p50_ms_hours_24": TARGET_P50_MS,
            "vs_seed_query": TARGET_RATIO,
            "seed_batches_per_s": SEED_BATCHES_PER_SECOND,
        },
    }
    with tempfile.TemporaryDirectory(prefix="marcus-bench-backend-") as scratch:
        scratch_path = Path(scratch)
        log("1b. ingest on two Daphne processes (scale-out)")
        results["ingest_scale_out"] = measure_scale_out(arguments, scratch_path)
        with running_server(
            scratch_path, MARCUS_TELEMETRY_RATE_LIMIT="1000000000/second"
        ) as server:
            database_url = server.environment["DATABASE_URL"]
            log(f"Daphne pid {server.process.pid} on {server.url}, {database_kind}")
            if database_kind == "postgres":
                import psycopg

                with psycopg.connect(database_url) as connection:
                    results["machine"]["postgres"] = connection.execute(
                        "SHOW server_version"
                    ).fetchone()[0]

            log("1. ingest")
            results["ingest"] = measure_ingest(arguments, server, database_url, scratch_path)
            empty_tables(database_url)

            log(f"2. loading {batches:,} batches x {len(MILESTONE_TYPES)} milestone types")
            results["dataset"] = load_dataset(database_url, batches, installations)
            log(f"  loaded in {results['dataset']['load_seconds']} s")

            log("3-5. GET /v1/metrics/aggregate against the seed's query")
            variants = []
            for hours in (24, 168, 8760):
                for version in (None, FILTER_VERSION):
                    params = {"hours": hours, **({"marcus_version": version} if version else {})}
                    ours = measure_aggregate(server.url, params, requests, warmup=10)
                    seed = measure_seed(database_url, hours, version, seed_repeat)
                    helper = run_django_helper(
                        __file__,
                        server.environment,
                        {
                            "hours": hours,
                            "marcus_version": version,
                            "repeat": max(10, requests // 4),
                        },
                    )
                    answer = ours.pop("answer", {})
                    variant = {
                        "hours": hours,
                        "marcus_version": version,
                        "active_installations": answer.get("active_installations"),
                        "milestone_rows_in_window": seed["milestone_rows_in_window"],
                        "http": ours,
                        "query_in_process": helper["in_process"],
                        "seed_query": {
                            k: v
                            for k, v in seed.items()
                            if k not in ("plan", "milestone_rows_in_window")
                        },
                        "ratio_seed_p50_over_http_p50": round(seed["p50_ms"] / ours["p50_ms"], 1),
                        "plans": helper["plans"],
                        "seed_plan": seed["plan"],
                    }
                    variants.append(variant)
                    log(
                        f"  hours={hours} version={version or '-'}: HTTP p50 {ours['p50_ms']} ms"
                        f" p90 {ours['p90_ms']} p99 {ours['p99_ms']} (query alone p50"
                        f" {helper['in_process']['p50_ms']}); seed p50 {seed['p50_ms']} ms;"
                        f" x{variant['ratio_seed_p50_over_http_p50']}"
                    )
            results["aggregate"] = variants
    results["load_average_at_end"] = os.getloadavg()
    return results


def print_summary(results: dict) -> None:
    print(
        f"\nCentral telemetry backend on {results['database']} ({results['machine']['cpus']} CPUs)"
    )
    print("\nPOST /v1/telemetry/batch (median of rounds)")
    print(
        f"{'concurrency':>11} {'batches/s':>10} {'x seed':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7}"
    )
    for row in results["ingest"]:
        print(
            f"{row['concurrency']:>11} {row['batches_per_s']:>10} {row['vs_seed']:>7} "
            f"{row['p50_ms']!s:>7} {row['p99_ms']!s:>7} {row['non_2xx']:>7}"
        )
    scale = results["ingest_scale_out"]
    print(
        f"two processes x c={scale['concurrency_per_process']}: {scale['batches_per_s']} "
        f"batches/s (x{scale['vs_seed']} the seed), errors {scale['errors']}"
    )
    data = results["dataset"]
    print(
        f"\nGET /v1/metrics/aggregate, {data['milestone_rows']:,} milestone rows in "
        f"{data['batches']:,} batches (loaded in {data['load_seconds']} s)"
    )
    print(
        f"{'window':<26} {'installs':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
        f"{'query ms':>8} {'seed p50':>9} {'ratio':>6}"
    )
    for variant in results["aggregate"]:
        label = f"hours={variant['hours']}" + (
            f", v{variant['marcus_version']}" if variant["marcus_version"] else ""
        )
        http = variant["http"]
        print(
            f"{label:<26} {variant['active_installations']!s:>8} {http['p50_ms']:>7} "
            f"{http['p90_ms']:>7} {http['p99_ms']:>7} "
            f"{variant['query_in_process']['p50_ms']:>8} {variant['seed_query']['p50_ms']:>9} "
            f"{variant['ratio_seed_p50_over_http_p50']:>6}"
        )
    first = results["aggregate"][0]
    print("\nPlans for hours=24 (the endpoint's two queries):")
    for plan in first["plans"]:
        print(plan, "\n")
    print(f"The seed's query, hours=24:\n{first['seed_plan']}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_loadgen":
        print(json.dumps(asyncio.run(_python_loadgen(json.loads(sys.argv[2])))))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "_django":
        print(json.dumps(_django_helper(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, short runs")
    parser.add_argument("--batches", type=int, help="batches to load (100,000; SQLite 20,000)")
    parser.add_argument("--concurrency", default="1,16,64", help="ingest concurrencies")
    parser.add_argument("--duration", type=float, help="seconds per ingest round (10)")
    parser.add_argument("--repeat", type=int, help="ingest rounds per concurrency (3)")
    parser.add_argument("--requests", type=int, help="aggregate requests per variant (200)")
    parser.add_argument("--seed-repeat", type=int, help="runs of the seed's query (10)")
    parser.add_argument("--loadgen", choices=["wrk", "python"], default="wrk")
    arguments = parser.parse_args()

    results = benchmark(arguments)
    print_summary(results)
    out = results_path("backend", results["database"], results["quick"])
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nResults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
