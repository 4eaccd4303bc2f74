"""``POST /api/cato/events/`` through the ASGI application (group commit): the DRF view's
answers, and concurrent requests applied in order, each answered on its own."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from api_keys.services import api_key_create
from cato_api.models import Agent, LiveEvent, Task
from tests.asgi_client import asgi_request
from tests.cato_api.helpers import EVENTS_URL, system_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def key():
    return (await sync_to_async(api_key_create)(name="fast")).raw_key


async def post(body, key):
    response = await asgi_request(
        "POST",
        EVENTS_URL,
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    return response.status, json.loads(response.body)


async def test_single_batch_and_refusals(key):
    status, body = await post(system_event("agent_registered", agent_id="a1"), key)
    assert status == 201 and body["event_type"] == "agent_registered" and body["id"] > 0
    status, body = await post(
        {
            "events": [
                system_event("project_created", project_id="p", name="P"),
                system_event(
                    "task_created", task_id="t", project_id="p", feature_id=None, name="T"
                ),
            ]
        },
        key,
    )
    assert status == 201 and body["applied"] == 2
    status, body = await post(system_event("task_assigned", task_id="nope", agent_id="a1"), key)
    assert status == 400 and "nope" in body["event_data.task_id"][0]
    status, body = await post(system_event("task_completed", task_id="t", agent_id="a1"), key)
    assert status == 409 and "not assigned" in body["detail"]
    status, body = await post({"event_type": "nope", "event_data": {}}, key)
    assert status == 400 and "event_type" in body


async def test_concurrent_requests_apply_in_order_and_fail_alone(key):
    await post(system_event("project_created", project_id="p", name="P"), key)
    registrations = [
        post(system_event("agent_registered", agent_id=f"a{i}", name=f"A{i}"), key)
        for i in range(20)
    ]
    conflicting = post(system_event("project_created", project_id="p", name="again"), key)
    tasks = [
        post(
            system_event(
                "task_created", task_id=f"t{i}", project_id="p", feature_id=None, name=f"T{i}"
            ),
            key,
        )
        for i in range(20)
    ]
    results = await asyncio.gather(*registrations, conflicting, *tasks)
    statuses = [status for status, _ in results]
    assert statuses == [201] * 20 + [409] + [201] * 20
    assert await Agent.objects.acount() == 20 and await Task.objects.acount() == 20
    ids = [body["id"] for status, body in results if status == 201]
    assert len(set(ids)) == 40
    assert await LiveEvent.objects.acount() == 41
