"""System events: each type against the state it must leave (api.md, CATO)."""

import pytest

from cato_api.event_schemas import DATA_SCHEMAS, EXAMPLES
from cato_api.models import Agent, AgentTaskRecord, Feature, LiveEvent, Project, Task
from cato_api.services.system_events import HANDLERS
from cato_api.vocabulary import SystemEventType
from tests.cato_api.helpers import EVENTS_URL, build_world, post_events, system_event

pytestmark = pytest.mark.django_db


def test_every_type_has_a_schema_a_handler_and_an_example_that_applies(client_with_key):
    """Walk the vocabulary; the examples, in order, form a valid story (but the last, which
    fails a task the story completed, is a 409)."""
    for kind in SystemEventType:
        assert kind in DATA_SCHEMAS and kind in HANDLERS and kind in EXAMPLES
    kinds = list(SystemEventType)
    for kind in kinds[:-1]:
        post_events(client_with_key, {"event_type": kind.value, "event_data": EXAMPLES[kind]})
    failing = {"event_type": kinds[-1].value, "event_data": EXAMPLES[kinds[-1]]}
    post_events(client_with_key, failing, expect=409)
    assert LiveEvent.objects.count() == len(kinds) - 1


def test_single_event_answer_has_the_stored_shape(client_with_key):
    body = post_events(client_with_key, system_event("agent_registered"))
    assert set(body) == {"id", "event_type", "event_data", "metadata", "timestamp"}
    assert body["event_type"] == "agent_registered"
    assert body["event_data"]["status"] == "active"
    assert LiveEvent.objects.get().id == body["id"]


def test_agent_registered_creates_then_updates(client_with_key):
    post_events(client_with_key, system_event("agent_registered", skills=["go"]))
    post_events(client_with_key, system_event("agent_status_changed", status="offline"))
    post_events(client_with_key, system_event("agent_registered", name="Renamed", skills=[]))
    agent = Agent.objects.get(pk="agent-backend")
    assert (agent.name, agent.skills, agent.status) == ("Renamed", [], "active")


def test_agent_status_changed_reports_the_old_status(client_with_key):
    post_events(client_with_key, system_event("agent_registered"))
    body = post_events(client_with_key, system_event("agent_status_changed", status="idle"))
    assert body["event_data"]["old_status"] == "active"
    assert body["event_data"]["agent_name"] == "Backend developer"
    assert Agent.objects.get().status == "idle"


def test_project_feature_and_task_creation(client_with_key):
    build_world(client_with_key, tasks=[("t1", "f1", ()), ("t2", "f1", ("t1",)), ("t3", None, ())])
    assert Project.objects.get().name == "Project"
    assert Feature.objects.get().project_id == "p1"
    t2 = Task.objects.get(pk="t2")
    assert (t2.status, t2.priority, t2.feature_id) == ("todo", "medium", "f1")
    assert list(t2.dependencies.values_list("pk", flat=True)) == ["t1"]
    assert Task.objects.get(pk="t3").feature_id is None


def test_assign_progress_complete(client_with_key):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    body = post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a1"))
    assert (
        body["event_data"]["task_name"] == "Task t1" and body["event_data"]["old_status"] == "todo"
    )
    task, agent = Task.objects.get(), Agent.objects.get()
    assert (task.status, task.assigned_to_id, agent.current_task_id) == ("in_progress", "a1", "t1")

    post_events(
        client_with_key,
        system_event("task_progress", task_id="t1", agent_id="a1", status="blocked", progress=40),
    )
    task.refresh_from_db()
    assert (task.status, task.progress) == ("blocked", 40)

    post_events(client_with_key, system_event("task_completed", task_id="t1", agent_id="a1"))
    task.refresh_from_db()
    agent.refresh_from_db()
    assert (task.status, task.progress, agent.current_task_id) == ("completed", 100, None)
    assert task.completed_at is not None
    record = AgentTaskRecord.objects.get()
    assert (record.agent_id, record.task_id, record.outcome) == ("a1", "t1", "completed")


@pytest.mark.parametrize("word", ["done", "completed"])
def test_progress_to_done_acts_as_completion(client_with_key, word):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a1"))
    body = post_events(
        client_with_key,
        system_event("task_progress", task_id="t1", agent_id="a1", status=word, progress=100),
    )
    assert body["event_data"]["status"] == "completed"
    assert Task.objects.get().status == "completed"
    assert Agent.objects.get().current_task_id is None
    assert AgentTaskRecord.objects.get().outcome == "completed"


