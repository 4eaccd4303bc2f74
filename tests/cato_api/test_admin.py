"""The observed system in the admin: lists with filters and search, tasks with dependencies."""

import pytest
from django.contrib.auth.models import User

from tests.cato_api.helpers import build_world, post_events, system_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, client_with_key):
    build_world(
        client_with_key, agents=("a1", "a2"), tasks=[("t1", "f1", ()), ("t2", "f1", ("t1",))]
    )
    post_events(client_with_key, system_event("task_assigned", task_id="t1", agent_id="a1"))
    User.objects.create_superuser("admin", password="a-long-password-1")
    client.login(username="admin", password="a-long-password-1")
    return client


@pytest.mark.parametrize(
    ("url", "query", "count"),
    [
        ("/admin/cato_api/agent/", {"q": "a2"}, 1),
        ("/admin/cato_api/agent/", {"status": "active"}, 2),
        ("/admin/cato_api/task/", {"status": "in_progress"}, 1),
        ("/admin/cato_api/task/", {"q": "a1"}, 1),
        ("/admin/cato_api/project/", {}, 1),
        ("/admin/cato_api/feature/", {"q": "f1"}, 1),
        ("/admin/cato_api/liveevent/", {"event_type": "task_assigned"}, 1),
    ],
)
def test_lists_filter_and_search(admin_client, url, query, count):
    response = admin_client.get(url, query)
    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_task_page_shows_its_dependencies_inline(admin_client):
    page = admin_client.get("/admin/cato_api/task/t2/change/")
    assert page.status_code == 200
    assert b"depends on" in page.content.lower()
    assert b'value="t1"' in page.content


def test_live_event_page_is_read_only_json(admin_client):
    from cato_api.models import LiveEvent

    event = LiveEvent.objects.filter(event_type="task_assigned").get()
    page = admin_client.get(f"/admin/cato_api/liveevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b"&quot;task_name&quot;" in page.content
    assert b'name="_save"' not in page.content
