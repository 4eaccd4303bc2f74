"""manage.py upload_telemetry: opt-in, DO_NOT_TRACK, the batch built from local data, the privacy
pre-check, retries with backoff against a real HTTP server, and what is kept between runs."""

import io
import json
import stat
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from telemetry.models import Milestone, MilestoneStatus
from telemetry.uploader import (
    SECRET_FILE,
    STATE_FILE,
    UploadRefused,
    installation_id,
    period_to_send,
    telemetry_upload,
)
from tests.research.helpers import example

pytestmark = pytest.mark.django_db


def milestone(milestone_type, *, started_at=None, completed_after=None, failed_after=None, **kw):
    """A stored milestone, completed or failed after the given seconds (or still running).

    (tests/telemetry/factories.py's MilestoneFactory drops its completed_after and
    failed_after parameters, so it cannot make these.)"""
    started_at = started_at or timezone.now()
    seconds = completed_after if completed_after is not None else failed_after
    if seconds is not None:
        kw["status"] = MilestoneStatus.COMPLETED if failed_after is None else MilestoneStatus.FAILED
        kw["ended_at"] = started_at + timedelta(seconds=seconds)
        kw["duration_seconds"] = float(seconds)
    return Milestone.objects.create(
        session_id="session-1",
        milestone_name="A step",
        milestone_type=milestone_type,
        started_at=started_at,
        **kw,
    )


RECEIVED = {"success": True, "message": "Telemetry received", "duplicate": False}


class FakeBackend:
    """A real HTTP server on a free port that answers with a script of (status, headers,
    body), then 200; it records every request."""

    def __init__(self):
        self.script: list[tuple[int, dict, dict]] = []
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, answer = (
                    owner.script.pop(0) if owner.script else (200, {}, RECEIVED)
                )
                payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/telemetry/batch"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backend():
    server = FakeBackend()
    yield server
    server.close()


def upload_settings(settings, tmp_path, **changes):
    settings.DATA_DIR = tmp_path
    values = {
        "ENABLED": True,
        "DO_NOT_TRACK": False,
        "ENDPOINT": "http://127.0.0.1:9/v1/telemetry/batch",
        "INTERVAL_HOURS": 24,
        "MARCUS_VERSION": "1.4.2",
        "MAX_ATTEMPTS": 4,
        "BACKOFF_SECONDS": 0.01,
        "MAX_WAIT_SECONDS": 5.0,
        "TIMEOUT_SECONDS": 5.0,
        **changes,
    }
    settings.MARCUS = {**settings.MARCUS, "TELEMETRY_UPLOAD": values}


@pytest.fixture
def enabled(settings, tmp_path, backend):
    upload_settings(settings, tmp_path, ENDPOINT=backend.url)
    return tmp_path


