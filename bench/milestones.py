"""Benchmark: journey milestones through a real Daphne (docs/benchmarks.md, "Journey milestones").

Run from the repository root:

    .venv/bin/python bench/milestones.py [--quick]                 # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marcus .venv/bin/python bench/milestones.py

What it does, on one Daphne process serving a fresh, migrated database of the chosen kind
(tests.e2e.server.running_server; a PostgreSQL database is created and dropped afterwards):

1. start+complete pairs per second through HTTP, from a load generator in a separate process
   (wrk with a Lua script; asyncio + httpx with --client httpx or without wrk), at several
   concurrencies, for a fixed duration each;
2. loads 1,000,000 milestones straight into the database (PostgreSQL COPY, SQLite executemany),
   started over the last 30 days, then measures GET /api/cato/metrics/journey (sequential
   requests) for several windows and a milestone type, and the query alone in-process;
3. the worst case: the table replaced by 1,000,000 milestones all started in the last 7 days,
   so that hours=168 covers every row; measured again;
4. EXPLAIN (ANALYZE, BUFFERS) of the SQL Django runs (PostgreSQL), EXPLAIN QUERY PLAN (SQLite).

It prints a summary table and writes bench/results/milestones-<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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

TABLE = "telemetry_milestone"
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
FILTER_TYPE = "task_assignment"
STATUS_WEIGHTS = (("completed", 0.70), ("failed", 0.15), ("started", 0.15))
MILESTONES_PER_SESSION = 5
COLUMNS = (
    "id",
    "session_id",
    "milestone_name",
    "milestone_type",
    "status",
    "started_at",
    "ended_at",
    "duration_seconds",
    "metadata",
    "error_message",
)


# --------------------------------------------------------------------------------------------
# Small helpers


def median_of(rounds: list[dict], key: str) -> float:
    return round(statistics.median(one[key] for one in rounds), 2)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# 1. The load generator (runs in its own process: `milestones.py _loadgen '<json config>'`)


async def _loadgen(config: dict) -> dict:
    import httpx

    concurrency = config["concurrency"]
    headers = {"Authorization": f"Bearer {config['key']}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    start_latencies: list[float] = []
    complete_latencies: list[float] = []
    statuses: Counter = Counter()
    unexpected: Counter = Counter()
    errors: Counter = Counter()
    pairs = 0
    recording = False

    async with httpx.AsyncClient(
        base_url=config["url"], headers=headers, limits=limits, timeout=60
    ) as client:

        async def one_pair(worker: int, serial: int) -> bool:
            body = {
                "session_id": f"bench-w{worker}-{serial // MILESTONES_PER_SESSION}",
                "milestone_name": "Create the project",
                "milestone_type": MILESTONE_TYPES[serial % len(MILESTONE_TYPES)],
            }
            began = time.perf_counter()
            response = await client.post("/api/telemetry/milestones/", json=body)
            took = time.perf_counter() - began
            if recording:
                start_latencies.append(took)
                statuses[f"start {response.status_code}"] += 1
            if response.status_code != 201:
                if recording:
                    unexpected[f"start {response.status_code}"] += 1
                return False
            milestone_id = response.json()["milestone_id"]
            began = time.perf_counter()
            response = await client.post(f"/api/telemetry/milestones/{milestone_id}/complete/")
            took = time.perf_counter() - began
            if recording:
                complete_latencies.append(took)
                statuses[f"complete {response.status_code}"] += 1
            if response.status_code != 200:
                if recording:
                    unexpected[f"complete {response.status_code}"] += 1
                return False
            return True

        async def worker(number: int, deadline: float) -> None:
            nonlocal pairs
            serial = 0
            while time.perf_counter() < deadline:
                serial += 1
                try:
                    done = await one_pair(number, serial)
                except httpx.HTTPError as error:
                    if recording:
                        errors[type(error).__name__] += 1
                    continue
                if done and recording:
                    pairs += 1

        warm_deadline = time.perf_counter() + config["warmup"]
        await asyncio.gather(*(worker(number, warm_deadline) for number in range(concurrency)))
        recording = True
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        deadline = began + config["duration"]
        await asyncio.gather(*(worker(number, deadline) for number in range(concurrency)))
        elapsed = time.perf_counter() - began
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)

    requests = len(start_latencies) + len(complete_latencies)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    return {
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "pairs": pairs,
        "pairs_per_s": round(pairs / elapsed, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "all_requests": summary_ms(start_latencies + complete_latencies),
        "start": summary_ms(start_latencies),
        "complete": summary_ms(complete_latencies),
        "statuses": dict(statuses),
        "unexpected_statuses": dict(unexpected),
        "transport_errors": dict(errors),
        "client_cpu_percent": round(100 * client_cpu / elapsed, 1),
    }


# The same load from wrk (C, one thread): a start's id (from its 201) is queued, and the next
# request sent on any connection completes the oldest queued milestone, else starts a new one.
# Statuses are counted per thread; pairs are the 200s (only a complete answers 200).
WRK_SCRIPT = r"""
local key = os.getenv("BENCH_API_KEY")
local threads = {}
local json_headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
local auth_headers = {["Authorization"] = "Bearer " .. key}
local types = {TYPES}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  queue = {}
  head = 1
  tail = 0
  counts = {}
  serial = 0
