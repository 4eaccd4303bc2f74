"""POST /v1/telemetry/batch through the DRF view (the test client): what is stored, duplicates,
size and media type, and that a refused batch leaves nothing behind, not even in the logs."""

import json
import logging
import threading
import uuid

import pytest
from django.db import connection

from backend.models import BatchMilestone, TelemetryBatch
from backend.services import telemetry_batch_store
from backend.validation import validate_batch
from tests.backend.helpers import BATCH_URL, batch, figures, installation

pytestmark = pytest.mark.django_db


def post(client, body, **extra):
    return client.post(BATCH_URL, body, format="json", **extra)


def test_a_batch_is_stored_with_its_milestone_rows_and_raw_json(anonymous_client):
    """One row per batch, one per milestone type with completed x mean duration, and the raw
    batch as validated (timestamps in UTC)."""
    body = batch(period_end="2025-01-31T01:00:00+01:00")
    response = post(anonymous_client, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True and answer["duplicate"] is False
    assert answer["message"] == "Telemetry received"
    assert answer["received_at"].endswith("Z")

    stored = TelemetryBatch.objects.get()
    assert (stored.installation_id, stored.marcus_version, stored.os_type) == (
        "0123456789abcdef",
        "1.4.2",
        "linux",
    )
    assert stored.period_end.isoformat() == "2025-01-31T00:00:00+00:00"
    assert stored.raw["period_end"] == "2025-01-31T00:00:00Z"
    assert stored.raw["feature_usage"] == body["feature_usage"]
    assert stored.raw["errors"] == body["errors"]
    rows = {
        row.milestone_type: (row.attempts, row.completed, row.failed, row.duration_total_seconds)
        for row in BatchMilestone.objects.all()
    }
    assert rows == {"project_creation": (4, 3, 1, 37.5), "deployment": (2, 0, 2, 0.0)}
    assert {row.received_at for row in BatchMilestone.objects.all()} == {stored.received_at}
    assert {row.marcus_version for row in BatchMilestone.objects.all()} == {"1.4.2"}


def test_a_batch_with_nothing_in_it_is_stored(anonymous_client):
    """An installation that was idle still counts as active: only the envelope is required."""
    body = {key: batch()[key] for key in ("installation_id", "marcus_version", "python_version")}
    body |= {"os_type": "win32", "period_start": "2025-01-30T00:00:00", "period_end": "2025-01-31"}
    response = post(anonymous_client, body)
    assert response.status_code == 200, response.content
    assert TelemetryBatch.objects.get().raw == {
        **body,
        "period_start": "2025-01-30T00:00:00Z",
        "period_end": "2025-01-31T00:00:00Z",
        "milestones": {},
        "feature_usage": {},
        "errors": [],
    }
    assert not BatchMilestone.objects.exists()


def test_the_same_installation_and_period_is_stored_once(anonymous_client):
    """A retry is a duplicate (whatever the case of the id, and even with other figures)."""
    assert post(anonymous_client, batch()).json()["duplicate"] is False
    again = post(anonymous_client, batch(installation_id="0123456789ABCDEF"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    other_figures = batch(milestones={"project_creation": figures(9, 9, 0, 1.0)})
    assert post(anonymous_client, other_figures).json()["duplicate"] is True
    assert TelemetryBatch.objects.count() == 1
    assert BatchMilestone.objects.get(milestone_type="project_creation").attempts == 4
    # Another period, or another installation, is another batch.
    assert (
        post(anonymous_client, batch(period_end="2025-01-30T12:00:00Z")).json()["duplicate"]
        is False
    )
    assert (
        post(anonymous_client, batch(installation_id=installation(7))).json()["duplicate"] is False
    )
    assert TelemetryBatch.objects.count() == 3


def test_duplicates_within_one_group_and_already_stored_are_told_apart():
    """write_group's case: several batches in one transaction, some repeated, some stored."""
    stored_before = validate_batch(batch(installation_id=installation(1)))
    telemetry_batch_store(batches=[stored_before])
    first = validate_batch(batch(installation_id=installation(2)))
    group = [first, validate_batch(batch(installation_id=installation(2))), stored_before]
    group.append(validate_batch(batch(installation_id=installation(3))))
    results = telemetry_batch_store(batches=group)
    assert [result.duplicate for result in results] == [False, True, True, False]
    assert len({result.received_at for result in results}) == 1
    assert TelemetryBatch.objects.count() == 3
    assert BatchMilestone.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_from_several_connections_store_the_batch_once():
    """Eight writers, each on its own database connection (as several server processes would
    be), store the same batch at the same moment: exactly one stores it."""
    valid = validate_batch(batch())
    writers = 8
    barrier = threading.Barrier(writers)
    results, errors = [], []

    def write() -> None:
        try:
            barrier.wait(timeout=30)
            results.extend(telemetry_batch_store(batches=[valid]))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(result.duplicate for result in results) == [False] + [True] * (writers - 1)
    assert TelemetryBatch.objects.count() == 1
    assert BatchMilestone.objects.count() == 2


def test_a_body_over_one_megabyte_is_413_before_parsing(anonymous_client):
    """The declared length is refused before the body is parsed (it is not even JSON)."""
    response = anonymous_client.post(
        BATCH_URL, b"x" * (1024 * 1024 + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["detail"]
    assert not TelemetryBatch.objects.exists()


def test_a_body_of_exactly_one_megabyte_is_parsed(anonymous_client):
    body = json.dumps(batch()).encode()
    body = body[:-1] + b" " * (1024 * 1024 - len(body)) + b"}"
    response = anonymous_client.post(BATCH_URL, body, content_type="application/json")
    assert response.status_code == 200, response.content


def test_not_json(anonymous_client):
    response = anonymous_client.post(BATCH_URL, b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    text = anonymous_client.post(BATCH_URL, b"{}", content_type="text/plain")
    assert text.status_code == 415


def test_an_api_key_is_not_needed_and_a_bad_one_is_ignored(anonymous_client):
    response = post(anonymous_client, batch(), HTTP_AUTHORIZATION="Bearer mk_not_a_key")
    assert response.status_code == 200


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_a_refused_batch_stores_nothing_and_its_value_is_never_logged(anonymous_client):
    """Personal data deep in an otherwise valid batch: a 400 naming the kind and the place,
    nothing stored, and the value in no log record (at any level) nor in the answer."""
    secret = f"{uuid.uuid4().hex[:8]}@example.com"
    body = batch()
    body["errors"][0]["contexts"].append(f"failed for {secret}")
    collector = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        response = post(anonymous_client, body, REMOTE_ADDR="203.0.113.77")
    finally:
        root.removeHandler(collector)
        root.setLevel(old_level)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Telemetry validation failed: email address at errors[0].contexts[2]"
    }
    assert secret not in response.content.decode()
    assert not any(secret in line or "203.0.113.77" in line for line in collector.lines)
    assert not TelemetryBatch.objects.exists() and not BatchMilestone.objects.exists()


def test_the_raw_batch_answers_ad_hoc_questions(anonymous_client):
    """The raw batch is JSON the database can query; on PostgreSQL it is jsonb with a GIN
    index (SQLite has none, and migrates all the same)."""
    post(anonymous_client, batch())
    post(anonymous_client, batch(installation_id=installation(2), milestones={}))
    with_deployment = TelemetryBatch.objects.filter(raw__milestones__has_key="deployment")
    assert list(with_deployment.values_list("installation_id", flat=True)) == ["0123456789abcdef"]
    if connection.vendor != "postgresql":
        return
    assert TelemetryBatch.objects.filter(raw__contains={"feature_usage": {"task_assigned": 17}})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["backend_batch_raw_gin"]
        )
        (definition,) = cursor.fetchone()
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [TelemetryBatch._meta.db_table, "raw"],
        )
        (data_type,) = cursor.fetchone()
    assert "USING gin (raw)" in definition and data_type == "jsonb"
