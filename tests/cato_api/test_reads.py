"""CATO reads: the snapshot graph, agent detail, the stored feed, subscribers."""

import pytest

from tests.cato_api.helpers import EVENTS_URL, build_world, post_events, system_event
from tests.research.helpers import EVENTS_URL as RESEARCH_URL
from tests.research.helpers import example

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_with_key):
    """a1 did t1 and works on t2; a2 failed t3; t2 depends on t1; f2 holds t3 only."""
    build_world(
        client_with_key,
        agents=("a1", "a2"),
        features=("f1", "f2"),
        tasks=[
            ("t1", "f1", ()),
            ("t2", "f1", ("t1",)),
            ("t3", "f2", ()),
            ("t4", None, ("t1", "t3")),
        ],
    )
    post_events(
        client_with_key,
        system_event("task_assigned", task_id="t1", agent_id="a1"),
        system_event("task_completed", task_id="t1", agent_id="a1"),
        system_event("task_assigned", task_id="t2", agent_id="a1"),
        system_event("task_assigned", task_id="t3", agent_id="a2"),
        system_event("task_failed", task_id="t3", agent_id="a2"),
        system_event("agent_status_changed", agent_id="a2", status="offline"),
    )


def test_snapshot_is_the_hand_built_graph(client_with_key, world):
    response = client_with_key.get("/api/cato/snapshot")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    snapshot = body["snapshot"]
    agents = {agent["id"]: agent for agent in snapshot["nodes"]["agents"]}
    assert agents["a1"] == {
        "id": "a1",
        "name": "Agent a1",
        "role": "dev",
        "status": "active",
        "skills": ["python", "django"],
        "current_task_id": "t2",
        "task_count": 2,
    }
    assert agents["a2"]["status"] == "offline" and agents["a2"]["current_task_id"] is None
    tasks = {task["id"]: task for task in snapshot["nodes"]["tasks"]}
    assert tasks["t2"] == {
        "id": "t2",
        "name": "Task t2",
        "status": "in_progress",
        "priority": "medium",
        "assigned_to": "a1",
        "dependencies": ["t1"],
        "estimated_hours": 6.0,
        "feature_id": "f1",
    }
    assert sorted(tasks["t4"]["dependencies"]) == ["t1", "t3"]
    assert tasks["t4"]["feature_id"] is None and tasks["t4"]["assigned_to"] is None
    assert snapshot["nodes"]["projects"] == [
        {"id": "p1", "name": "Project", "status": "active", "task_count": 4}
    ]
    features = {feature["id"]: feature for feature in snapshot["nodes"]["features"]}
    assert features["f1"] == {
        "id": "f1",
        "name": "Feature f1",
        "status": "active",
        "task_count": 2,
        "project_id": "p1",
    }
    edges = snapshot["edges"]
    assert sorted((e["from"], e["to"]) for e in edges["task_dependencies"]) == [
        ("t2", "t1"),
        ("t4", "t1"),
        ("t4", "t3"),
    ]
    assert all(e["type"] == "dependency" for e in edges["task_dependencies"])
    assert sorted((e["from"], e["to"], e["type"]) for e in edges["agent_assignments"]) == [
        ("a1", "t1", "assignment"),
        ("a1", "t2", "assignment"),
        ("a2", "t3", "assignment"),
    ]
    assert sorted((e["from"], e["to"]) for e in edges["feature_tasks"]) == [
        ("f1", "t1"),
        ("f1", "t2"),
        ("f2", "t3"),
    ]
    assert sorted((e["from"], e["to"], e["type"]) for e in edges["project_features"]) == [
        ("p1", "f1", "contains"),
        ("p1", "f2", "contains"),
    ]
    metrics = snapshot["metrics"]
    assert {k: v for k, v in metrics.items() if k != "timestamp"} == {
        "total_agents": 2,
        "active_agents": 1,
        "total_tasks": 4,
        "completed_tasks": 1,
        "total_projects": 1,
        "total_features": 2,
    }
    assert metrics["timestamp"].endswith("Z")


def test_a_feature_whose_tasks_are_all_done_is_completed(client_with_key):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    post_events(
        client_with_key,
        system_event("task_assigned", task_id="t1", agent_id="a1"),
        system_event("task_completed", task_id="t1", agent_id="a1"),
    )
    snapshot = client_with_key.get("/api/cato/snapshot").json()["snapshot"]
    assert snapshot["nodes"]["features"][0]["status"] == "completed"
    assert snapshot["nodes"]["projects"][0]["status"] == "completed"


