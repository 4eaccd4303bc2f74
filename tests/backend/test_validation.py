"""Every field rule of a telemetry batch: a 400 that names the field, and nothing stored."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.models import TelemetryBatch
from backend.schemas import (
    MAX_CONTEXT_LENGTH,
    MAX_CONTEXTS,
    MAX_ERROR_GROUPS,
    MAX_FEATURES,
    MAX_MILESTONE_TYPES,
)
from tests.backend.helpers import BATCH_URL, batch, figures

pytestmark = pytest.mark.django_db

OK_FIGURES = figures(1, 1, 0, 1.0)


def _ending_in(minutes: int) -> dict:
    end = datetime.now(UTC) + timedelta(minutes=minutes)
    return {"period_start": (end - timedelta(days=1)).isoformat(), "period_end": end.isoformat()}


def _many_features(count: int) -> dict:
    return {f"feature_{index}": 1 for index in range(count)}


def _many_types(count: int) -> dict:
    return {f"type_{index}": OK_FIGURES for index in range(count)}


def _error(**overrides) -> list:
    return [{"error_type": "TimeoutError", "count": 1, "contexts": [], **overrides}]


# (name, changes to the valid batch, the field reported, a piece of the message)
REFUSED = [
    ("installation id too short", {"installation_id": "0123456789abcde"}, "installation_id", ""),
    ("installation id too long", {"installation_id": "0123456789abcdef0"}, "installation_id", ""),
    ("installation id not hex", {"installation_id": "0123456789abcdeg"}, "installation_id", ""),
    ("installation id a number", {"installation_id": 1234567890123456}, "installation_id", ""),
    ("installation id missing", {"installation_id": None}, "installation_id", ""),
    ("version not a version", {"marcus_version": "latest"}, "marcus_version", "pattern"),
    ("version empty", {"marcus_version": ""}, "marcus_version", "pattern"),
    ("version too long", {"marcus_version": "1." + "0" * 40}, "marcus_version", "pattern"),
    ("version a number", {"marcus_version": 1.4}, "marcus_version", "string"),
    ("python version", {"python_version": "three"}, "python_version", "pattern"),
    ("os type unknown", {"os_type": "freebsd"}, "os_type", "'linux', 'darwin' or 'win32'"),
    ("os type case", {"os_type": "Linux"}, "os_type", ""),
    ("period start not a date", {"period_start": "yesterday"}, "period_start", "datetime"),
    ("period start a number", {"period_start": 1738195200}, "period_start", "ISO 8601"),
    ("period start too early", {"period_start": "1999-12-31T00:00:00Z"}, "period_start", "2020"),
    (
        "period ends before it starts",
        {"period_start": "2025-01-31T00:00:00Z", "period_end": "2025-01-30T00:00:00Z"},
        "period_end",
        "after period_start",
    ),
    (
        "period ends when it starts",
        {"period_start": "2025-01-31T00:00:00Z", "period_end": "2025-01-31T00:00:00Z"},
        "period_end",
        "after period_start",
    ),
    (
        "period over 7 days",
        {"period_start": "2025-01-01T00:00:00Z", "period_end": "2025-01-08T00:00:01Z"},
        "period_end",
        "7 days",
    ),
    ("period ends in the future", _ending_in(10), "period_end", "future"),
    ("milestones not an object", {"milestones": []}, "milestones", ""),
    ("milestone type not a slug", {"milestones": {"Deploy": OK_FIGURES}}, "milestones.Deploy", ""),
    (
        "milestone type too long",
        {"milestones": {"a" * 65: OK_FIGURES}},
        "milestones." + "a" * 65,
        "",
    ),
    (
        "too many milestone types",
        {"milestones": _many_types(MAX_MILESTONE_TYPES + 1)},
        "milestones",
        "at most 100",
    ),
    (
        "completed + failed > attempts",
        {"milestones": {"deployment": figures(3, 2, 2, 1.0)}},
        "milestones.deployment",
        "exceeds attempts",
    ),
    (
        "negative count",
        {"milestones": {"deployment": figures(-1, 0, 0, 0)}},
        "milestones.deployment.attempts",
        "greater than or equal to 0",
    ),
    (
        "count not an integer",
        {"milestones": {"deployment": figures(2.0, 0, 0, 0)}},
        "milestones.deployment.attempts",
        "integer",
    ),
    (
        "count a boolean",
        {"milestones": {"deployment": figures(True, 0, 0, 0)}},
        "milestones.deployment.attempts",
        "integer",
    ),
    (
        "count a string",
        {"milestones": {"deployment": figures("2", 0, 0, 0)}},
        "milestones.deployment.attempts",
        "integer",
    ),
    (
        "count huge",
        {"milestones": {"deployment": figures(10**10, 0, 0, 0)}},
        "milestones.deployment.attempts",
        "less than or equal",
    ),
    (
        "negative duration",
        {"milestones": {"deployment": figures(1, 1, 0, -0.5)}},
        "milestones.deployment.avg_duration_seconds",
        "greater than or equal to 0",
    ),
    (
        "duration a string",
        {"milestones": {"deployment": figures(1, 1, 0, "1.5")}},
        "milestones.deployment.avg_duration_seconds",
        "number",
    ),
    (
        "duration absurd",
        {"milestones": {"deployment": figures(1, 1, 0, 1e300)}},
        "milestones.deployment.avg_duration_seconds",
        "less than or equal",
    ),
    (
        "figures missing",
        {"milestones": {"deployment": {"attempts": 1}}},
        "milestones.deployment.completed",
        "required",
    ),
    (
        "figures with an extra key",
        {"milestones": {"deployment": {**OK_FIGURES, "p99": 3}}},
        "milestones.deployment.p99",
        "Extra inputs",
    ),
    ("feature name invalid", {"feature_usage": {"9lives": 1}}, "feature_usage.9lives", ""),
    ("feature count negative", {"feature_usage": {"x": -1}}, "feature_usage.x", "greater"),
    ("feature count a float", {"feature_usage": {"x": 1.5}}, "feature_usage.x", "integer"),
    (
        "too many features",
        {"feature_usage": _many_features(MAX_FEATURES + 1)},
        "feature_usage",
        "at most 200",
    ),
    ("errors not a list", {"errors": {}}, "errors", "list"),
    (
        "too many error groups",
        {"errors": _error() * (MAX_ERROR_GROUPS + 1)},
        "errors",
        "at most 100",
    ),
    ("error type invalid", {"errors": _error(error_type="a b")}, "errors[0].error_type", ""),
    ("error count negative", {"errors": _error(count=-2)}, "errors[0].count", ""),
    (
        "too many contexts",
        {"errors": _error(contexts=["x"] * (MAX_CONTEXTS + 1))},
        "errors[0].contexts",
        "at most 10",
    ),
    (
        "context too long",
        {"errors": _error(contexts=["x" * (MAX_CONTEXT_LENGTH + 1)])},
        "errors[0].contexts[0]",
        "at most 500",
    ),
    ("context with NUL", {"errors": _error(contexts=["a\x00b"])}, "errors[0].contexts[0]", ""),
    ("context not text", {"errors": _error(contexts=[3])}, "errors[0].contexts[0]", "string"),
    ("unknown field", {"country": "DE"}, "country", "Extra inputs"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_a_rule_broken_is_a_400_naming_the_field(anonymous_client, changes, field, message):
    body = batch(**changes)
    body = {key: value for key, value in body.items() if value is not None}
    response = anonymous_client.post(BATCH_URL, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not TelemetryBatch.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"installation_id": "ABCDEF0123456789"},
        {"marcus_version": "2.0.0rc1+local.3"},
        {"os_type": "darwin"},
        {"os_type": "win32"},
        {"period_start": "2025-01-01T00:00:00Z", "period_end": "2025-01-08T00:00:00Z"},
        _ending_in(2),
        {"period_start": "2025-01-30T02:00:00+02:00"},
        {"milestones": {"deployment": figures(3, 2, 1, 4)}},
        {"milestones": {"deployment": figures(0, 0, 0, 0)}},
        {"milestones": _many_types(MAX_MILESTONE_TYPES)},
        {"feature_usage": _many_features(MAX_FEATURES)},
        {"feature_usage": {"Research.decision_point:v2": 0}},
        {"errors": _error(contexts=["x" * MAX_CONTEXT_LENGTH] * MAX_CONTEXTS)},
        {"errors": _error(count=0, error_type="asyncio.TimeoutError")},
        {"milestones": {}, "feature_usage": {}, "errors": []},
    ],
)
def test_values_at_the_edges_are_accepted(anonymous_client, changes):
    response = anonymous_client.post(BATCH_URL, batch(**changes), format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("body", [b"[]", b'"batch"', b"3", b"null"])
def test_the_body_must_be_an_object(anonymous_client, body):
    response = anonymous_client.post(BATCH_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Expected a JSON object."]}
