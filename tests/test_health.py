"""``GET /health`` checks the database and the channel layer for real."""

import httpx
import pytest

from tests.e2e.server import running_server


@pytest.mark.django_db
def test_health_is_200_when_every_check_passes(anonymous_client):
    response = anonymous_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "service": "marcus-telemetry",
        "checks": {"database": "ok", "channel_layer": "ok"},
    }


@pytest.mark.e2e
def test_health_is_503_naming_the_database_when_it_is_unreachable(tmp_path):
    """A server whose database cannot be reached says so on /health, and writes get a 503."""
    unreachable = "postgres://postgres@127.0.0.1:9/marcus"  # nothing listens on port 9
    with running_server(
        tmp_path,
        migrate=False,
        wait_for_health=False,
        DATABASE_URL=unreachable,
        MARCUS_DB_POOL_TIMEOUT="1",
    ) as server:
        response = httpx.get(f"{server.url}/health", timeout=20)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert body["checks"]["database"].startswith("unavailable")
        assert body["checks"]["channel_layer"] == "ok"

        write = httpx.post(
            f"{server.url}/api/telemetry/milestones/",
            json={"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"},
            headers={"Authorization": "Bearer mk_whatever"},
            timeout=20,
        )
        assert write.status_code == 503
        assert "database" in write.json()["detail"]


@pytest.mark.e2e
def test_health_is_503_naming_the_channel_layer_when_redis_is_unreachable(tmp_path):
    with running_server(
        tmp_path, wait_for_health=False, REDIS_URL="redis://127.0.0.1:9/0"
    ) as server:
        response = httpx.get(f"{server.url}/health", timeout=20)
        assert response.status_code == 503
        assert response.json()["checks"] == {
            "database": "ok",
            "channel_layer": response.json()["checks"]["channel_layer"],
        }
        assert response.json()["checks"]["channel_layer"].startswith("unavailable")
