"""API keys: issued once, stored as a hash, enforced by the auth rules of api.md."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from api_keys.models import ApiKey
from api_keys.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db

WRITE_URL = "/api/telemetry/milestones/"
READ_URL = "/api/cato/metrics/journey"
START_BODY = {"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"}


def run_create_api_key(*arguments) -> list[str]:
    out = io.StringIO()
    call_command("create_api_key", *arguments, stdout=out)
    return out.getvalue().rstrip("\n").split("\n")


def bearer(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_command_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash():
    lines = run_create_api_key("marcus-prod")
    raw_key = lines[-1]
    assert raw_key.startswith("mk_") and " " not in raw_key and len(raw_key) > 30
    stored = ApiKey.objects.get(name="marcus-prod")
    assert not stored.is_admin
    assert raw_key.startswith(stored.prefix) and len(stored.prefix) < 16
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_keys_apikey")
        rows = cursor.fetchall()
    assert raw_key not in repr(rows)
    assert bearer(raw_key).post(WRITE_URL, START_BODY, format="json").status_code == 201


def test_command_admin_flag_and_rotation():
    first = run_create_api_key("ops", "--admin")[-1]
    assert ApiKey.objects.get(name="ops").is_admin
    second = run_create_api_key("ops", "--admin", "--rotate")[-1]
    assert first != second
    assert bearer(first).post(WRITE_URL, START_BODY, format="json").status_code == 401
    assert bearer(second).post(WRITE_URL, START_BODY, format="json").status_code == 201


def test_command_rejects_an_empty_name():
    with pytest.raises(CommandError):
        call_command("create_api_key", "  ", stdout=io.StringIO())


def test_missing_key_on_a_write_is_401_with_a_bearer_challenge():
    response = APIClient().post(WRITE_URL, START_BODY, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "header",
    ["Bearer mk_unknown", "Bearer", "Bearer a b", "Bearer " + "x" * 500, "Bearer ключ"],
)
def test_unknown_or_malformed_keys_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(WRITE_URL, START_BODY, format="json")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_key_is_refused_with_a_clear_message():
    issued = api_key_create(name="old")
    api_key_revoke(api_key=issued.api_key)
    response = bearer(issued.raw_key).get(READ_URL)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_reads_need_a_key_or_a_login(client):
    assert APIClient().get(READ_URL).status_code == 401
    assert bearer(api_key_create(name="reader").raw_key).get(READ_URL).status_code == 200
    User.objects.create_user("researcher", password="a-long-password-1")
    client.login(username="researcher", password="a-long-password-1")
    assert client.get(READ_URL).status_code == 200


def test_a_logged_in_session_cannot_write_without_a_key(client):
    User.objects.create_user("researcher", password="a-long-password-1")
    client.login(username="researcher", password="a-long-password-1")
    response = client.post(WRITE_URL, START_BODY, content_type="application/json")
    assert response.status_code == 403


@override_settings(MARCUS={"PUBLIC_READ": True})
def test_public_read_opens_reads_but_not_writes():
    assert APIClient().get(READ_URL).status_code == 200
    assert APIClient().post(WRITE_URL, START_BODY, format="json").status_code == 401


def test_last_used_is_recorded():
    issued = api_key_create(name="used")
    bearer(issued.raw_key).get(READ_URL)
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_session(client):
    User.objects.create_superuser("admin", password="a-long-password-1")
    client.login(username="admin", password="a-long-password-1")
    return client


def test_admin_creates_a_key_and_shows_it_once(admin_session):
    response = admin_session.post(
        "/admin/api_keys/apikey/add/", {"name": "dashboard", "is_admin": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    stored = ApiKey.objects.get(name="dashboard")
    start = page.index('id="raw-api-key"')
    raw_key = page[page.index(">", start) + 1 : page.index("</code>", start)]
    assert raw_key.startswith(stored.prefix)
    assert bearer(raw_key).get(READ_URL).status_code == 200
    change_page = admin_session.get(f"/admin/api_keys/apikey/{stored.pk}/change/").content
    assert raw_key.encode() not in change_page


def test_admin_lists_and_revokes_keys(admin_session):
    issued = api_key_create(name="to-revoke")
    listing = admin_session.get("/admin/api_keys/apikey/")
    assert b"to-revoke" in listing.content
    response = admin_session.post(
        "/admin/api_keys/apikey/",
        {"action": "revoke_keys", "_selected_action": [issued.api_key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert bearer(issued.raw_key).get(READ_URL).status_code == 401
