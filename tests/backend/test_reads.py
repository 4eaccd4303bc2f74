"""GET /v1/metrics/aggregate, /v1/metrics/installations and /v1/privacy; DELETE
/v1/installations/{id}: figures against hand-computed ones."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from backend.models import BatchMilestone, TelemetryBatch
from telemetry import privacy
from tests.backend.helpers import (
    AGGREGATE_URL,
    INSTALLATIONS_URL,
    PRIVACY_URL,
    batch,
    figures,
    installation,
    store,
)

pytestmark = pytest.mark.django_db

A, B, C, D = (installation(number) for number in (0xA, 0xB, 0xC, 0xD))


def _period(days_ago: int) -> dict:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=30 - days_ago)
    return {
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=1)).isoformat(),
    }


@pytest.fixture
def fleet():
    """Four installations, two versions; D's batch was received two days ago."""
    now = timezone.now()
    store(
        batch(
            installation_id=A,
            marcus_version="1.0.0",
            milestones={
                "project_creation": figures(10, 8, 1, 10.0),
                "deployment": figures(2, 0, 2, 0.0),
                "onboarding": figures(0, 0, 0, 0.0),
            },
            **_period(1),
        )
    )
    store(
        batch(
            installation_id=B,
            marcus_version="1.0.0",
            os_type="darwin",
            milestones={"project_creation": figures(5, 2, 3, 40.0)},
            **_period(1),
        )
    )
    store(
        batch(
            installation_id=C,
            marcus_version="2.0.0",
            os_type="win32",
            milestones={
                "project_creation": figures(4, 4, 0, 5.0),
                "deployment": figures(3, 3, 0, 20.0),
            },
            **_period(1),
        )
    )
    # A upgraded, and sent the next day's batch too.
    store(
        batch(
            installation_id=A,
            marcus_version="2.0.0",
            milestones={"project_creation": figures(1, 1, 0, 100.0)},
            **_period(0),
        )
    )
    store(
        batch(
            installation_id=D,
            marcus_version="1.0.0",
            milestones={"project_creation": figures(100, 100, 0, 1000.0)},
            **_period(2),
        ),
        received_at=now - timedelta(hours=48),
    )


