"""Benchmark: ``GET /api/cato/snapshot`` at 100 agents, 2,000 tasks, 50 features
(docs/benchmarks.md, "CATO snapshot").

Run from the repository root:

    .venv/bin/python bench/snapshot.py [--quick]                     # SQLite
    DATABASE_URL=postgres://... .venv/bin/python bench/snapshot.py    # PostgreSQL (the target)

The system is built through the API (system events in batches of 500), about half the tasks
assigned and a quarter completed, each task depending on up to two earlier ones; then the
snapshot is fetched sequentially through HTTP against one Daphne process.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import api_key, database_kind, figure, summary_ms, write_results

AGENTS, TASKS, FEATURES = 100, 2000, 50


def events() -> list[dict]:
    rng = random.Random(11)
    out = [{"event_type": "project_created", "event_data": {"project_id": "p", "name": "Shop"}}]
    out += [
        {
            "event_type": "agent_registered",
            "event_data": {
                "agent_id": f"a{i}",
                "name": f"Agent {i}",
                "role": "developer",
                "skills": ["python"],
            },
        }
        for i in range(AGENTS)
    ]
    out += [
        {
            "event_type": "feature_created",
            "event_data": {"feature_id": f"f{i}", "project_id": "p", "name": f"Feature {i}"},
        }
        for i in range(FEATURES)
    ]
    for i in range(TASKS):
        dependencies = sorted({f"t{rng.randrange(i)}" for _ in range(2)}) if i > 2 else []
        out.append(
            {
                "event_type": "task_created",
                "event_data": {
                    "task_id": f"t{i}",
                    "name": f"Task {i}",
                    "project_id": "p",
                    "feature_id": f"f{i % FEATURES}",
                    "dependencies": dependencies,
                    "estimated_hours": rng.choice([1, 2, 4, 8]),
                    "priority": rng.choice(["low", "medium", "high", "urgent"]),
                },
            }
        )
    for i in range(0, TASKS, 2):
        agent = f"a{rng.randrange(AGENTS)}"
        out.append(
            {"event_type": "task_assigned", "event_data": {"task_id": f"t{i}", "agent_id": agent}}
        )
        if i % 4 == 0:
            out.append(
                {
                    "event_type": "task_completed",
                    "event_data": {"task_id": f"t{i}", "agent_id": agent},
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timed requests")
    arguments = parser.parse_args()
    import httpx

    from tests.e2e.server import running_server

    with tempfile.TemporaryDirectory() as scratch, running_server(Path(scratch)) as server:
        key = api_key(server.environment)
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
        )
        all_events = events()
        start = time.perf_counter()
        for offset in range(0, len(all_events), 500):
            response = client.post(
                "/api/cato/events/", json={"events": all_events[offset : offset + 500]}
            )
            assert response.status_code == 201, response.text[:500]
        build_seconds = time.perf_counter() - start
        body = client.get("/api/cato/snapshot").json()["snapshot"]
        assert len(body["nodes"]["tasks"]) == TASKS
        durations, sizes = [], []
        for _ in range(30 if arguments.quick else 200):
            started = time.perf_counter()
            response = client.get("/api/cato/snapshot")
            durations.append(time.perf_counter() - started)
            sizes.append(len(response.content))
        results = {
            "quick": arguments.quick,
            "agents": AGENTS,
            "tasks": TASKS,
            "features": FEATURES,
            "dependencies": len(body["edges"]["task_dependencies"]),
            "system_events_applied": len(all_events),
            "build_events_per_s": round(len(all_events) / build_seconds),
            "response_kb": round(sizes[-1] / 1024),
            "snapshot": summary_ms(durations),
        }
    postgres = database_kind() == "postgresql"
    p50 = results["snapshot"]["p50_ms"]
    results["summary"] = [
        figure(
            "snapshot p50 (100 agents, 2,000 tasks, 50 features)",
            p50,
            "ms",
            "<= 50 (PostgreSQL)",
            p50 <= 50 if postgres else None,
        ),
        figure("snapshot p99", results["snapshot"]["p99_ms"], "ms"),
        figure("response size", results["response_kb"], "KB"),
        figure(
            "system events applied through the API (batches of 500)",
            results["build_events_per_s"],
            "events/s",
        ),
    ]
    print(json.dumps(results, indent=2))
    print("results:", write_results("snapshot", results), "database:", database_kind())


if __name__ == "__main__":
    main()
