"""Under Daphne with PostgreSQL, database connections stay bounded by the pool, whatever the
number of requests."""

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from tests.e2e.server import manage, running_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="measures PostgreSQL connections",
    ),
]

POOL_MAX = 6


def server_connections(database_url: str) -> int:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        urlunsplit(parts._replace(path="/postgres")), autocommit=True
    ) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchone()
    return row[0]


async def hammer(url: str, key: str, total: int, concurrency: int) -> list[int]:
    statuses: list[int] = []
    headers = {"Authorization": f"Bearer {key}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            if index % 2:
                response = await client.get(f"{url}/api/cato/metrics/journey", headers=headers)
            else:
                response = await client.post(
                    f"{url}/api/telemetry/milestones/",
                    json={
                        "session_id": f"s{index}",
                        "milestone_name": "n",
                        "milestone_type": "deployment",
                    },
                    headers=headers,
                )
            statuses.append(response.status_code)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return statuses


def test_connections_stay_bounded_after_2000_requests(tmp_path):
    with running_server(tmp_path, MARCUS_DB_POOL_MAX=str(POOL_MAX)) as server:
        database_url = server.environment["DATABASE_URL"]
        key = manage(server.environment, "create_api_key", "load").strip().splitlines()[-1]
        statuses = asyncio.run(hammer(server.url, key, total=2000, concurrency=20))
        assert len(statuses) == 2000
        assert set(statuses) <= {200, 201}, set(statuses)
        after = server_connections(database_url)
        assert after <= POOL_MAX, f"{after} connections after 2,000 requests"
        statuses = asyncio.run(hammer(server.url, key, total=500, concurrency=50))
        assert set(statuses) <= {200, 201}
        assert server_connections(database_url) <= POOL_MAX
