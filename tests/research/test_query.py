"""Query and export of research events (api.md): filters, stable cursor pages, streamed files."""

import csv
import io
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from research.models import ResearchEvent
from tests.asgi_client import asgi_request
from tests.research.helpers import EVENTS_URL, example


def post_many(client, events):
    response = client.post(EVENTS_URL, {"events": events}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["event_ids"]


def at(minutes_ago: int) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


@pytest.fixture
def mixed_events(client_with_key):
    events = []
    for index in range(12):
        kind = ["decision_point", "task_assignment", "performance_metric"][index % 3]
        events.append(
            example(
                kind,
                agent_id=f"agent-{index % 2}",
                task_id=f"task-{index % 4}",
                session_id=f"s-{index % 3}",
                feature_id="feature-x" if index < 4 else None,
                timestamp=at(index * 60),  # one an hour, newest first
            )
        )
    return post_many(client_with_key, events)


@pytest.mark.django_db
def test_list_is_newest_first_with_every_filter(client_with_key, mixed_events):
    def results(**query):
        response = client_with_key.get(EVENTS_URL, query)
        assert response.status_code == 200, response.content
        return response.json()["results"]

    everything = results()
    assert [item["event_id"] for item in everything] == mixed_events
    stamps = [item["timestamp"] for item in everything]
    assert stamps == sorted(stamps, reverse=True)
    assert {item["event_type"] for item in results(event_type="task_assignment")} == {
        "task_assignment"
    }
    assert len(results(agent_id="agent-1")) == 6
    assert len(results(session_id="s-0")) == 4
    assert len(results(task_id="task-3")) == 3
    assert len(results(feature_id="feature-x")) == 4
    assert len(results(hours=3)) == 3  # 0, 60 and 120 minutes ago
    assert len(results(since=at(150), until=at(30))) == 2
    combined = results(agent_id="agent-0", event_type="decision_point")
    assert combined and all(
        item["agent_id"] == "agent-0" and item["event_type"] == "decision_point"
        for item in combined
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"event_type": "nope"},
        {"hours": "x"},
        {"hours": 0},
        {"since": "yesterday"},
        {"page_size": 0},
        {"page_size": 5000},
        {"since": at(10), "until": at(20)},
    ],
)
def test_bad_queries_are_400(client_with_key, query):
    assert client_with_key.get(EVENTS_URL, query).status_code == 400


@pytest.mark.django_db
def test_a_bad_cursor_is_404(client_with_key):
    response = client_with_key.get(EVENTS_URL, {"cursor": "garbage"})
    assert response.status_code == 404


@pytest.mark.django_db
def test_pages_stay_stable_while_events_arrive(client_with_key, mixed_events):
    """New events (now, or back-dated into pages already read) neither repeat nor push
    others off the pages still to come."""
    seen = []
    page = client_with_key.get(EVENTS_URL, {"page_size": 5}).json()
    seen += [item["event_id"] for item in page["results"]]
    post_many(client_with_key, [example("decision_point", timestamp=at(0)) for _ in range(3)])
    post_many(client_with_key, [example("decision_point", timestamp=at(30)) for _ in range(3)])
    while page["next"]:
        page = client_with_key.get(page["next"]).json()
        seen += [item["event_id"] for item in page["results"]]
    assert seen == mixed_events


@pytest.mark.django_db
def test_the_list_does_not_query_per_event(
    client_with_key, mixed_events, django_assert_num_queries
):
    from api_keys import cache

    cache._active.clear()
    with django_assert_num_queries(2):  # the key, the page
        response = client_with_key.get(EVENTS_URL, {"page_size": 12})
    assert len(response.json()["results"]) == 12


async def _download(query: dict, api_key: str) -> tuple[int, str, bytes]:
    response = await asgi_request(
        "GET", f"{EVENTS_URL}export/", query=query, headers={"Authorization": f"Bearer {api_key}"}
    )
    return response.status, response.headers[b"Content-Type"].decode(), response.body


@pytest.mark.django_db(transaction=True)
async def test_export_jsonl_parses_back(api_key, client_with_key):
    ids = await sync_to_async(post_many)(
        client_with_key, [example("failure_event") for _ in range(7)]
    )
    status, content_type, body = await _download({"format": "jsonl"}, api_key)
    assert status == 200 and content_type == "application/x-ndjson"
    records = [json.loads(line) for line in body.decode().splitlines()]
    # One batch, one timestamp: newest first means the last stored first.
    assert [record["event_id"] for record in records] == ids[::-1]
    assert records[0]["event_data"]["failure_type"] == "timeout"


@pytest.mark.django_db(transaction=True)
async def test_export_csv_has_one_row_per_event_with_event_data_as_json(api_key, client_with_key):
    await sync_to_async(post_many)(
        client_with_key,
        [example("decision_point", agent_id="agent-a"), example("decision_point", agent_id="b")],
    )
    status, content_type, body = await _download({"format": "csv", "agent_id": "agent-a"}, api_key)
    assert status == 200 and content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 1
    assert rows[0]["agent_id"] == "agent-a"
    assert json.loads(rows[0]["event_data"])["choice_made"] == "REST"
    assert rows[0]["feature_id"] == ""


@pytest.mark.django_db(transaction=True)
async def test_export_of_many_events_streams_in_several_chunks(api_key, client_with_key):
    await sync_to_async(post_many)(client_with_key, [example("task_assignment")] * 1000)
    response = await asgi_request(
        "GET",
        f"{EVENTS_URL}export/",
        query={"format": "jsonl"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    chunks = response.chunks
    assert len(chunks) > 1
    assert sum(chunk.count(b"\n") for chunk in chunks) == 1000
    assert await ResearchEvent.objects.acount() == 1000


@pytest.mark.django_db
def test_export_rejects_an_unknown_format(client_with_key):
    response = client_with_key.get(f"{EVENTS_URL}export/", {"format": "xlsx"})
    assert response.status_code == 400
    assert "format" in response.json()
