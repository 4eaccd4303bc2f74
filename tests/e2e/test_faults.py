"""Faults survived (issue: operations): the database down, Redis down; the same process serves
again when they are back, and nothing stored is lost. (A Daphne process killed during load:
tests/e2e/test_scale_out.py.)"""

import asyncio
import json
import os
import sqlite3
import time

import httpx
import pytest
import websockets

from tests.e2e.server import DaphneServer, base_environment, manage
from tests.e2e.services import private_postgres, private_redis

pytestmark = pytest.mark.e2e

MILESTONE = {"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def wait_for(check, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds} s")


def writes(server, key: str) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {key}"}
    return [
        httpx.post(
            f"{server.url}/api/telemetry/milestones/", json=MILESTONE, headers=headers, timeout=60
        ),
        httpx.post(
            f"{server.url}/api/research/events/",
            headers=headers,
            timeout=60,
            json={
                "event_type": "performance_metric",
                "session_id": "s",
                "event_data": {"metric_name": "m", "metric_value": 1},
            },
        ),
        httpx.post(
            f"{server.url}/api/cato/events/",
            headers=headers,
            timeout=60,
            json={
                "event_type": "agent_registered",
                "event_data": {"agent_id": "a", "name": "A", "role": "dev"},
            },
        ),
    ]


def health(server) -> httpx.Response:
    return httpx.get(f"{server.url}/health", timeout=30)


def assert_database_down(server, key: str) -> None:
    down = wait_for(lambda: (r := health(server)).status_code == 503 and r)
    assert down.json()["checks"]["database"].startswith("unavailable")
    for response in writes(server, key):
        assert response.status_code == 503, response.text
        assert "database" in response.json()["detail"].lower()
        assert response.headers["Retry-After"]


def assert_serving(server, key: str) -> None:
    wait_for(lambda: health(server).status_code == 200)
    assert [response.status_code for response in writes(server, key)] == [201, 201, 201]


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL run stops PostgreSQL")
def test_postgresql_stopped_then_back(tmp_path):
    with private_postgres() as postgres:
        environment = base_environment(
            tmp_path, DATABASE_URL=postgres.url, MARCUS_DB_POOL_TIMEOUT="2"
        )
        environment.pop("REDIS_URL", None)
        manage(environment, "migrate", "--noinput")
        key = manage(environment, "create_api_key", "faults").strip().splitlines()[-1]
        server = DaphneServer(environment).start()
        try:
            assert_serving(server, key)
            postgres.stop()
            assert_database_down(server, key)
            postgres.start()
            assert_serving(server, key)  # the same process, no restart
        finally:
            server.stop()


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite run locks the SQLite file")
def test_sqlite_file_locked_then_released(tmp_path):
    environment = base_environment(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    environment.pop("REDIS_URL", None)
    manage(environment, "migrate", "--noinput")
    key = manage(environment, "create_api_key", "faults").strip().splitlines()[-1]
    server = DaphneServer(environment).start()
    try:
        assert_serving(server, key)
        locker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        assert_database_down(server, key)
        locker.execute("ROLLBACK")
        locker.close()
        assert_serving(server, key)
    finally:
        server.stop()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis run stops Redis")
def test_redis_down_writes_stored_and_the_feed_catches_up(tmp_path):
    with private_redis() as redis_server:
        from tests.e2e.server import scratch_database

        with scratch_database(tmp_path) as database_url:
            environment = base_environment(
                tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_server.url
            )
            manage(environment, "migrate", "--noinput")
            key = manage(environment, "create_api_key", "faults").strip().splitlines()[-1]
            server = DaphneServer(environment).start()
            headers = {"Authorization": f"Bearer {key}"}
            feed_url = f"{server.ws_url}/ws/cato/events/?token={key}"

            def post(index: int) -> int:
                response = httpx.post(
                    f"{server.url}/api/cato/events/",
                    headers=headers,
                    json={
                        "event_type": "agent_registered",
                        "event_data": {"agent_id": f"a{index}", "name": "A", "role": "dev"},
                    },
                )
                assert response.status_code == 201, response.text
                return response.json()["id"]

            async def scenario():
                async with websockets.connect(feed_url) as ws:
                    assert json.loads(await ws.recv())["type"] == "connected"
                    before = await asyncio.to_thread(post, 0)
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    assert frame["id"] == before
                    redis_server.stop()
                    during = [await asyncio.to_thread(post, i) for i in range(1, 6)]
                    down = await asyncio.to_thread(health, server)
                    assert down.status_code == 503
                    assert down.json()["checks"]["database"] == "ok"
                    assert down.json()["checks"]["channel_layer"].startswith("unavailable")
                    subscribers = await asyncio.to_thread(
                        httpx.get, f"{server.url}/api/cato/events/subscribers", headers=headers
                    )
                    assert subscribers.status_code == 503
                redis_server.start()
                await asyncio.to_thread(wait_for, lambda: health(server).status_code == 200)
                async with websockets.connect(f"{feed_url}&since_id={before}") as ws:
                    assert json.loads(await ws.recv())["type"] == "connected"
                    caught_up = [
                        json.loads(await asyncio.wait_for(ws.recv(), 10))["id"] for _ in during
                    ]
                    assert caught_up == during
                    after = await asyncio.to_thread(post, 99)
                    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["id"] == after

            try:
                asyncio.run(scenario())
            finally:
                server.stop()
