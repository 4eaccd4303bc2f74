"""Ingestion: one event or a batch, all or nothing, idempotent by event_id, onto the live feed."""

import threading
import uuid

import pytest
from django.db import connections
from rest_framework.test import APIClient

from cato_api.selectors import feed_events_after
from research.models import ResearchEvent
from research.registry import REGISTRY
from tests.research.helpers import EVENTS_URL, example, with_id


def post(client, body):
    return client.post(EVENTS_URL, body, format="json")


@pytest.mark.django_db
def test_a_single_event_gets_a_server_made_id(client_with_key):
    response = post(client_with_key, example("decision_point"))
    assert response.status_code == 201
    body = response.json()
    assert body["accepted"] == 1 and body["duplicates"] == 0
    stored = ResearchEvent.objects.get()
    assert body["event_ids"] == [str(stored.event_id)]
    assert uuid.UUID(body["event_ids"][0]).version == 4


@pytest.mark.django_db
def test_a_batch_of_every_type_is_stored_and_put_on_the_live_feed(client_with_key):
    events = [with_id(spec.example) for spec in REGISTRY.values()] * 3
    events = [with_id(event) for event in events]
    response = post(client_with_key, {"events": events})
    assert response.status_code == 201, response.content
    assert response.json()["accepted"] == 15
    assert response.json()["event_ids"] == [event["event_id"] for event in events]
    assert ResearchEvent.objects.count() == 15
    feed = feed_events_after(since_id=0)
    assert [item["event_type"] for item in feed] == [event["event_type"] for event in events]
    assert [item["event_data"]["event_id"] for item in feed] == [e["event_id"] for e in events]
    ids = [item["id"] for item in feed]
    assert ids == list(range(ids[0], ids[0] + 15))


@pytest.mark.django_db
def test_one_invalid_event_rejects_the_whole_batch_naming_index_and_field(client_with_key):
    events = [example("decision_point") for _ in range(5)]
    events[3]["event_data"]["confidence"] = 7
    response = post(client_with_key, {"events": events})
    assert response.status_code == 400
    assert list(response.json()) == ["events[3].event_data.confidence"]
    assert ResearchEvent.objects.count() == 0
    assert feed_events_after(since_id=0) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": [example("decision_point")] * 1001}, "events"),
        ({"events": "all of them"}, "events"),
        ({"events": [example("decision_point"), 5]}, "events[1]"),
        ({"events": [example("decision_point")], "more": 1}, "more"),
        ([example("decision_point")], "non_field_errors"),
    ],
)
def test_malformed_batches_are_400(client_with_key, body, field):
    response = post(client_with_key, body)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_an_oversized_body_is_413_before_parsing(client_with_key):
    body = b'{"events": [' + b" " * (11 * 1024 * 1024) + b"]}"
    response = client_with_key.post(EVENTS_URL, body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.django_db
def test_writes_need_a_key(anonymous_client):
    assert post(anonymous_client, example("decision_point")).status_code == 401


@pytest.mark.django_db
def test_a_retry_counts_stored_ids_as_duplicates(client_with_key):
    events = [with_id(example("decision_point")) for _ in range(4)]
    first = post(client_with_key, {"events": events[:2]})
    assert first.json()["accepted"] == 2
    retry = post(client_with_key, {"events": events})
    assert retry.json() == {
        "accepted": 2,
        "duplicates": 2,
        "event_ids": [event["event_id"] for event in events],
    }
    assert ResearchEvent.objects.count() == 4
    assert len(feed_events_after(since_id=0)) == 4


@pytest.mark.django_db
def test_the_same_id_twice_in_one_batch_is_stored_once(client_with_key):
    event = with_id(example("decision_point"))
    response = post(client_with_key, {"events": [event, event]})
    assert response.json()["accepted"] == 1 and response.json()["duplicates"] == 1
    assert ResearchEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_batch_store_each_event_once(api_key):
    """Several clients send the same batch at once: every event is stored exactly once."""
    events = [with_id(example("task_assignment")) for _ in range(50)]
    results: list = []
    barrier = threading.Barrier(4)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        barrier.wait()
        try:
            results.append(post(client, {"events": events}))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [response.status_code for response in results] == [201] * 4
    assert sum(response.json()["accepted"] for response in results) == 50
    assert sum(response.json()["duplicates"] for response in results) == 150
    assert ResearchEvent.objects.count() == 50
    assert len(feed_events_after(since_id=0)) == 50