def test_task_failed_stores_a_sanitized_message(client_with_key):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a1"))
    body = post_events(
        client_with_key,
        system_event(
            "task_failed",
            task_id="t1",
            agent_id="a1",
            error_message="disk full at /home/carol/build for carol@example.com",
        ),
    )
    assert "carol" not in str(body) and "carol" not in str(LiveEvent.objects.last().event_data)
    assert Task.objects.get().status == "failed"
    assert Agent.objects.get().current_task_id is None
    assert AgentTaskRecord.objects.get().outcome == "failed"


def test_reassignment_moves_the_task(client_with_key):
    build_world(client_with_key, agents=("a1", "a2"), tasks=[("t1", "f1", ())])
    post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a1"))
    body = post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a2"))
    assert body["event_data"]["previous_agent_id"] == "a1"
    assert Agent.objects.get(pk="a1").current_task_id is None
    assert Agent.objects.get(pk="a2").current_task_id == "t1"


@pytest.mark.parametrize(
    ("event", "field", "unknown"),
    [
        (
            system_event("agent_status_changed", agent_id="ghost", status="idle"),
            "event_data.agent_id",
            "ghost",
        ),
        (system_event("feature_created", project_id="nope"), "event_data.project_id", "nope"),
        (system_event("task_created", project_id="nope"), "event_data.project_id", "nope"),
        (
            system_event("task_created", project_id="p1", feature_id="nope"),
            "event_data.feature_id",
            "nope",
        ),
        (
            system_event("task_created", project_id="p1", feature_id="f1", dependencies=["t-x"]),
            "event_data.dependencies",
            "t-x",
        ),
        (system_event("task_assigned", task_id="t-x", agent_id="a1"), "event_data.task_id", "t-x"),
        (
            system_event("task_assigned", task_id="t1", agent_id="ghost"),
            "event_data.agent_id",
            "ghost",
        ),
        (system_event("task_completed", task_id="t-x", agent_id="a1"), "event_data.task_id", "t-x"),
    ],
)
def test_unknown_ids_are_400_naming_the_id(client_with_key, event, field, unknown):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    before = LiveEvent.objects.count()
    body = post_events(client_with_key, event, expect=400)
    assert unknown in body[field][0]
    assert LiveEvent.objects.count() == before


@pytest.mark.parametrize(
    "events",
    [
        [system_event("task_completed", task_id="t1", agent_id="a1")],  # nobody assigned
        [system_event("task_failed", task_id="t1", agent_id="a1")],
        [
            system_event(
                "task_progress", task_id="t1", agent_id="a1", status="in_progress", progress=5
            )
        ],
        [
            system_event("task_assigned", task_id="t1", agent_id="a1"),
            system_event("task_completed", task_id="t1", agent_id="a2"),
        ],  # someone else's task
        [
            system_event("task_assigned", task_id="t1", agent_id="a1"),
            system_event("task_completed", task_id="t1", agent_id="a1"),
            system_event("task_assigned", task_id="t1", agent_id="a2"),
        ],  # finished
        [system_event("project_created", project_id="p1", name="again")],
        [system_event("task_created", task_id="t1", project_id="p1", feature_id=None, name="a")],
    ],
)
def test_impossible_transitions_are_409(client_with_key, events):
    build_world(client_with_key, agents=("a1", "a2"), tasks=[("t1", "f1", ())])
    for event in events[:-1]:
        post_events(client_with_key, event)
    post_events(client_with_key, events[-1], expect=409)


