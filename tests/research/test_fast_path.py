"""``POST /api/research/events/`` through the ASGI application, where it is served straight from
ASGI with group commit: the same answers as the DRF view, and concurrent requests stored
together without losing or repeating anything."""

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async

from api_keys.services import api_key_create
from cato_api.selectors import feed_events_after
from research.models import ResearchEvent
from tests.asgi_client import asgi_request
from tests.research.helpers import EVENTS_URL, example, with_id

pytestmark = pytest.mark.django_db(transaction=True)


async def post(body, key: str | None, content_type="application/json", raw: bytes | None = None):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload = raw if raw is not None else json.dumps(body).encode()
    response = await asgi_request("POST", EVENTS_URL, body=payload, headers=headers)
    return response.status, json.loads(response.body or b"null"), response.headers


@pytest.fixture
async def key():
    return (await sync_to_async(api_key_create)(name="fast")).raw_key


async def test_single_and_batch_are_stored(key):
    status, body, headers = await post(example("decision_point"), key)
    assert status == 201 and body["accepted"] == 1
    assert headers[b"content-type"] == b"application/json"
    batch = [with_id(example("failure_event")) for _ in range(10)]
    status, body, _ = await post({"events": batch}, key)
    assert status == 201
    assert body == {"accepted": 10, "duplicates": 0, "event_ids": [e["event_id"] for e in batch]}
    assert await ResearchEvent.objects.acount() == 11
    assert len(await sync_to_async(feed_events_after)(since_id=0)) == 11


async def test_refusals_match_the_drf_view(key, client_with_key):
    """Each refusal has the status and body the DRF view gives for the same request."""
    bad_batch = {"events": [example("decision_point"), example("decision_point")]}
    bad_batch["events"][1]["event_data"]["confidence"] = 2
    cases = [
        ({"body": bad_batch, "key": key}),
        ({"body": example("decision_point", event_type="nope"), "key": key}),
        ({"body": None, "key": key, "raw": b"{broken"}),
        ({"body": [1], "key": key}),
        ({"body": example("decision_point"), "key": None}),
        ({"body": example("decision_point"), "key": "mk_not_a_key"}),
        {"body": example("decision_point"), "key": key, "content_type": "text/plain"},
    ]
    for kwargs in cases:
        status, body, _ = await post(**kwargs)
        raw = kwargs.get("raw") or json.dumps(kwargs["body"]).encode()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {kwargs['key']}"} if kwargs["key"] else {}
        drf = await sync_to_async(_drf_post)(
            raw, kwargs.get("content_type", "application/json"), headers
        )
        assert status == drf.status_code, (kwargs, body, drf.content)
        if "JSON parse error" in str(body):
            assert drf.json()["detail"].startswith("JSON parse error")
        else:
            assert body == drf.json(), kwargs
    assert await ResearchEvent.objects.acount() == 0


def _drf_post(raw: bytes, content_type: str, headers: dict):
    from rest_framework.test import APIClient

    return APIClient().post(EVENTS_URL, raw, content_type=content_type, **headers)


async def test_an_oversized_body_is_413(key):
    status, body, _ = await post(None, key, raw=b"[" + b" " * (11 * 1024 * 1024) + b"]")
    assert status == 413 and "limit" in body["detail"]


async def test_concurrent_requests_are_each_answered_and_stored_once(key):
    """Forty requests at once (some sending the same batch) are grouped into few commits;
    each gets its own answer, and each event is stored exactly once."""
    shared = [with_id(example("task_assignment")) for _ in range(20)]
    singles = [with_id(example("decision_point")) for _ in range(30)]
    requests = [post({"events": shared}, key) for _ in range(10)]
    requests += [post(event, key) for event in singles]
    results = await asyncio.gather(*requests)
    assert [status for status, _, _ in results] == [201] * 40
    shared_answers = [body for _, body, _ in results[:10]]
    assert sum(body["accepted"] for body in shared_answers) == 20
    assert sum(body["duplicates"] for body in shared_answers) == 180
    assert all(body["accepted"] == 1 for _, body, _ in results[10:])
    assert await ResearchEvent.objects.acount() == 50
    feed = await sync_to_async(feed_events_after)(since_id=0)
    assert len(feed) == 50 and len({event["id"] for event in feed}) == 50
    assert {str(uuid.UUID(e["event_data"]["event_id"])) for e in feed} == {
        e["event_id"] for e in shared + singles
    }