end

function request()
  if head <= tail then
    local id = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", "/api/telemetry/milestones/" .. id .. "/complete/", auth_headers, "")
  end
  serial = serial + 1
  local body = string.format(
    '{"session_id": "bench-t%d-%d", "milestone_name": "Create the project", ' ..
    '"milestone_type": "%s"}', number, math.floor(serial / 5), types[serial % #types + 1])
  return wrk.format("POST", "/api/telemetry/milestones/", json_headers, body)
end

function response(status, headers, body)
  local name = tostring(status)
  counts[name] = (counts[name] or 0) + 1
  if status == 201 then
    local id = string.match(body, '"milestone_id":%s*"([0-9a-f-]+)"')
    if id then
      tail = tail + 1
      queue[tail] = id
    end
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for name, number in pairs(thread:get("counts")) do
      merged[name] = (merged[name] or 0) + number
    end
  end
  local parts = {}
  for name, number in pairs(merged) do
    parts[#parts + 1] = string.format('"%s": %d', name, number)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "requests": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "mean_us": %.1f, "max_us": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def run_wrk(url: str, key: str, concurrency: int, duration: float, warmup: float, pid: int):
    types = "{" + ", ".join(f'"{kind}"' for kind in MILESTONE_TYPES) + "}"
    with tempfile.TemporaryDirectory(prefix="marcus-bench-wrk-") as folder:
        script = Path(folder) / "milestones.lua"
        script.write_text(WRK_SCRIPT.replace("{TYPES}", types))
        environment = {**os.environ, "BENCH_API_KEY": key}

        def wrk(seconds: float) -> subprocess.CompletedProcess:
            return subprocess.run(
                [
                    "wrk",
                    "--threads",
                    "1",
                    "--connections",
                    str(concurrency),
                    "--duration",
                    f"{max(seconds, 1):.0f}s",
                    "--timeout",
                    "60s",
                    "--script",
                    str(script),
                    url + "/",
                ],
                env=environment,
                capture_output=True,
                text=True,
                timeout=seconds + 300,
            )

        wrk(warmup)
        server_cpu_before = process_cpu_seconds(pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = wrk(duration)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = process_cpu_seconds(pid) - server_cpu_before
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    raw = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    elapsed = raw["duration_us"] / 1e6
    statuses = {str(code): number for code, number in raw["statuses"].items()}
    unexpected = {code: number for code, number in statuses.items() if code not in ("200", "201")}
    client_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    pairs = statuses.get("200", 0)
    errors = {name: number for name, number in raw["errors"].items() if name != "status"}
    return {
        "client": "wrk",
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "pairs": pairs,
        "pairs_per_s": round(pairs / elapsed, 1),
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / elapsed, 1),
        "all_requests": {
            "count": raw["requests"],
            "p50_ms": round(raw["p50_us"] / 1000, 2),
            "p90_ms": round(raw["p90_us"] / 1000, 2),
            "p99_ms": round(raw["p99_us"] / 1000, 2),
            "mean_ms": round(raw["mean_us"] / 1000, 2),
        },
        "statuses": statuses,
        "unexpected_statuses": unexpected,
        "transport_errors": {name: number for name, number in errors.items() if number},
        "client_cpu_percent": round(100 * client_cpu / elapsed, 1),
        "server_cpu_percent": round(100 * server_cpu / elapsed, 1),
    }


def run_httpx(url: str, key: str, concurrency: int, duration: float, warmup: float, pid: int):
    config = {
        "url": url,
        "key": key,
        "concurrency": concurrency,
        "duration": duration,
        "warmup": warmup,
    }
    # The server's CPU is read around the whole child run; the measured window is most of it.
    server_cpu_before = process_cpu_seconds(pid)
    wall_before = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "_loadgen", json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + warmup + 300,
    )
    wall = time.perf_counter() - wall_before
    server_cpu = process_cpu_seconds(pid) - server_cpu_before
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr}")
    result = json.loads(completed.stdout)
    result["client"] = "httpx"
    result["server_cpu_percent"] = round(100 * server_cpu / wall, 1)
    return result


# --------------------------------------------------------------------------------------------
# 2. Bulk loading straight into the server's database


def generate_rows(count: int, *, now: datetime, span: timedelta, seed: int):
    """Yields tuples in COLUMNS order with Python values (datetimes aware, UTC)."""
    generator = random.Random(seed)
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    span_seconds = span.total_seconds()
    # Oldest first, as a live server inserts them: the table's physical order follows started_at.
    ages = sorted((generator.random() * span_seconds for _ in range(count)), reverse=True)
    for index, age in enumerate(ages):
        started_at = now - timedelta(seconds=age)
        milestone_type = MILESTONE_TYPES[generator.randrange(len(MILESTONE_TYPES))]
        status = generator.choices(statuses, weights)[0]
        if status == "started":
            ended_at = duration = None
            error = ""
        else:
            # Log-normal durations, median 30 s; a milestone cannot end in the future.
            limit = (now - started_at).total_seconds()
            duration = min(generator.lognormvariate(3.4, 1.2), limit)
            ended_at = started_at + timedelta(seconds=duration)
            error = "Timed out creating the board" if status == "failed" else ""
        yield (
            uuid.UUID(int=generator.getrandbits(128), version=4),
            f"bench-session-{seed}-{index // MILESTONES_PER_SESSION}",
            milestone_type.replace("_", " ").capitalize(),
            milestone_type,
            status,
            started_at,
            ended_at,
            duration,
            "{}",
            error,
        )


def load_postgres(database_url: str, rows, count: int) -> None:
    import psycopg

    def text(row) -> str:
        id_, session, name, kind, status, started, ended, duration, metadata, error = row
        return "\t".join(
            (
                str(id_),
                session,
                name,
                kind,
                status,
                started.isoformat(),
                ended.isoformat() if ended else "\\N",
                repr(duration) if duration is not None else "\\N",
                metadata,
                error,
            )
        )

    with psycopg.connect(database_url) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                chunk: list[str] = []
                for done, row in enumerate(rows, 1):
                    chunk.append(text(row))
                    if len(chunk) == 20_000:
                        copy.write("\n".join(chunk) + "\n")
                        chunk.clear()
                        if done % 200_000 == 0:
                            log(f"  COPY {done:,}/{count:,}")
                if chunk:
                    copy.write("\n".join(chunk) + "\n")
        connection.commit()
    with psycopg.connect(database_url, autocommit=True) as connection:
        # VACUUM sets the visibility map, so index-only scans need no heap fetches; without it
        # autovacuum does the same at some moment during the measurements (it triggers after
        # this many inserts), which would make them depend on timing.
        connection.execute(f"VACUUM (ANALYZE) {TABLE}")


def sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def sqlite_datetime(value: datetime | None) -> str | None:
    # What Django stores: naive UTC text, str(datetime) (operations.adapt_datetimefield_value).
    return None if value is None else str(value.replace(tzinfo=None))


def load_sqlite(database_url: str, rows, count: int) -> None:
    import sqlite3

    connection = sqlite3.connect(sqlite_path(database_url), timeout=60, isolation_level=None)
    try:
        placeholders = ", ".join("?" for _ in COLUMNS)
        statement = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        batch: list[tuple] = []

        def flush() -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(statement, batch)
            connection.execute("COMMIT")
            batch.clear()

        for done, row in enumerate(rows, 1):
            id_, session, name, kind, status, started, ended, duration, metadata, error = row
            batch.append(
                (
                    id_.hex,  # Django stores a UUIDField as 32 hex digits on SQLite
                    session,
                    name,
                    kind,
                    status,
                    sqlite_datetime(started),
                    sqlite_datetime(ended),
                    duration,
                    metadata,
                    error,
                )
            )
            if len(batch) == 100_000:
                flush()
                log(f"  INSERT {done:,}/{count:,}")
        if batch:
            flush()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def empty_table(database_url: str) -> None:
    if is_postgres(database_url):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"TRUNCATE {TABLE}")
    else:
        import sqlite3

        connection = sqlite3.connect(sqlite_path(database_url), timeout=60, isolation_level=None)
        try:
            connection.execute(f"DELETE FROM {TABLE}")
            connection.execute("VACUUM")
        finally:
            connection.close()


