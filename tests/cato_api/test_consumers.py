"""The websocket live feed with real Channels consumers (WebsocketCommunicator): auth, filter,
subscribe, replay without gap or duplicate, overflow, gap fill, batch frames."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import override_settings

from api_keys.services import api_key_create
from cato_api.event_schemas import EVENT_BATCH
from cato_api.services.live_events import NewLiveEvent, live_events_record
from cato_api.services.system_events import system_events_apply
from marcus_site.routing import build_application
from tests.cato_api.helpers import system_event

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATION = build_application()
TIMEOUT = 5


@pytest.fixture
async def key():
    return (await sync_to_async(api_key_create)(name="feed")).raw_key


async def connect(query: str, headers=()):
    communicator = WebsocketCommunicator(APPLICATION, f"/ws/cato/events/?{query}", headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    first = await communicator.receive_json_from(timeout=TIMEOUT)
    return communicator, first


async def apply(*events):
    validated = EVENT_BATCH.validate_python(list(events))
    return await sync_to_async(system_events_apply)(events=validated, batch=True)


async def agents(count: int, start: int = 0):
    return await apply(
        *(
            system_event("agent_registered", agent_id=f"a{i}", name=f"A{i}", role="dev")
            for i in range(start, start + count)
        )
    )


async def receive_ids(communicator, count: int) -> list[int]:
    ids = []
    while len(ids) < count:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == "event":
            ids.append(frame["id"])
        elif frame["type"] == "events":
            ids += [event["id"] for event in frame["events"]]
        else:
            raise AssertionError(frame)
    return ids


async def test_without_a_key_the_feed_closes_with_4401():
    communicator, first = await connect("")
    assert first["type"] == "error"
    assert (await communicator.receive_output(TIMEOUT)) == {"type": "websocket.close", "code": 4401}


async def test_with_a_bad_key_the_feed_closes_with_4403():
    communicator, first = await connect("token=mk_wrong")
    assert first == {"type": "error", "detail": "Invalid API key."}
    assert (await communicator.receive_output(TIMEOUT))["code"] == 4403


async def test_a_browser_from_another_origin_is_refused(key):
    communicator = WebsocketCommunicator(
        APPLICATION, f"/ws/cato/events/?token={key}", [(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected


async def test_a_browser_from_an_allowed_host_is_accepted(key):
    communicator, first = await connect(f"token={key}", [(b"origin", b"http://localhost:8000")])
    assert first["type"] == "connected"
    await communicator.disconnect()


async def test_unknown_event_types_are_refused_with_4400(key):
    communicator, first = await connect(f"token={key}&event_types=nope")
    assert "nope" in first["detail"]
    assert (await communicator.receive_output(TIMEOUT))["code"] == 4400


async def test_events_arrive_live_filtered_by_type(key):
    communicator, first = await connect(f"token={key}&event_types=agent_status_changed")
    assert first["type"] == "connected" and len(first["subscriber_id"]) == 32
    await agents(2)
    await apply(system_event("agent_status_changed", agent_id="a1", status="idle"))
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "event" and frame["event_type"] == "agent_status_changed"
    assert frame["event_data"]["old_status"] == "active"
    assert set(frame) == {"type", "id", "event_type", "event_data", "metadata", "timestamp"}
    assert await communicator.receive_nothing(0.2)
    await communicator.disconnect()


async def test_subscribe_changes_the_filter_in_flight(key):
    communicator, _ = await connect(f"token={key}&event_types=project_created")
    await communicator.send_json_to({"action": "subscribe", "event_types": ["agent_registered"]})
    assert await communicator.receive_json_from(timeout=TIMEOUT) == {
        "type": "subscribed",
        "event_types": ["agent_registered"],
    }
    await apply(system_event("project_created", project_id="p", name="P"))
    await agents(1)
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert frame["event_type"] == "agent_registered"
    await communicator.send_json_to({"action": "dance"})
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    await communicator.send_json_to({"action": "subscribe", "event_types": ["nope"]})
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    await communicator.disconnect()


async def test_since_id_replays_then_continues_live(key):
    stored = await agents(5)
    ids = [event["id"] for event in stored]
    communicator, _ = await connect(f"token={key}&since_id={ids[1]}")
    assert await receive_ids(communicator, 3) == ids[2:]
    live = await agents(2, start=10)
    assert await receive_ids(communicator, 2) == [event["id"] for event in live]
    assert await communicator.receive_nothing(0.2)
    await communicator.disconnect()


@override_settings(MARCUS={"LIVE_FEED": {"MAX_PENDING_EVENTS": 100}})
async def test_replay_while_events_arrive_has_no_gap_and_no_duplicate(key):
    """A long replay, paced by the client, while writers keep adding events: the client gets
    every event exactly once, in order."""
    first_batch = await agents(300)
    communicator, _ = await connect(f"token={key}&since_id=0")

    async def keep_writing():
        for round_ in range(10):
            await agents(20, start=1000 + round_ * 20)
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(keep_writing())
    received = await receive_ids(communicator, 300 + 200)
    await writer
    assert received == sorted(received)
    assert len(set(received)) == 500
    assert received[:300] == [event["id"] for event in first_batch]
    await communicator.disconnect()


async def test_batch_frames_on_request(key):
    communicator, _ = await connect(f"token={key}&batch=1")
    stored = await agents(50)
    frames, ids = 0, []
    while len(ids) < 50:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        frames += 1
        ids += [e["id"] for e in frame["events"]] if frame["type"] == "events" else [frame["id"]]
    assert ids == [event["id"] for event in stored]
    assert frames < 50
    await communicator.disconnect()


@override_settings(MARCUS={"LIVE_FEED": {"MAX_PENDING_EVENTS": 50}})
async def test_a_client_that_stops_reading_is_told_where_to_resume(key):
    """It overflows: the frames it had, then {"type": "overflow", "last_id": N}, then the
    close; resuming with since_id=N gives exactly the rest."""
    slow, _ = await connect(f"token={key}")
    fast, _ = await connect(f"token={key}")
    fast_reader = asyncio.create_task(receive_ids(fast, 200))
    all_ids = []
    for round_ in range(8):
        all_ids += [event["id"] for event in await agents(25, start=round_ * 25)]
        await asyncio.sleep(0.02)
    assert await fast_reader == all_ids  # the slow one holds nobody back

    received, overflow = [], None
    while True:
        message = await slow.receive_output(TIMEOUT)
        if message["type"] == "websocket.close":
            assert message["code"] == 4008
            break
        frame = json.loads(message["text"])
        if frame["type"] == "overflow":
            overflow = frame
        else:
            received.append(frame["id"])
    assert overflow is not None and received
    assert overflow["last_id"] == received[-1]
    assert received == all_ids[: len(received)]

    resumed, _ = await connect(f"token={key}&since_id={overflow['last_id']}")
    assert await receive_ids(resumed, 200 - len(received)) == all_ids[len(received) :]
    await resumed.disconnect()
    await fast.disconnect()


async def test_a_broadcast_that_never_arrived_is_fetched_from_the_database(key):
    """Events stored without their broadcast (a dropped message) are sent before the next
    event that does arrive."""
    communicator, _ = await connect(f"token={key}")

    def store_quietly():
        with transaction.atomic():
            live_events_record([NewLiveEvent("agent_status_changed", {"n": i}) for i in range(3)])
            transaction.get_connection().run_on_commit.clear()  # their broadcast is lost

    await sync_to_async(store_quietly)()
    assert await communicator.receive_nothing(0.2)
    arriving = await agents(1)
    ids = await receive_ids(communicator, 4)
    assert ids == list(range(arriving[0]["id"] - 3, arriving[0]["id"] + 1))
    await communicator.disconnect()


async def test_a_rolled_back_write_is_never_broadcast(key):
    communicator, _ = await connect(f"token={key}")
    await agents(1)
    with pytest.raises(Exception):  # noqa: B017 - the unknown task makes the batch fail
        await apply(
            system_event("agent_status_changed", agent_id="a0", status="idle"),
            system_event("task_assigned", task_id="missing", agent_id="a0"),
        )
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert frame["event_type"] == "agent_registered"
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_subscribers_are_listed_while_connected(key, client_with_key):
    communicator, first = await connect(f"token={key}&event_types=task_assigned")
    body = await sync_to_async(client_with_key.get)("/api/cato/events/subscribers")
    listed = body.json()
    assert listed["subscriber_count"] >= 1
    mine = [s for s in listed["subscribers"] if s["subscriber_id"] == first["subscriber_id"]]
    assert mine and mine[0]["event_types"] == ["task_assigned"]
    assert set(mine[0]) == {"subscriber_id", "event_types", "connected_at"}
    await communicator.disconnect()
    after = (await sync_to_async(client_with_key.get)("/api/cato/events/subscribers")).json()
    assert first["subscriber_id"] not in {s["subscriber_id"] for s in after["subscribers"]}


async def test_a_lost_last_broadcast_is_caught_up_when_the_feed_goes_quiet(key):
    """With no later event to reveal the gap, a quiet subscriber still gets events whose
    broadcast was lost, within a couple of seconds."""
    communicator, _ = await connect(f"token={key}")

    def store_quietly():
        with transaction.atomic():
            stored = live_events_record(
                [NewLiveEvent("agent_status_changed", {"n": i}) for i in range(2)]
            )
            transaction.get_connection().run_on_commit.clear()
        return [event["id"] for event in stored]

    ids = await sync_to_async(store_quietly)()
    assert await receive_ids(communicator, 2) == ids
    await communicator.disconnect()
