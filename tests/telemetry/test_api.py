"""Journey milestones through the HTTP API (api.md, Journey milestones)."""

import uuid

import pytest

from telemetry.models import Milestone

pytestmark = pytest.mark.django_db

MILESTONES = "/api/telemetry/milestones/"


def start(client, **overrides):
    body = {
        "session_id": "session-1",
        "milestone_name": "Create the project",
        "milestone_type": "project_creation",
        **overrides,
    }
    return client.post(MILESTONES, body, format="json")


def test_start_returns_the_milestone_in_the_documented_shape(client_with_key):
    """A started milestone has a UUID id, status started, no duration, and the metadata sent."""
    response = start(client_with_key, metadata={"project_size": "small"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert uuid.UUID(body["milestone_id"])
    assert body["status"] == "started"
    assert body["duration_seconds"] is None
    assert body["metadata"] == {"project_size": "small"}
    assert body["timestamp"].endswith("Z")
    assert {"session_id", "milestone_name", "milestone_type"} <= body.keys()
    assert Milestone.objects.filter(pk=body["milestone_id"]).exists()


def test_complete_measures_duration_and_merges_metadata(client_with_key):
    """Completing sets status completed, a server-measured duration and merged metadata."""
    started = start(client_with_key, metadata={"a": 1, "b": 1}).json()
    response = client_with_key.post(
        f"{MILESTONES}{started['milestone_id']}/complete/", {"metadata": {"b": 2}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["duration_seconds"] >= 0
    assert body["metadata"] == {"a": 1, "b": 2}


def test_complete_without_body_works(client_with_key):
    started = start(client_with_key).json()
    response = client_with_key.post(f"{MILESTONES}{started['milestone_id']}/complete/")
    assert response.status_code == 200, response.content


def test_fail_stores_the_error_message_sanitized(client_with_key):
    """The error message is stored and returned with personal data redacted."""
    started = start(client_with_key).json()
    message = "Cannot open /home/alice/project/plan.md for alice@example.com from 10.1.2.3"
    response = client_with_key.post(
        f"{MILESTONES}{started['milestone_id']}/fail/", {"error_message": message}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "failed"
    for secret in ("alice", "example.com", "10.1.2.3"):
        assert secret not in body["error_message"]
        assert secret not in Milestone.objects.get(pk=started["milestone_id"]).error_message
    assert "[EMAIL]" in body["error_message"]


@pytest.mark.parametrize("second", ["complete", "fail"])
@pytest.mark.parametrize("first", ["complete", "fail"])
def test_a_milestone_ends_once(client_with_key, first, second):
    """Completing or failing a milestone that is not started is a 409."""
    started = start(client_with_key).json()
    url = f"{MILESTONES}{started['milestone_id']}"
    body = {"error_message": "boom"}
    assert client_with_key.post(f"{url}/{first}/", body, format="json").status_code == 200
    response = client_with_key.post(f"{url}/{second}/", body, format="json")
    assert response.status_code == 409
    assert "already" in response.json()["detail"]


@pytest.mark.parametrize("milestone_id", [str(uuid.uuid4()), "not-a-uuid", "123"])
def test_unknown_milestone_is_404(client_with_key, milestone_id):
    response = client_with_key.post(f"{MILESTONES}{milestone_id}/complete/", {}, format="json")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_personal_data_in_metadata_is_not_stored(client_with_key):
    """Secrets and personal data in metadata are redacted before storage."""
    response = start(
        client_with_key, metadata={"api_key": "abc123", "note": "mail bob@example.org"}
    )
    assert response.status_code == 201
    stored = Milestone.objects.get(pk=response.json()["milestone_id"]).metadata
    assert "abc123" not in str(stored)
    assert "bob@example.org" not in str(stored)


# --- bad input: a 4xx naming what was wrong, never a 500 -------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"milestone_name": "x", "milestone_type": "deployment"}, "session_id"),
        ({"session_id": "s", "milestone_type": "deployment"}, "milestone_name"),
        ({"session_id": "s", "milestone_name": "x"}, "milestone_type"),
        (
            {"session_id": "s", "milestone_name": "x", "milestone_type": "Not A Slug"},
            "milestone_type",
        ),
        ({"session_id": "s", "milestone_name": "x", "milestone_type": "1abc"}, "milestone_type"),
        ({"session_id": "s", "milestone_name": "x", "milestone_type": 5}, "milestone_type"),
        ({"session_id": ["s"], "milestone_name": "x", "milestone_type": "a"}, "session_id"),
        (
            {"session_id": "s", "milestone_name": "x", "milestone_type": "a", "metadata": [1]},
            "metadata",
        ),
        (
            {"session_id": "s", "milestone_name": "x", "milestone_type": "a", "metadata": "x"},
            "metadata",
        ),
        (
            {"session_id": "bob@example.com", "milestone_name": "x", "milestone_type": "a"},
            "session_id",
        ),
        ({"session_id": "s", "milestone_name": "x" * 201, "milestone_type": "a"}, "milestone_name"),
    ],
)
def test_bad_start_bodies_name_the_field(client_with_key, body, field):
    response = client_with_key.post(MILESTONES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_metadata_over_64_kb_is_rejected(client_with_key):
    response = start(client_with_key, metadata={"blob": "x" * (64 * 1024)})
    assert response.status_code == 400
    assert "64 KB" in response.json()["metadata"][0]


def test_malformed_json_is_400(client_with_key):
    response = client_with_key.post(MILESTONES, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_json_array_body_is_400(client_with_key):
    response = client_with_key.post(MILESTONES, "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_form_encoded_body_is_415(client_with_key):
    response = client_with_key.post(
        MILESTONES, "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_fail_needs_an_error_message(client_with_key):
    started = start(client_with_key).json()
    response = client_with_key.post(
        f"{MILESTONES}{started['milestone_id']}/fail/", {}, format="json"
    )
    assert response.status_code == 400
    assert "error_message" in response.json()


# --- list and funnel -------------------------------------------------------------------------


def test_list_filters_and_paginates(client_with_key):
    for index in range(5):
        start(client_with_key, session_id=f"s{index % 2}", milestone_type="deployment")
    start(client_with_key, session_id="s0", milestone_type="project_creation")

    response = client_with_key.get(MILESTONES, {"milestone_type": "deployment", "page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2
    assert all(item["milestone_type"] == "deployment" for item in body["results"])
    seen = [item["milestone_id"] for item in body["results"]]
    while body["next"]:
        body = client_with_key.get(body["next"]).json()
        seen += [item["milestone_id"] for item in body["results"]]
    assert len(seen) == len(set(seen)) == 5

    by_session = client_with_key.get(MILESTONES, {"session_id": "s0"}).json()["results"]
    assert len(by_session) == 4


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"hours": "abc"},
        {"hours": "0"},
        {"hours": "99999"},
        {"milestone_type": "Bad Type"},
    ],
)
def test_list_rejects_unknown_query_values(client_with_key, query):
    response = client_with_key.get(MILESTONES, query)
    assert response.status_code == 400
    assert next(iter(query)) in response.json()


def test_list_has_no_n_plus_one(client_with_key, django_assert_max_num_queries):
    for index in range(30):
        start(client_with_key, session_id=f"s{index}")
    # One for the key, one for marking it used at most, one for the page.
    with django_assert_max_num_queries(3):
        response = client_with_key.get(MILESTONES, {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_funnel_counts_sessions_per_step_and_drop_off(client_with_key):
    """Per step: sessions that started, completed, failed; drop-off from the step before."""

    def run(session, milestone_type, outcome):
        milestone = start(client_with_key, session_id=session, milestone_type=milestone_type).json()
        if outcome:
            url = f"{MILESTONES}{milestone['milestone_id']}/{outcome}/"
            client_with_key.post(url, {"error_message": "x"}, format="json")

    # a: s1, s2, s3 complete; s4 fails.  b: s1 completes, s2 fails; s3 never starts b.
    for session in ("s1", "s2", "s3"):
        run(session, "project_creation", "complete")
    run("s4", "project_creation", "fail")
    run("s1", "task_assignment", "complete")
    run("s2", "task_assignment", "fail")
    run("s1", "deployment", None)

    response = client_with_key.get(
        "/api/telemetry/funnel/", {"steps": "project_creation,task_assignment,deployment"}
    )
    assert response.status_code == 200, response.content
    steps = response.json()["steps"]
    assert [step["milestone_type"] for step in steps] == [
        "project_creation",
        "task_assignment",
        "deployment",
    ]
    assert steps[0] == {
        "milestone_type": "project_creation",
        "started": 4,
        "completed": 3,
        "failed": 1,
        "drop_off": 0,
    }
    assert steps[1] == {
        "milestone_type": "task_assignment",
        "started": 2,
        "completed": 1,
        "failed": 1,
        "drop_off": 1,
    }
    assert steps[2] == {
        "milestone_type": "deployment",
        "started": 1,
        "completed": 0,
        "failed": 0,
        "drop_off": 0,
    }
    assert response.json()["period_hours"] == 24


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"steps": ""},
        {"steps": "a,Bad"},
        {"steps": "a,a"},
        {"steps": "a", "hours": "x"},
        {"steps": ",".join(f"s{i}" for i in range(21))},
    ],
)
def test_funnel_rejects_bad_queries(client_with_key, query):
    response = client_with_key.get("/api/telemetry/funnel/", query)
    assert response.status_code == 400
