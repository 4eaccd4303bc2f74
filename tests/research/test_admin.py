"""Research events in the admin: browsable, read-only, exportable."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import User

from research.models import ResearchEvent
from tests.research.helpers import EVENTS_URL, example

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, client_with_key):
    batch = [example("decision_point", agent_id=f"agent-{i}") for i in range(3)]
    client_with_key.post(EVENTS_URL, {"events": batch}, format="json")
    User.objects.create_superuser("admin", password="a-long-password-1")
    client.login(username="admin", password="a-long-password-1")
    return client


def test_changelist_filters_and_search(admin_client):
    page = admin_client.get("/admin/research/researchevent/", {"q": "agent-1"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    by_type = admin_client.get("/admin/research/researchevent/", {"event_type": "decision_point"})
    assert by_type.context["cl"].result_count == 3


def test_event_page_is_read_only_with_readable_json(admin_client):
    event = ResearchEvent.objects.first()
    page = admin_client.get(f"/admin/research/researchevent/{event.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "&quot;choice_made&quot;: &quot;REST&quot;" in content
    assert 'name="_save"' not in content
    assert admin_client.get("/admin/research/researchevent/add/").status_code == 403


@pytest.mark.parametrize("action", ["export_csv", "export_jsonl"])
def test_export_action_downloads_the_selected_rows(admin_client, action):
    selected = list(ResearchEvent.objects.values_list("pk", flat=True)[:2])
    response = admin_client.post(
        "/admin/research/researchevent/", {"action": action, "_selected_action": selected}
    )
    assert response.status_code == 200
    text = response.content.decode()
    if action == "export_csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 2 and json.loads(rows[0]["event_data"])["options_count"] == 2
    else:
        assert len([json.loads(line) for line in text.splitlines()]) == 2