def load_dataset(database_url: str, count: int, span: timedelta, seed: int) -> dict:
    now = datetime.now(UTC)
    rows = generate_rows(count, now=now, span=span, seed=seed)
    began = time.perf_counter()
    if is_postgres(database_url):
        load_postgres(database_url, rows, count)
    else:
        load_sqlite(database_url, rows, count)
    return {
        "rows": count,
        "started_over_hours": round(span.total_seconds() / 3600, 2),
        "loaded_at": now.isoformat(),
        "load_seconds": round(time.perf_counter() - began, 1),
    }


# --------------------------------------------------------------------------------------------
# 3. Journey metrics latency through HTTP


def measure_metrics(url: str, key: str, params: dict, requests: int, warmup: int) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: Counter = Counter()
    body = None
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        for _ in range(warmup):
            client.get("/api/cato/metrics/journey", params=params)
        for _ in range(requests):
            began = time.perf_counter()
            response = client.get("/api/cato/metrics/journey", params=params)
            latencies.append(time.perf_counter() - began)
            statuses[response.status_code] += 1
            body = response
    result = summary_ms(latencies)
    result["statuses"] = {str(code): number for code, number in statuses.items()}
    if body is not None and body.status_code == 200:
        result["metrics"] = body.json()["metrics"]
    return result


