from cato_api.event_schemas import EXAMPLES
from cato_api.vocabulary import SystemEventType

EVENTS_URL = "/api/cato/events/"


def system_event(kind: str, **data) -> dict:
    """The documented example of a type, with fields overridden."""
    return {"event_type": kind, "event_data": {**EXAMPLES[SystemEventType(kind)], **data}}


def post_events(client, *events, expect: int = 201):
    body = {"events": list(events)} if len(events) > 1 else events[0]
    response = client.post(EVENTS_URL, body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def build_world(client, *, agents=("a1",), project="p1", features=("f1",), tasks=()):
    """Register agents, one project, features and tasks ((task_id, feature, deps) tuples)."""
    events = [
        system_event("agent_registered", agent_id=a, name=f"Agent {a}", role="dev") for a in agents
    ]
    events.append(system_event("project_created", project_id=project, name="Project"))
    events += [
        system_event("feature_created", feature_id=f, project_id=project, name=f"Feature {f}")
        for f in features
    ]
    for task_id, feature, dependencies in tasks:
        events.append(
            system_event(
                "task_created",
                task_id=task_id,
                name=f"Task {task_id}",
                project_id=project,
                feature_id=feature,
                dependencies=list(dependencies),
                priority="medium",
            )
        )
    return post_events(client, *events)