def aggregate(client, **params):
    response = client.get(AGGREGATE_URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_aggregate_of_the_last_day(anonymous_client, fleet, django_assert_num_queries):
    """project_creation: (8x10 + 2x40 + 4x5 + 1x100) / 15 = 18.667 s weighted by completed
    counts (the average of the averages would be 38.75); D was received 48 h ago."""
    with django_assert_num_queries(2):
        body = aggregate(anonymous_client, hours=24)
    assert body["success"] is True and body["period_hours"] == 24
    assert body["active_installations"] == 3
    assert body["generated_at"].endswith("Z")
    assert body["milestone_metrics"] == {
        "deployment": {
            "total_attempts": 5,
            "total_completed": 3,
            "total_failed": 2,
            "avg_duration_seconds": 20.0,
            "success_rate": 0.6,
        },
        "onboarding": {
            "total_attempts": 0,
            "total_completed": 0,
            "total_failed": 0,
            "avg_duration_seconds": 0.0,
            "success_rate": 0.0,
        },
        "project_creation": {
            "total_attempts": 20,
            "total_completed": 15,
            "total_failed": 4,
            "avg_duration_seconds": 18.667,
            "success_rate": 0.75,
        },
    }


def test_aggregate_by_version(anonymous_client, fleet):
    one = aggregate(anonymous_client, hours=24, marcus_version="1.0.0")
    assert one["active_installations"] == 2  # A and B
    assert one["milestone_metrics"]["project_creation"] == {
        "total_attempts": 15,
        "total_completed": 10,
        "total_failed": 4,
        "avg_duration_seconds": 16.0,  # (8x10 + 2x40) / 10
        "success_rate": 0.6667,
    }
    assert one["milestone_metrics"]["deployment"]["success_rate"] == 0.0
    two = aggregate(anonymous_client, hours=24, marcus_version="2.0.0")
    assert two["active_installations"] == 2  # A (upgraded) and C
    assert two["milestone_metrics"]["project_creation"]["avg_duration_seconds"] == 24.0
    assert two["milestone_metrics"]["deployment"]["total_completed"] == 3
    assert set(two["milestone_metrics"]) == {"project_creation", "deployment"}
    none = aggregate(anonymous_client, hours=24, marcus_version="9.9.9")
    assert none["active_installations"] == 0 and none["milestone_metrics"] == {}
    everything = aggregate(anonymous_client, hours=24, marcus_version="")
    assert everything["active_installations"] == 3


def test_a_longer_window_takes_older_batches_in(anonymous_client, fleet):
    body = aggregate(anonymous_client, hours=72)
    assert body["active_installations"] == 4
    creation = body["milestone_metrics"]["project_creation"]
    assert creation["total_attempts"] == 120 and creation["total_completed"] == 115
    assert creation["avg_duration_seconds"] == 872.0  # (280 + 100 x 1000) / 115
    assert aggregate(anonymous_client)["period_hours"] == 24  # the default


@pytest.mark.parametrize(
    "params",
    [
        {"hours": 0},
        {"hours": 8761},
        {"hours": -5},
        {"hours": "abc"},
        {"hours": "1.5"},
        {"marcus_version": "latest"},
        {"marcus_version": "1.0\x00"},
    ],
)
def test_aggregate_refuses_bad_parameters(anonymous_client, params):
    response = anonymous_client.get(AGGREGATE_URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize("hours", [1, 8760])
def test_aggregate_window_limits(anonymous_client, hours):
    assert aggregate(anonymous_client, hours=hours)["period_hours"] == hours


def test_installations_per_day(anonymous_client, fleet, django_assert_num_queries):
    """By the UTC day batches were received, every day of the window listed, oldest first."""
    today = timezone.now().astimezone(UTC).date()
    with django_assert_num_queries(3):
        response = anonymous_client.get(INSTALLATIONS_URL, {"days": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["days"] == [
        {
            "date": (today - timedelta(days=2)).isoformat(),
            "unique_installations": 1,
            "by_version": {"1.0.0": 1},
            "by_os": {"linux": 1},
        },
        {
            "date": (today - timedelta(days=1)).isoformat(),
            "unique_installations": 0,
            "by_version": {},
            "by_os": {},
        },
        {
            "date": today.isoformat(),
            "unique_installations": 3,
            "by_version": {"1.0.0": 2, "2.0.0": 2},
            "by_os": {"darwin": 1, "linux": 1, "win32": 1},
        },
    ]
    one_day = anonymous_client.get(INSTALLATIONS_URL, {"days": 1}).json()["days"]
    assert [day["date"] for day in one_day] == [today.isoformat()]
    assert len(anonymous_client.get(INSTALLATIONS_URL).json()["days"]) == 30


@pytest.mark.parametrize("days", [0, 366, "x", "2.5"])
def test_installations_refuses_bad_days(anonymous_client, days):
    response = anonymous_client.get(INSTALLATIONS_URL, {"days": days})
    assert response.status_code == 400 and "days" in response.json()


def test_privacy_policy(anonymous_client, settings):
    body = anonymous_client.get(PRIVACY_URL).json()
    assert set(body) == {
        "opt_in",
        "data_collected",
        "data_not_collected",
        "retention_days",
        "anonymization",
        "full_policy_url",
    }
    assert body["opt_in"] is True and body["retention_days"] == 365
    assert body["full_policy_url"] == "http://testserver/v1/privacy"
    assert all(isinstance(line, str) and line for line in body["data_collected"])
    assert any("IP address" in line for line in body["data_not_collected"])
    for kind in (*privacy.PLACEHOLDERS, privacy.SENSITIVE_KEY):
        assert kind in body["anonymization"]
    # The policy describes itself: it holds no personal data by the module's own rules.
    assert privacy.first_finding(body) is None
    settings.MARCUS = {
        **settings.MARCUS,
        "PRIVACY_POLICY_URL": "https://example.org/privacy",
        "RETENTION_DAYS": {"telemetry_batches": 90},
    }
    body = anonymous_client.get(PRIVACY_URL).json()
    assert (body["full_policy_url"], body["retention_days"]) == ("https://example.org/privacy", 90)


def test_reads_are_public(anonymous_client, fleet):
    for url in (AGGREGATE_URL, INSTALLATIONS_URL, PRIVACY_URL):
        assert anonymous_client.get(url).status_code == 200
        assert anonymous_client.get(url, HTTP_AUTHORIZATION="Bearer nope").status_code == 200


def test_deleting_an_installation(admin_client_with_key, anonymous_client, fleet):
    """Every batch of A and its milestone rows go; the others stay; the figures follow."""
    response = admin_client_with_key.delete(f"/v1/installations/{A.upper()}")
    assert response.status_code == 200
    assert response.json() == {"deleted_batches": 2}
    assert not TelemetryBatch.objects.filter(installation_id=A).exists()
    assert BatchMilestone.objects.count() == 4  # B 1, C 2, D 1
    assert not BatchMilestone.objects.filter(batch__installation_id=A).exists()
    body = aggregate(anonymous_client, hours=24)
    assert body["active_installations"] == 2
    assert body["milestone_metrics"]["project_creation"]["total_attempts"] == 9
    again = admin_client_with_key.delete(f"/v1/installations/{A}")
    assert again.json() == {"deleted_batches": 0}


def test_deleting_needs_an_admin_key(client_with_key, anonymous_client, fleet):
    assert anonymous_client.delete(f"/v1/installations/{A}").status_code == 401
    bad_key = anonymous_client.delete(f"/v1/installations/{A}", HTTP_AUTHORIZATION="Bearer x")
    assert bad_key.status_code == 401
    refused = client_with_key.delete(f"/v1/installations/{A}")
    assert refused.status_code == 403
    assert "admin API key" in refused.json()["detail"]
    assert TelemetryBatch.objects.filter(installation_id=A).count() == 2


@pytest.mark.parametrize("installation_id", ["xyz", "0123456789abcdeg", "0" * 17])
def test_deleting_a_malformed_id_is_400(admin_client_with_key, installation_id):
    response = admin_client_with_key.delete(f"/v1/installations/{installation_id}")
    assert response.status_code == 400
    assert response.json() == {"installation_id": ["Must be 16 hex digits."]}
