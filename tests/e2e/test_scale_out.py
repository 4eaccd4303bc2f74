"""Several Daphne processes sharing PostgreSQL and Redis (overview.md, scale-out): an event
posted to one process reaches the websocket clients of another; a client whose process is
killed mid-stream reconnects to another with since_id and misses nothing."""

import asyncio
import json
import os
import threading
import time

import httpx
import pytest
import websockets

from tests.e2e.server import manage, running_servers

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis channel layer"),
]


def agent_event(index: int) -> dict:
    return {
        "event_type": "agent_registered",
        "event_data": {"agent_id": f"agent-{index}", "name": f"Agent {index}", "role": "dev"},
    }


def post(server, key: str, body: dict) -> httpx.Response:
    response = httpx.post(
        f"{server.url}/api/cato/events/",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response


async def frames(websocket, count: int, timeout: float = 20) -> list[dict]:
    received = []
    async with asyncio.timeout(timeout):
        while len(received) < count:
            frame = json.loads(await websocket.recv())
            if frame["type"] == "event":
                received.append(frame)
    return received


def test_an_event_posted_to_one_process_reaches_clients_of_another(tmp_path):
    with running_servers(tmp_path, 2, MARCUS_SUBSCRIBER_TTL_SECONDS="3") as (first, second):
        key = manage(first.environment, "create_api_key", "e2e").strip().splitlines()[-1]

        async def scenario():
            async with websockets.connect(f"{second.ws_url}/ws/cato/events/?token={key}") as ws:
                assert json.loads(await ws.recv())["type"] == "connected"
                subscribers = httpx.get(
                    f"{first.url}/api/cato/events/subscribers",
                    headers={"Authorization": f"Bearer {key}"},
                ).json()
                assert subscribers["subscriber_count"] == 1  # counted from the other process
                await asyncio.to_thread(post, first, key, agent_event(1))
                (frame,) = await frames(ws, 1)
                assert frame["event_data"]["agent_id"] == "agent-1"

        asyncio.run(scenario())

        # A killed process's subscriber drops out of the count once its entry expires.
        async def connect_and_hold(ready: threading.Event, stop: threading.Event):
            async with websockets.connect(f"{second.ws_url}/ws/cato/events/?token={key}") as ws:
                await ws.recv()
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        ready, stop = threading.Event(), threading.Event()
        holder = threading.Thread(target=lambda: asyncio.run(connect_and_hold(ready, stop)))
        holder.start()
        assert ready.wait(10)
        count = lambda: httpx.get(  # noqa: E731
            f"{first.url}/api/cato/events/subscribers",
            headers={"Authorization": f"Bearer {key}"},
        ).json()["subscriber_count"]
        assert count() == 1
        second.kill()
        stop.set()
        holder.join(10)
        deadline = time.monotonic() + 10
        while count() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert count() == 0


def test_a_client_of_a_killed_process_resumes_on_another_without_loss(tmp_path):
    with running_servers(tmp_path, 2) as (first, second):
        key = manage(first.environment, "create_api_key", "e2e").strip().splitlines()[-1]
        total = 300
        posted: list[int] = []

        def publish():
            for start in range(0, total, 10):
                body = {"events": [agent_event(i) for i in range(start, start + 10)]}
                posted.extend(e["id"] for e in post(second, key, body).json()["events"])
                time.sleep(0.02)

        async def scenario() -> list[int]:
            received: list[int] = []
            publisher = asyncio.create_task(asyncio.to_thread(publish))
            async with websockets.connect(f"{first.ws_url}/ws/cato/events/?token={key}") as ws:
                assert json.loads(await ws.recv())["type"] == "connected"
                received += [f["id"] for f in await frames(ws, 50)]
                first.kill()  # mid-stream
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "event":
                            received.append(frame["id"])
            await publisher
            since = received[-1]
            url = f"{second.ws_url}/ws/cato/events/?token={key}&since_id={since}"
            async with websockets.connect(url) as ws:
                assert json.loads(await ws.recv())["type"] == "connected"
                remaining = len([i for i in posted if i > since])
                received += [f["id"] for f in await frames(ws, remaining)]
            return received

        received = asyncio.run(scenario())
        assert len(posted) == total
        assert received == sorted(received)
        assert received == [i for i in posted if i >= received[0]]
        assert received[0] == posted[0]
