"""Every rule of the five research event schemas (api.md, Research events)."""

import pytest

from cato_api.selectors import feed_events_after
from research.models import ResearchEvent, ResearchEventType
from research.registry import REGISTRY
from tests.research.helpers import EVENTS_URL, example

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post(EVENTS_URL, body, format="json")


def test_the_registry_covers_every_event_type_with_schema_handler_and_example(client_with_key):
    """Each member of the vocabulary has a schema, a handler and an example that is accepted."""
    assert set(REGISTRY) == set(ResearchEventType)
    for event_type, spec in REGISTRY.items():
        assert spec.schema.model_json_schema()["properties"]
        assert callable(spec.handler)
        assert spec.example["event_type"] == event_type.value
        response = post(client_with_key, spec.example)
        assert response.status_code == 201, (event_type, response.content)
    assert ResearchEvent.objects.count() == len(ResearchEventType)


@pytest.mark.parametrize(
    ("event_type", "derived"),
    [
        ("agent_coordination", {"agent_count": 2, "task_count": 2}),
        ("decision_point", {"options_count": 2}),
        ("task_assignment", {"alternative_count": 1}),
    ],
)
def test_derived_counts_are_filled_in(client_with_key, event_type, derived):
    response = post(client_with_key, example(event_type))
    assert response.status_code == 201
    stored = ResearchEvent.objects.get(event_id=response.json()["event_ids"][0])
    for name, value in derived.items():
        assert stored.event_data[name] == value


def test_a_derived_count_that_disagrees_is_rejected(client_with_key):
    response = post(client_with_key, example("agent_coordination", event_data={"agent_count": 5}))
    assert response.status_code == 400
    assert "agent_count" in str(response.json())


def test_a_matching_derived_count_is_accepted(client_with_key):
    response = post(client_with_key, example("agent_coordination", event_data={"agent_count": 2}))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            example("agent_coordination", event_data={"coordination_type": "swarm"}),
            "event_data.coordination_type",
        ),
        (example("agent_coordination", event_data={"agent_ids": "a"}), "event_data.agent_ids"),
        (example("agent_coordination", event_data={"agent_ids": [1]}), "event_data.agent_ids[0]"),
        (example("decision_point", event_data={"confidence": 1.01}), "event_data.confidence"),
        (example("decision_point", event_data={"confidence": -0.1}), "event_data.confidence"),
        (example("decision_point", event_data={"confidence": "0.5"}), "event_data.confidence"),
        (example("decision_point", event_data={"confidence": True}), "event_data.confidence"),
        (
            example("task_assignment", event_data={"agent_workload": -1}),
            "event_data.agent_workload",
        ),
        (
            example("task_assignment", event_data={"agent_workload": 1.5}),
            "event_data.agent_workload",
        ),
        (
            example("task_assignment", event_data={"agent_workload": "2"}),
            "event_data.agent_workload",
        ),
        (
            example("performance_metric", event_data={"metric_value": "fast"}),
            "event_data.metric_value",
        ),
        (
            example(
                "failure_event",
                event_data={"recovery_successful": True, "recovery_attempted": False},
            ),
            "event_data",
        ),
        (example("failure_event", event_data={"surprise": 1}), "event_data.surprise"),
        (example("decision_point", agent_id=None), "agent_id"),
        (example("decision_point", task_id=None), "task_id"),
        (example("task_assignment", agent_id=None), "agent_id"),
        (example("decision_point", event_type="mood_swing"), "event_type"),
        (example("decision_point", session_id=""), "session_id"),
        (example("decision_point", session_id=7), "session_id"),
        (example("decision_point", event_id="not-a-uuid"), "event_id"),
        (example("decision_point", timestamp="yesterday"), "timestamp"),
        (example("decision_point", colour="blue"), "colour"),
        (
            example("decision_point", event_data={"metadata": {"blob": "x" * 17000}}),
            "event_data.metadata",
        ),
        (
            example("performance_metric", event_data={"context": {"blob": "x" * 17000}}),
            "event_data.context",
        ),
    ],
)
def test_each_rule_rejects_with_the_field_named(client_with_key, event, field):
    response = post(client_with_key, event)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert ResearchEvent.objects.count() == 0


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_nan_and_infinity_json_tokens_are_rejected(client_with_key, token):
    body = (
        '{"event_type": "performance_metric", "session_id": "s", "event_data": '
        f'{{"metric_name": "latency", "metric_value": {token}}}}}'
    )
    response = client_with_key.post(EVENTS_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert ResearchEvent.objects.count() == 0


def test_a_timestamp_far_in_the_future_is_rejected_and_the_past_accepted(client_with_key):
    future = post(client_with_key, example("decision_point", timestamp="2999-01-01T00:00:00Z"))
    assert future.status_code == 400
    assert "future" in future.json()["timestamp"][0]
    past = post(client_with_key, example("decision_point", timestamp="2020-05-01T12:00:00Z"))
    assert past.status_code == 201
    assert ResearchEvent.objects.get().timestamp.year == 2020


def test_context_ids_fill_the_events_own_ids_when_absent(client_with_key):
    event = example(
        "performance_metric",
        event_data={"context": {"agent_id": "a-1", "task_id": "t-1", "feature_id": "f-1"}},
    )
    assert post(client_with_key, event).status_code == 201
    stored = ResearchEvent.objects.get()
    assert (stored.agent_id, stored.task_id, stored.feature_id) == ("a-1", "t-1", "f-1")


def test_the_events_own_ids_win_over_context(client_with_key):
    event = example("performance_metric", agent_id="own", event_data={"context": {"agent_id": "x"}})
    assert post(client_with_key, event).status_code == 201
    assert ResearchEvent.objects.get().agent_id == "own"


def test_error_messages_are_stored_sanitized(client_with_key):
    message = (
        "Cannot read /home/alice/secrets.txt; token sk-abcdefghijklmnopqrstuvwx123 "
        "for bob@example.com"
    )
    event = example("failure_event", event_data={"error_message": message})
    assert post(client_with_key, event).status_code == 201
    stored = ResearchEvent.objects.get().event_data["error_message"]
    for secret in ("alice", "sk-abcdefghijklmnopqrstuvwx123", "bob@example.com"):
        assert secret not in stored
    (feed,) = feed_events_after(since_id=0, event_types=["failure_event"])
    assert feed["event_data"]["error_message"] == stored


def test_free_form_metadata_is_kept_but_secrets_redacted(client_with_key):
    event = example(
        "decision_point", event_data={"metadata": {"model": "gpt", "api_key": "abc123", "n": 3}}
    )
    assert post(client_with_key, event).status_code == 201
    metadata = ResearchEvent.objects.get().event_data["metadata"]
    assert metadata["model"] == "gpt" and metadata["n"] == 3
    assert "abc123" not in str(metadata)