def test_a_batch_is_applied_in_order_all_or_nothing(client_with_key):
    build_world(client_with_key, tasks=[("t1", "f1", ())])
    before = LiveEvent.objects.count()
    body = post_events(
        client_with_key,
        system_event("task_assigned", task_id="t1", agent_id="a1"),
        system_event("agent_status_changed", agent_id="a1", status="idle"),
        system_event("task_completed", task_id="t1", agent_id="nobody"),
        expect=400,
    )
    assert "events[2].event_data.agent_id" in body
    assert Task.objects.get().status == "todo"
    assert Agent.objects.get().status == "active"
    assert LiveEvent.objects.count() == before

    conflict = post_events(
        client_with_key,
        system_event("task_assigned", task_id="t1", agent_id="a1"),
        system_event("task_completed", task_id="t1", agent_id="a1"),
        system_event("task_completed", task_id="t1", agent_id="a1"),
        expect=409,
    )
    assert conflict["detail"].startswith("events[2]")
    assert Task.objects.get().status == "todo"

    applied = post_events(
        client_with_key,
        system_event("task_assigned", task_id="t1", agent_id="a1"),
        system_event("task_completed", task_id="t1", agent_id="a1"),
    )
    assert applied["applied"] == 2
    ids = [event["id"] for event in applied["events"]]
    assert ids == sorted(ids) and ids[0] > before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "task_teleported", "event_data": {}}, "event_type"),
        ({"event_data": {}}, "event_type"),
        (
            {
                "event_type": "task_progress",
                "event_data": {
                    "task_id": "t",
                    "agent_id": "a",
                    "status": "snoozing",
                    "progress": 5,
                },
            },
            "event_data.status",
        ),
        (
            {
                "event_type": "task_progress",
                "event_data": {
                    "task_id": "t",
                    "agent_id": "a",
                    "status": "blocked",
                    "progress": 101,
                },
            },
            "event_data.progress",
        ),
        (
            {
                "event_type": "task_created",
                "event_data": {
                    "task_id": "t",
                    "name": "n",
                    "project_id": "p",
                    "estimated_hours": -1,
                },
            },
            "event_data.estimated_hours",
        ),
        (
            {
                "event_type": "task_created",
                "event_data": {
                    "task_id": "t",
                    "name": "n",
                    "project_id": "p",
                    "priority": "whenever",
                },
            },
            "event_data.priority",
        ),
        ({"event_type": "agent_registered", "event_data": {"agent_id": "a"}}, "event_data.name"),
        (
            {
                "event_type": "agent_registered",
                "event_data": {**{"agent_id": "a", "name": "n", "role": "r"}, "colour": 1},
            },
            "event_data.colour",
        ),
        (
            {
                "event_type": "agent_registered",
                "event_data": {"agent_id": "a", "name": "n", "role": "r"},
                "metadata": {"x": "y" * 17000},
            },
            "metadata",
        ),
        ({"events": []}, "events"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client_with_key, body, field):
    response = client_with_key.post(EVENTS_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_writes_need_a_key(anonymous_client):
    response = anonymous_client.post(EVENTS_URL, system_event("agent_registered"), format="json")
    assert response.status_code == 401


def test_self_dependency_is_refused(client_with_key):
    build_world(client_with_key)
    event = system_event(
        "task_created", task_id="t9", project_id="p1", feature_id="f1", dependencies=["t9"]
    )
    assert post_events(client_with_key, event, expect=400)


def test_a_batch_costs_the_same_queries_whatever_its_size(client_with_key):
    """Rows are read once per table and written once per kind of change."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api_keys import cache

    def run(prefix: str, tasks: int) -> int:
        build_world(
            client_with_key,
            project=f"{prefix}-p",
            features=(f"{prefix}-f",),
            agents=(f"{prefix}-a",),
        )
        events = [
            system_event(
                "task_created",
                task_id=f"{prefix}-t{i}",
                project_id=f"{prefix}-p",
                feature_id=f"{prefix}-f",
                name=f"T{i}",
                dependencies=[f"{prefix}-t{i - 1}"] if i else [],
            )
            for i in range(tasks)
        ]
        for i in range(tasks):
            events += [
                system_event("task_assigned", task_id=f"{prefix}-t{i}", agent_id=f"{prefix}-a"),
                system_event(
                    "task_progress",
                    task_id=f"{prefix}-t{i}",
                    agent_id=f"{prefix}-a",
                    status="in_progress",
                    progress=50,
                ),
                system_event("task_completed", task_id=f"{prefix}-t{i}", agent_id=f"{prefix}-a"),
            ]
        cache._active.clear()
        with CaptureQueriesContext(connection) as queries:
            post_events(client_with_key, *events)
        return len(queries)

    small, large = run("s", 3), run("l", 60)
    # (On PostgreSQL many live events go in by COPY, which the query log does not show.)
    assert large <= small
    assert large <= 20
    assert Task.objects.filter(status="completed").count() == 63