def test_snapshot_queries_do_not_grow_with_the_graph(client_with_key, django_assert_num_queries):
    from api_keys import cache

    build_world(client_with_key, tasks=[("t1", "f1", ())])
    cache._active.clear()
    with django_assert_num_queries(6):  # key + agents, dependencies, tasks, projects, features
        client_with_key.get("/api/cato/snapshot")
    build_world(
        client_with_key,
        agents=[f"x{i}" for i in range(20)],
        project="p2",
        features=[f"g{i}" for i in range(5)],
        tasks=[(f"u{i}", f"g{i % 5}", (f"u{i - 1}",) if i else ()) for i in range(40)],
    )
    cache._active.clear()
    with django_assert_num_queries(6):
        body = client_with_key.get("/api/cato/snapshot").json()
    assert len(body["snapshot"]["nodes"]["tasks"]) == 41


def test_agent_detail(client_with_key, world):
    post_events(
        client_with_key,
        system_event(
            "task_created",
            task_id="t5",
            project_id="p1",
            feature_id="f1",
            name="Task t5",
            dependencies=[],
        ),
    )
    research = [example("decision_point", agent_id="a1") for _ in range(22)]
    research.append(example("decision_point", agent_id="a2"))
    research.append(example("decision_point", agent_id="a1", timestamp="2020-01-01T00:00:00Z"))
    client_with_key.post(RESEARCH_URL, {"events": research}, format="json")

    response = client_with_key.get("/api/cato/agent/a1")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["agent"]["id"] == "a1" and body["agent"]["task_count"] == 2
    assert body["current_task"]["id"] == "t2"
    assert [(t["id"], t["outcome"]) for t in body["task_history"]] == [("t1", "completed")]
    assert len(body["recent_events"]) == 20
    assert all(event["agent_id"] == "a1" for event in body["recent_events"])
    a2 = client_with_key.get("/api/cato/agent/a2").json()
    assert a2["current_task"] is None
    assert [(t["id"], t["outcome"]) for t in a2["task_history"]] == [("t3", "failed")]


def test_agent_history_keeps_the_last_ten(client_with_key):
    tasks = [(f"t{i}", "f1", ()) for i in range(12)]
    build_world(client_with_key, tasks=tasks)
    for task_id, _, _ in tasks:
        post_events(
            client_with_key,
            system_event("task_assigned", task_id=task_id, agent_id="a1"),
            system_event("task_completed", task_id=task_id, agent_id="a1"),
        )
    history = client_with_key.get("/api/cato/agent/a1").json()["task_history"]
    assert [t["id"] for t in history] == [f"t{i}" for i in range(11, 1, -1)]


def test_unknown_agent_is_404_with_the_seed_message(client_with_key):
    response = client_with_key.get("/api/cato/agent/nobody")
    assert response.status_code == 404
    assert response.json() == {"detail": "Agent nobody not found"}


def test_stored_feed_after_since_id_with_type_filter(client_with_key, world):
    everything = client_with_key.get(EVENTS_URL, {"limit": 1000}).json()
    assert everything["success"] is True and everything["has_more"] is False
    ids = [event["id"] for event in everything["events"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    middle = ids[len(ids) // 2]
    after = client_with_key.get(EVENTS_URL, {"since_id": middle}).json()["events"]
    assert [event["id"] for event in after] == [i for i in ids if i > middle]
    filtered = client_with_key.get(
        EVENTS_URL + "?event_types=task_assigned,task_failed&event_types=task_completed"
    ).json()["events"]
    assert {event["event_type"] for event in filtered} == {
        "task_assigned",
        "task_failed",
        "task_completed",
    }
    page = client_with_key.get(EVENTS_URL, {"limit": 3}).json()
    assert page["has_more"] is True and page["last_id"] == ids[2]


@pytest.mark.parametrize(
    "query", [{"since_id": "x"}, {"since_id": -1}, {"event_types": "bogus"}, {"limit": 0}]
)
def test_bad_feed_queries_are_400(client_with_key, query):
    assert client_with_key.get(EVENTS_URL, query).status_code == 400


def test_milestones_and_research_events_are_on_the_feed(client_with_key):
    started = client_with_key.post(
        "/api/telemetry/milestones/",
        {"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"},
        format="json",
    ).json()
    client_with_key.post(f"/api/telemetry/milestones/{started['milestone_id']}/complete/")
    client_with_key.post(RESEARCH_URL, example("decision_point"), format="json")
    events = client_with_key.get(EVENTS_URL).json()["events"]
    assert [event["event_type"] for event in events] == [
        "milestone_started",
        "milestone_completed",
        "decision_point",
    ]
    assert events[1]["event_data"]["milestone_id"] == started["milestone_id"]
    assert events[1]["event_data"]["duration_seconds"] >= 0


def test_subscribers_starts_empty(client_with_key):
    body = client_with_key.get("/api/cato/events/subscribers").json()
    assert body == {"success": True, "subscriber_count": 0, "subscribers": []}


def test_reads_need_a_key(anonymous_client):
    for url in (
        "/api/cato/snapshot",
        "/api/cato/agent/a1",
        EVENTS_URL,
        "/api/cato/events/subscribers",
    ):
        assert anonymous_client.get(url).status_code == 401, url
