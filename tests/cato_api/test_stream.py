"""The live feed as server-sent events, through the real ASGI application."""

import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator

from api_keys.services import api_key_create
from tests.asgi_client import application, asgi_request
from tests.cato_api.test_consumers import agents

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/cato/events/stream"


@pytest.fixture
async def key():
    return (await sync_to_async(api_key_create)(name="sse")).raw_key


async def open_stream(query: str, headers: dict[str, str] | None = None):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": query.encode(),
        "headers": [
            (b"host", b"127.0.0.1"),
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    communicator = ApplicationCommunicator(application(), scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    return communicator, start


async def read_events(communicator, count: int) -> list[tuple[int, dict]]:
    events, buffer = [], b""
    while len(events) < count:
        message = await communicator.receive_output(5)
        buffer += message.get("body", b"")
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line)
            if b"data" in lines and b"id" in lines:
                events.append((int(lines[b"id"]), json.loads(lines[b"data"])))
    return events


async def close(communicator):
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(5)


async def test_the_stream_needs_a_key():
    response = await asgi_request("GET", URL)
    assert response.status == 401
    assert b"API key" in response.body
    bad = await asgi_request("GET", URL, query={"token": "mk_wrong"})
    assert bad.status == 401


async def test_unknown_event_types_are_400(key):
    response = await asgi_request("GET", URL, query={"token": key, "event_types": "nope"})
    assert response.status == 400


async def test_events_stream_live_and_resume_with_last_event_id(key):
    communicator, start = await open_stream(f"token={key}&event_types=agent_registered")
    assert start["status"] == 200
    assert dict(start["headers"])[b"Content-Type"] == b"text/event-stream"
    # The stream's first line comes once the subscription is in place.
    assert (await communicator.receive_output(5))["body"].startswith(b"retry:")
    stored = await agents(3)
    events = await read_events(communicator, 3)
    assert [event_id for event_id, _ in events] == [event["id"] for event in stored]
    assert set(events[0][1]) == {"event_type", "event_data", "metadata", "timestamp", "id"}
    await close(communicator)

    more = await agents(2, start=10)
    resumed, _ = await open_stream(
        "event_types=agent_registered",
        {"Authorization": f"Bearer {key}", "Last-Event-ID": str(stored[-1]["id"])},
    )
    replayed = await read_events(resumed, 2)
    assert [event_id for event_id, _ in replayed] == [event["id"] for event in more]
    await close(resumed)
