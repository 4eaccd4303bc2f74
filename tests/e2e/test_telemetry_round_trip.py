"""The opt-in telemetry round trip, end to end: milestones created through the API of one server,
uploaded by ``manage.py upload_telemetry`` to the central backend of a second server (two Daphne
processes, each on its own database), and the aggregate there shows exactly the counts and the
average weighted by completed counts."""

import time

import httpx
import pytest

from tests.e2e.server import manage, running_server

pytestmark = pytest.mark.e2e

MILESTONES = "/api/telemetry/milestones/"


def milestone(server, headers, milestone_type: str, outcome: str | None, seconds: float = 0):
    """Start a milestone, and after ``seconds`` complete or fail it; the server's answer."""
    started = httpx.post(
        f"{server.url}{MILESTONES}",
        json={"session_id": "s-1", "milestone_name": "A step", "milestone_type": milestone_type},
        headers=headers,
        timeout=30,
    )
    assert started.status_code == 201, started.text
    if outcome is None:
        return started.json()
    time.sleep(seconds)
    body = {"error_message": "TimeoutError: no board after 30s"} if outcome == "fail" else {}
    ended = httpx.post(
        f"{server.url}{MILESTONES}{started.json()['milestone_id']}/{outcome}/",
        json=body,
        headers=headers,
        timeout=30,
    )
    assert ended.status_code == 200, ended.text
    return ended.json()


def expected_figures(milestones: list[dict]) -> dict:
    figures: dict[str, dict] = {}
    for one in milestones:
        entry = figures.setdefault(
            one["milestone_type"], {"attempts": 0, "completed": 0, "failed": 0, "durations": []}
        )
        entry["attempts"] += 1
        if one["status"] == "completed":
            entry["completed"] += 1
            entry["durations"].append(one["duration_seconds"])
        elif one["status"] == "failed":
            entry["failed"] += 1
    return figures


def test_milestones_of_one_server_reach_the_aggregate_of_another(tmp_path):
    (tmp_path / "marcus").mkdir()
    (tmp_path / "central").mkdir()
    with (
        running_server(tmp_path / "marcus") as marcus,
        running_server(tmp_path / "central") as central,
    ):
        key = manage(marcus.environment, "create_api_key", "e2e").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {key}"}
        first_day = [
            milestone(marcus, headers, "project_creation", "complete", 0.05),
            milestone(marcus, headers, "project_creation", "complete", 0.4),
            milestone(marcus, headers, "project_creation", "fail", 0.1),
            milestone(marcus, headers, "deployment", "complete", 0.2),
            milestone(marcus, headers, "deployment", None),  # still running
        ]
        uploader = {
            **marcus.environment,
            "TELEMETRY_UPLOAD_ENABLED": "true",
            "DO_NOT_TRACK": "",
            "TELEMETRY_ENDPOINT": f"{central.url}/v1/telemetry/batch",
            "MARCUS_VERSION": "2.5.0",
        }
        out = manage(uploader, "upload_telemetry")
        assert out.startswith("Sent the batch for ") and "received" in out
        assert manage(uploader, "upload_telemetry").startswith("Nothing new to send")

        # A second installation (its own data folder, so its own id) on the same Marcus
        # database, a version later and after more activity: it reports all of it.
        more = [
            milestone(marcus, headers, "project_creation", "complete", 0.8),
            milestone(marcus, headers, "deployment", "fail", 0.05),
        ]
        second_folder = tmp_path / "second-installation"
        second_folder.mkdir()
        second = {**uploader, "MARCUS_DATA_DIR": str(second_folder), "MARCUS_VERSION": "2.6.0"}
        assert manage(second, "upload_telemetry").startswith("Sent the batch for ")

        response = httpx.get(f"{central.url}/v1/metrics/aggregate", params={"hours": 1})
        assert response.status_code == 200
        aggregate = response.json()
        assert aggregate["active_installations"] == 2
        batches = [expected_figures(first_day), expected_figures(first_day + more)]
        expected = {}
        for milestone_type in ("project_creation", "deployment"):
            per_batch = [batch[milestone_type] for batch in batches]
            attempts = sum(batch["attempts"] for batch in per_batch)
            completed = sum(batch["completed"] for batch in per_batch)
            # Each batch sends the mean of its completed durations; the backend weighs each
            # mean by its batch's completed count.
            weighted = sum(
                batch["completed"] * (sum(batch["durations"]) / batch["completed"])
                for batch in per_batch
                if batch["completed"]
            )
            expected[milestone_type] = {
                "total_attempts": attempts,
                "total_completed": completed,
                "total_failed": sum(batch["failed"] for batch in per_batch),
                "avg_duration_seconds": round(weighted / completed, 3),
                "success_rate": round(completed / attempts, 4),
            }
        assert aggregate["milestone_metrics"] == expected
        creation = aggregate["milestone_metrics"]["project_creation"]
        assert (creation["total_attempts"], creation["total_completed"]) == (7, 5)
        assert creation["total_failed"] == 2 and creation["success_rate"] == round(5 / 7, 4)
        # Weighted by completed counts (2 and 3), not the mean of the two batches' means.
        means = [
            sum(b["project_creation"]["durations"]) / b["project_creation"]["completed"]
            for b in batches
        ]
        assert creation["avg_duration_seconds"] != round(sum(means) / 2, 3)

        only_first = httpx.get(
            f"{central.url}/v1/metrics/aggregate", params={"hours": 1, "marcus_version": "2.5.0"}
        ).json()
        assert only_first["active_installations"] == 1
        assert only_first["milestone_metrics"]["project_creation"]["total_attempts"] == 3

        days = httpx.get(f"{central.url}/v1/metrics/installations", params={"days": 1}).json()
        assert days["days"][0]["unique_installations"] == 2
        assert days["days"][0]["by_version"] == {"2.5.0": 1, "2.6.0": 1}