def run(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("upload_telemetry", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_off_unless_enabled(settings, tmp_path, backend):
    upload_settings(settings, tmp_path, ENABLED=False, ENDPOINT=backend.url)
    for arguments in ((), ("--dry-run",), ("--force",)):
        out, _ = run(*arguments)
        assert "Telemetry upload is off" in out and "TELEMETRY_UPLOAD_ENABLED=true" in out
    assert backend.requests == []
    assert list(tmp_path.iterdir()) == []  # not even an installation id


def test_do_not_track_always_wins(settings, tmp_path, backend):
    upload_settings(settings, tmp_path, DO_NOT_TRACK=True, ENDPOINT=backend.url)
    for arguments in ((), ("--dry-run",), ("--force",)):
        out, _ = run(*arguments)
        assert out.strip() == "DO_NOT_TRACK is set, and it always wins: nothing was sent."
    assert backend.requests == [] and list(tmp_path.iterdir()) == []


@pytest.fixture
def local_activity(client_with_key):
    """A day of local activity, with something before the period that must not count."""
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    for seconds in (2.0, 4.0):
        milestone(milestone_type="project_creation", started_at=hour_ago, completed_after=seconds)
    milestone(
        milestone_type="project_creation",
        started_at=hour_ago,
        failed_after=1.0,
        error_message="TimeoutError: board not ready for [EMAIL]",
    )
    milestone(
        milestone_type="deployment",
        started_at=hour_ago,
        failed_after=3.0,
        error_message="the build broke",
    )
    milestone(milestone_type="deployment", started_at=hour_ago)  # still running
    milestone(milestone_type="deployment", started_at=now - timedelta(days=2), completed_after=9)
    events = [example("decision_point"), example("decision_point")]
    events.append(
        example(
            "failure_event",
            event_data={
                "failure_type": "agent timeout",
                "component": "scheduler",
                "error_message": "lost contact with 10.0.0.7",
            },
        )
    )
    response = client_with_key.post("/api/research/events/", {"events": events}, format="json")
    assert response.status_code == 201, response.content
    agent = {"agent_id": "agent-1", "name": "Agent one", "role": "dev"}
    response = client_with_key.post(
        "/api/cato/events/", {"event_type": "agent_registered", "event_data": agent}, format="json"
    )
    assert response.status_code == 201, response.content


def test_the_dry_run_prints_the_batch_of_the_last_day_and_sends_nothing(
    enabled, backend, local_activity
):
    out, err = run("--dry-run")
    assert "Dry run: nothing was sent." in err
    batch = json.loads(out)
    assert batch["installation_id"] == installation_id(enabled)
    assert (batch["marcus_version"], batch["os_type"]) == ("1.4.2", "linux")
    end = datetime.fromisoformat(batch["period_end"])
    start = datetime.fromisoformat(batch["period_start"])
    assert end - start == timedelta(hours=24)
    assert abs((end - timezone.now()).total_seconds()) < 60
    assert batch["milestones"] == {
        "deployment": {"attempts": 2, "completed": 0, "failed": 1, "avg_duration_seconds": 0.0},
        "project_creation": {
            "attempts": 3,
            "completed": 2,
            "failed": 1,
            "avg_duration_seconds": 3.0,
        },
    }
    assert batch["feature_usage"] == {
        "agent_registered": 1,
        "decision_point": 2,
        "failure_event": 1,
    }
    assert batch["errors"] == [
        {
            "error_type": "MilestoneFailed",
            "count": 1,
            "contexts": ["deployment: the build broke"],
        },
        {
            "error_type": "TimeoutError",
            "count": 1,
            "contexts": ["project_creation: TimeoutError: board not ready for [EMAIL]"],
        },
        {
            "error_type": "agent_timeout",
            "count": 1,
            "contexts": ["scheduler: lost contact with [IP]"],
        },
    ]
    assert backend.requests == []
    assert not (enabled / STATE_FILE).exists()


def test_the_batch_sent_is_exactly_the_dry_run_json(enabled, backend, local_activity):
    moment = timezone.now()
    preview = telemetry_upload(dry_run=True, now=moment)
    sent = telemetry_upload(now=moment)
    assert sent.batch_json == preview.batch_json
    (request,) = backend.requests
    assert request["body"] == preview.batch_json.encode()
    assert request["headers"]["Content-Type"] == "application/json"
    assert "received" in sent.message


def test_a_batch_the_backend_would_refuse_is_not_sent(enabled, backend):
    """A milestone type that names a sensitive field: the uploader says what and where."""
    milestone(milestone_type="user_password", completed_after=1)
    with pytest.raises(CommandError) as refusal:
        run()
    assert str(refusal.value) == (
        "The batch would be rejected: sensitive field name at milestones.user_password. "
        "Nothing was sent."
    )
    with pytest.raises(CommandError):
        run("--dry-run")
    assert backend.requests == [] and not (enabled / STATE_FILE).exists()


def test_it_remembers_the_last_period_sent(enabled, backend):
    out, _ = run()
    assert out.startswith("Sent the batch for ")
    first = json.loads(backend.requests[0]["body"])
    out, _ = run()
    assert out.startswith("Nothing new to send: the last batch covered up to ")
    assert first["period_end"] in out and len(backend.requests) == 1
    out, _ = run("--force")
    assert out.startswith("Sent the batch for ")
    second = json.loads(backend.requests[1]["body"])
    # --force sends the time since the last period, not that period again.
    assert second["period_start"] == first["period_end"]
    assert second["installation_id"] == first["installation_id"]


def test_the_installation_id_is_random_hashed_and_kept(tmp_path):
    first = installation_id(tmp_path)
    assert len(first) == 16 and int(first, 16) >= 0 and first == first.lower()
    assert installation_id(tmp_path) == first
    secret = tmp_path / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert first not in secret.read_text()  # the secret is kept, the id is derived
    other = tmp_path / "other"
    other.mkdir()
    assert installation_id(other) != first


def test_retries_honour_retry_after_then_back_off_on_5xx(enabled, backend):
    backend.script = [
        (429, {"Retry-After": "1"}, {"detail": "Too many"}),
        (503, {}, {"detail": "down"}),
        (502, {}, {"detail": "down"}),
    ]
    began = time.monotonic()
    out, err = run()
    elapsed = time.monotonic() - began
    assert len(backend.requests) == 4
    assert len({request["body"] for request in backend.requests}) == 1
    assert elapsed >= 1.0  # Retry-After: 1 was honoured
    assert "429 Too Many Requests; retrying in 1 s (attempt 2 of 4)" in err
    assert "answered 503; retrying in 0.02 s (attempt 3 of 4)" in err
    assert "answered 502; retrying in 0.04 s (attempt 4 of 4)" in err
    assert out.startswith("Sent the batch")
    assert (enabled / STATE_FILE).exists()


@pytest.mark.parametrize("status", [400, 413, 404])
def test_a_refusal_is_never_retried(enabled, backend, status):
    backend.script = [(status, {}, {"detail": "Telemetry validation failed: x at y"})]
    with pytest.raises(CommandError) as refusal:
        run()
    assert f"refused the batch ({status}: " in str(refusal.value)
    assert "not retried" in str(refusal.value)
    assert len(backend.requests) == 1
    assert not (enabled / STATE_FILE).exists()


def test_it_gives_up_after_the_last_attempt(enabled, backend):
    backend.script = [(503, {}, {"detail": "down"})] * 10
    with pytest.raises(CommandError, match="Gave up after 4 attempts: the endpoint answered 503"):
        run()
    assert len(backend.requests) == 4
    assert not (enabled / STATE_FILE).exists()


def test_connection_errors_are_retried(settings, tmp_path, backend):
    backend.close()  # nothing listens on its port any more
    upload_settings(settings, tmp_path, ENDPOINT=backend.url, MAX_ATTEMPTS=3)
    with pytest.raises(CommandError) as failure:
        run()
    assert "Gave up after 3 attempts: the endpoint could not be reached (ConnectError)" in str(
        failure.value
    )


@pytest.mark.parametrize("endpoint", ["", "ftp://example.org/x", "example.org/v1/telemetry/batch"])
def test_a_missing_or_odd_endpoint_is_a_user_mistake(settings, tmp_path, endpoint):
    upload_settings(settings, tmp_path, ENDPOINT=endpoint)
    with pytest.raises(CommandError, match="TELEMETRY_ENDPOINT must be the http"):
        run()
    out, _ = run("--dry-run")  # a dry run sends nothing, so needs no endpoint
    assert json.loads(out)["marcus_version"] == "1.4.2"


def test_an_interval_over_seven_days_is_refused(settings, tmp_path):
    upload_settings(settings, tmp_path, INTERVAL_HOURS=169)
    with pytest.raises(UploadRefused, match=r"1\.\.168"):
        telemetry_upload(dry_run=True)


def test_the_period_to_send():
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    day = timedelta(hours=24)
    assert period_to_send(now=now, interval=day, last_end=None, force=False) == (now - day, now)
    recent = now - timedelta(hours=3)
    assert period_to_send(now=now, interval=day, last_end=recent, force=False) is None
    assert period_to_send(now=now, interval=day, last_end=recent, force=True) == (recent, now)
    long_ago = now - timedelta(days=5)
    assert period_to_send(now=now, interval=day, last_end=long_ago, force=False) == (
        now - day,
        now,
    )
    assert period_to_send(now=now, interval=day, last_end=now, force=True) is None


def test_milestone_statuses_are_the_models(local_activity):
    """The figures above rely on these three statuses, and only these."""
    assert set(MilestoneStatus.values) == {"started", "completed", "failed"}
