"""``GET /api/cato/metrics/research`` against hand-computed figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.research.helpers import EVENTS_URL, example

URL = "/api/cato/metrics/research"


def ago(hours: float) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


@pytest.fixture
def events(client_with_key):
    def coordination(kind, agent="a1", hours=1):
        return example(
            "agent_coordination",
            agent_id=agent,
            timestamp=ago(hours),
            event_data={"coordination_type": kind},
        )

    def decision(confidence, agent="a1", hours=1):
        return example(
            "decision_point",
            agent_id=agent,
            timestamp=ago(hours),
            event_data={"confidence": confidence},
        )

    def metric(name, value, agent="a1", hours=1):
        return example(
            "performance_metric",
            agent_id=agent,
            timestamp=ago(hours),
            event_data={"metric_name": name, "metric_value": value},
        )

    batch = [
        coordination("parallel"),
        coordination("parallel"),
        coordination("handoff", agent="a2"),
        coordination("sequential", hours=30),  # outside 24 h
        decision(0.95),
        decision(0.8),
        decision(0.79),
        decision(0.5),
        decision(0.49, agent="a2"),
        decision(0.1, hours=30),
        metric("task_completion_time", 100),
        metric("task_completion_time", 300),
        metric("task_completion_time", 5000, hours=30),
        metric("throughput", 12),
        metric("throughput", 7, agent="a2"),
        metric("latency", 9),
        example("task_assignment", agent_id="a1", timestamp=ago(2)),
        example("failure_event", agent_id="a2", timestamp=ago(2)),
    ]
    response = client_with_key.post(EVENTS_URL, {"events": batch}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_metrics_over_24_hours(client_with_key, events):
    response = client_with_key.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["period_hours"] == 24
    metrics = body["metrics"]
    assert metrics["total_events"] == body["event_count"] == 15
    assert metrics["event_types"] == {
        "agent_coordination": 3,
        "decision_point": 5,
        "task_assignment": 1,
        "performance_metric": 5,
        "failure_event": 1,
    }
    assert metrics["coordination_patterns"] == {"parallel": 2, "sequential": 0, "handoff": 1}
    assert metrics["decision_quality"] == {
        "high_confidence": 2,
        "medium_confidence": 2,
        "low_confidence": 1,
    }
    assert metrics["performance"] == {"avg_task_completion_time": 200.0, "throughput": 2}


@pytest.mark.django_db
def test_metrics_over_48_hours_and_filtered(client_with_key, events):
    metrics = client_with_key.get(URL, {"hours": 48}).json()["metrics"]
    assert metrics["total_events"] == 18
    assert metrics["coordination_patterns"]["sequential"] == 1
    assert metrics["decision_quality"]["low_confidence"] == 2
    assert metrics["performance"]["avg_task_completion_time"] == 1800.0

    by_agent = client_with_key.get(URL, {"agent_id": "a2"}).json()["metrics"]
    assert by_agent["total_events"] == 4
    assert by_agent["performance"]["throughput"] == 1

    by_type = client_with_key.get(URL, {"event_type": "decision_point"}).json()["metrics"]
    assert by_type["total_events"] == 5
    assert by_type["event_types"]["agent_coordination"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", [{"hours": 0}, {"hours": 169}, {"hours": "x"}, {"event_type": "nope"}]
)
def test_bad_metric_queries_are_400(client_with_key, query):
    assert client_with_key.get(URL, query).status_code == 400


@pytest.mark.django_db
def test_metrics_with_no_events_are_zero(client_with_key):
    metrics = client_with_key.get(URL).json()["metrics"]
    assert metrics["total_events"] == 0
    assert metrics["performance"] == {"avg_task_completion_time": 0.0, "throughput": 0}


@pytest.mark.django_db
def test_the_hourly_rollup_always_agrees_with_the_events(client_with_key):
    """Metrics add up whole hours from the rollup and the window's first hour from the events;
    for any window and filter they equal a direct count over the events (retries included)."""
    import random
    import uuid

    from research.selectors import EventFilters, _raw_figures, filtered_events, research_metrics

    rng = random.Random(3)
    batch = []
    for _ in range(300):
        kind = rng.choice(
            [
                "agent_coordination",
                "decision_point",
                "performance_metric",
                "task_assignment",
                "failure_event",
            ]
        )
        data = {}
        if kind == "agent_coordination":
            data = {"coordination_type": rng.choice(["parallel", "sequential", "handoff"])}
        elif kind == "decision_point":
            data = {"confidence": round(rng.random(), 2)}
        elif kind == "performance_metric":
            data = {
                "metric_name": rng.choice(["task_completion_time", "throughput", "x"]),
                "metric_value": round(rng.random() * 100, 1),
            }
        batch.append(
            example(
                kind,
                agent_id=rng.choice(["a1", "a2"]),
                event_data=data,
                event_id=str(uuid.uuid4()),
                timestamp=ago(rng.random() * 200),
            )
        )
    for start in range(0, 300, 100):
        chunk = {"events": batch[start : start + 100]}
        assert client_with_key.post(EVENTS_URL, chunk, format="json").status_code == 201
    # A retry of a batch already stored changes nothing.
    client_with_key.post(EVENTS_URL, {"events": batch[:100]}, format="json")

    for hours in (1, 2, 5, 24, 48, 168):
        for filters in ({}, {"agent_id": "a1"}, {"event_type": "decision_point"}):
            metrics = research_metrics(hours=hours, **filters)
            direct = _raw_figures(filtered_events(EventFilters(hours=hours, **filters)))
            assert metrics["total_events"] == sum(
                direct[f"type_{kind}"] for kind in metrics["event_types"]
            ), (hours, filters)
            assert metrics["coordination_patterns"]["handoff"] == direct["coordination_handoff"]
            assert metrics["decision_quality"]["low_confidence"] == direct["confidence_low"]
            assert metrics["performance"]["throughput"] == direct["throughput_count"]
            if direct["completion_time_count"]:
                expected = direct["completion_time_sum"] / direct["completion_time_count"]
                assert metrics["performance"]["avg_task_completion_time"] == round(expected, 3)