# --------------------------------------------------------------------------------------------
# 4. The query Django runs: EXPLAIN, and its time in-process (`milestones.py _django ...`)


def _django_helper(config: dict) -> dict:
    setup_django_helper()
    from django.db import connection

    from telemetry.selectors import journey_metrics

    arguments = {"hours": config["hours"], "milestone_type": config.get("milestone_type")}
    captured, timings = queries_and_timings(lambda: journey_metrics(**arguments), config["repeat"])
    sql, params = captured[-1]
    plan = query_plan(sql, params)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            literal_sql = cursor.cursor.mogrify(sql, params)
    else:
        literal_sql = sql % tuple(
            "'" + str(value).replace("'", "''") + "'" if isinstance(value, str) else value
            for value in params
        )
    return {
        "arguments": arguments,
        "sql": literal_sql,
        "plan": plan,
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
    }
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    return info


def code_state() -> dict:
    """The commit measured, and the files changed on top of it (read-only git commands)."""

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


def postgres_version(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def metrics_variants(dataset: str) -> list[tuple[str, dict]]:
    if dataset == "spread_30d":
        return [
            ("hours=24 (default)", {}),
            ("hours=168", {"hours": 168}),
            (f"hours=24, milestone_type={FILTER_TYPE}", {"milestone_type": FILTER_TYPE}),
            (
                f"hours=168, milestone_type={FILTER_TYPE}",
                {"hours": 168, "milestone_type": FILTER_TYPE},
            ),
        ]
    return [
        ("hours=168 (all rows)", {"hours": 168}),
        ("hours=24", {}),
        (
            f"hours=168, milestone_type={FILTER_TYPE}",
            {"hours": 168, "milestone_type": FILTER_TYPE},
        ),
    ]


def benchmark(arguments: argparse.Namespace) -> dict:
    from tests.e2e.server import manage, running_server

    database_kind = "postgres" if is_postgres(os.environ.get("DATABASE_URL", "")) else "sqlite"
    quick = arguments.quick
    duration = arguments.duration or (2.0 if quick else 10.0)
    warmup = 0.5 if quick else 1.0
    repeat = arguments.repeat or (1 if quick else 3)
    rows = arguments.rows or (50_000 if quick else 1_000_000)
    requests = arguments.requests or (50 if quick else 200)
    concurrencies = [int(value) for value in arguments.concurrency.split(",")]
    client = arguments.client or ("wrk" if shutil.which("wrk") else "httpx")
    run_load = run_wrk if client == "wrk" else run_httpx

    results: dict = {
        "benchmark": "milestones",
        "database": database_kind,
        "quick": quick,
        "machine": machine(),
        "code": code_state(),
        "settings": {
            "duration_s": duration,
            "warmup_s": warmup,
            "repeat": repeat,
            "rows": rows,
            "metrics_requests": requests,
            "concurrencies": concurrencies,
            "load_generator": client,
            "redis": bool(os.environ.get("REDIS_URL")),
        },
    }
    with tempfile.TemporaryDirectory(prefix="marcus-bench-") as scratch:
        with running_server(Path(scratch)) as server:
            environment = server.environment
            database_url = environment["DATABASE_URL"]
            if database_kind == "postgres":
                results["machine"]["postgres"] = postgres_version(database_url)
            key = manage(environment, "create_api_key", "bench").strip().splitlines()[-1]
            pid = server.process.pid
            log(f"Daphne pid {pid} on {server.url}, {database_kind}")

            # 1. start+complete pairs per second
            throughput = []
            for concurrency in concurrencies:
                rounds = []
                for number in range(repeat):
                    one = run_load(server.url, key, concurrency, duration, warmup, pid)
                    rounds.append(one)
                    log(
                        f"  pairs c={concurrency} round {number + 1}: {one['pairs_per_s']}/s, "
                        f"p50 {one['all_requests']['p50_ms']} ms, "
                        f"p99 {one['all_requests']['p99_ms']} ms, "
                        f"unexpected {one['unexpected_statuses']}"
                    )
                throughput.append(
                    {
                        "concurrency": concurrency,
                        "pairs_per_s": median_of(rounds, "pairs_per_s"),
                        "requests_per_s": median_of(rounds, "requests_per_s"),
                        "p50_ms": round(
                            statistics.median(one["all_requests"]["p50_ms"] for one in rounds), 2
                        ),
                        "p99_ms": round(
                            statistics.median(one["all_requests"]["p99_ms"] for one in rounds), 2
                        ),
                        "unexpected_statuses": sum(
                            sum(one["unexpected_statuses"].values())
                            + sum(one["transport_errors"].values())
                            for one in rounds
                        ),
                        "server_cpu_percent": median_of(rounds, "server_cpu_percent"),
                        "client_cpu_percent": median_of(rounds, "client_cpu_percent"),
                        "rounds": rounds,
                    }
                )
            results["pairs"] = throughput

            # 2-4. journey metrics on two data sets
            results["metrics"] = []
            for dataset, span in (
                ("spread_30d", timedelta(days=30)),
                ("all_in_7d", timedelta(hours=167)),
            ):
                empty_table(database_url)
                if dataset == "spread_30d":
                    # The fixed cost of the endpoint (HTTP, Daphne, auth, DRF) on an empty table.
                    rounds = [
                        measure_metrics(server.url, key, {}, requests, warmup=10)
                        for _ in range(repeat)
                    ]
                    results["metrics_empty_table"] = {
                        "p50_ms": median_of(rounds, "p50_ms"),
                        "p90_ms": median_of(rounds, "p90_ms"),
                        "p99_ms": median_of(rounds, "p99_ms"),
                        "rounds": rounds,
                    }
                    log(f"  empty table: p50 {results['metrics_empty_table']['p50_ms']} ms")
                log(f"Loading {rows:,} milestones ({dataset})")
                loaded = load_dataset(
                    database_url, rows, span, seed=1 if dataset == "spread_30d" else 2
                )
                log(f"  loaded in {loaded['load_seconds']} s")
                entry = {"dataset": dataset, "load": loaded, "variants": []}
                for label, params in metrics_variants(dataset):
                    rounds = [
                        measure_metrics(server.url, key, params, requests, warmup=10)
                        for _ in range(repeat)
                    ]
                    explain = run_django_helper(
                        __file__,
                        environment,
                        {
                            "hours": params.get("hours", 24),
                            "milestone_type": params.get("milestone_type"),
                            "repeat": max(requests // 4, 10),
                        },
                    )
                    statuses = Counter()
                    for one in rounds:
                        statuses.update(one["statuses"])
                    variant = {
                        "label": label,
                        "params": params,
                        "rows_in_window": rounds[-1].get("metrics", {}).get("total_milestones"),
                        "p50_ms": median_of(rounds, "p50_ms"),
                        "p90_ms": median_of(rounds, "p90_ms"),
                        "p99_ms": median_of(rounds, "p99_ms"),
                        "statuses": dict(statuses),
                        "query_in_process_p50_ms": explain["in_process"]["p50_ms"],
                        "rounds": rounds,
                        "explain": explain,
                    }
                    entry["variants"].append(variant)
                    log(
                        f"  {label}: {variant['rows_in_window']} rows, p50 {variant['p50_ms']} "
                        f"ms, p90 {variant['p90_ms']} ms, p99 {variant['p99_ms']} ms "
                        f"(query alone p50 {variant['query_in_process_p50_ms']} ms)"
                    )
                results["metrics"].append(entry)
    results["load_average_at_end"] = os.getloadavg()
    return results


def print_summary(results: dict) -> None:
    kind = results["database"]
    print(f"\nJourney milestones on {kind} ({results['machine']['cpus']} CPUs)")
    print("\nstart+complete pairs through HTTP (median of rounds; latency per request)")
    header = f"{'concurrency':>11} {'pairs/s':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    print(header + f" {'non-2xx':>7} {'server CPU':>10} {'client CPU':>10}")
    for row in results["pairs"]:
        print(
            f"{row['concurrency']:>11} {row['pairs_per_s']:>8} {row['requests_per_s']:>7} "
            f"{row['p50_ms']:>7} {row['p99_ms']:>7} {row['unexpected_statuses']:>7} "
            f"{row['server_cpu_percent']:>9}% {row['client_cpu_percent']:>9}%"
        )
    empty = results["metrics_empty_table"]
    print(
        f"\nGET /api/cato/metrics/journey on an empty table: p50 {empty['p50_ms']} ms, "
        f"p90 {empty['p90_ms']} ms, p99 {empty['p99_ms']} ms"
    )
    for entry in results["metrics"]:
        load = entry["load"]
        print(
            f"\nGET /api/cato/metrics/journey, {load['rows']:,} rows started over the last "
            f"{load['started_over_hours']} h (loaded in {load['load_seconds']} s)"
        )
        print(
            f"{'variant':<40} {'rows in window':>14} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
            f"{'query alone p50':>15}"
        )
        for variant in entry["variants"]:
            print(
                f"{variant['label']:<40} {variant['rows_in_window']!s:>14} "
                f"{variant['p50_ms']:>7} {variant['p90_ms']:>7} {variant['p99_ms']:>7} "
                f"{variant['query_in_process_p50_ms']:>15}"
            )
    first = results["metrics"][0]["variants"][0]
    print(f"\nPlan for {first['label']} ({kind}):\n{first['explain']['plan']}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_loadgen":
        print(json.dumps(asyncio.run(_loadgen(json.loads(sys.argv[2])))))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "_django":
        print(json.dumps(_django_helper(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, 50,000 rows, 1 round")
    parser.add_argument("--concurrency", default="1,10,32", help="comma-separated (1,10,32)")
    parser.add_argument("--duration", type=float, help="seconds per throughput round (10)")
    parser.add_argument("--repeat", type=int, help="rounds per measurement, medians kept (3)")
    parser.add_argument("--rows", type=int, help="milestones to load (1,000,000)")
    parser.add_argument("--requests", type=int, help="metrics requests per round (200)")
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        help="load generator for the pairs: wrk (the default when installed) or asyncio httpx",
    )
    arguments = parser.parse_args()

    results = benchmark(arguments)
    print_summary(results)
    out = results_path("milestones", results["database"], results["quick"])
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
