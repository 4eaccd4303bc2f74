"""Telemetry batches in the admin: read-only, filtered by version, OS and period; an action
deletes whole installations."""

import pytest
from django.contrib.auth.models import Permission, User

from backend.models import BatchMilestone, TelemetryBatch
from tests.backend.helpers import batch, figures, installation, store

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/backend/telemetrybatch/"


@pytest.fixture
def batches():
    store(batch(installation_id=installation(1), marcus_version="1.0.0"))
    store(
        batch(
            installation_id=installation(1),
            marcus_version="1.1.0",
            period_start="2025-02-01T00:00:00Z",
            period_end="2025-02-02T00:00:00Z",
        )
    )
    store(batch(installation_id=installation(2), marcus_version="1.1.0", os_type="darwin"))
    store(
        batch(
            installation_id=installation(3),
            os_type="win32",
            milestones={"deployment": figures(4, 2, 1, 7.25)},
        )
    )


@pytest.fixture
def admin_client(client):
    User.objects.create_superuser("admin", password="a-long-password-1")
    client.login(username="admin", password="a-long-password-1")
    return client


def test_changelist_filters(admin_client, batches):
    def count(**params) -> int:
        page = admin_client.get(CHANGELIST, params)
        assert page.status_code == 200
        return page.context["cl"].result_count

    assert count() == 4
    assert count(marcus_version="1.1.0") == 2
    assert count(os_type="win32") == 1
    assert count(period_start__gte="2025-02-01 00:00Z", period_start__lt="2025-02-02 00:00Z") == 1
    assert count(q=installation(1)) == 2


def test_a_batch_page_is_read_only_with_its_milestones(admin_client, batches):
    stored = TelemetryBatch.objects.get(installation_id=installation(3))
    page = admin_client.get(f"{CHANGELIST}{stored.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "<td>deployment</td><td>4</td><td>2</td><td>1</td><td>7.250</td>" in content
    assert "&quot;feature_usage&quot;" in content
    assert 'name="_save"' not in content
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{stored.pk}/delete/").status_code == 403


def test_the_action_deletes_every_batch_of_the_selected_installations(admin_client, batches):
    """Selecting one batch of installation 1 removes both of its batches and their rows."""
    one = TelemetryBatch.objects.filter(installation_id=installation(1)).first()
    response = admin_client.post(
        CHANGELIST,
        {"action": "delete_installations", "_selected_action": [one.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Deleted 1 installation(s): 2 batch(es) and 4 milestone row(s)." in (
        response.content.decode()
    )
    assert not TelemetryBatch.objects.filter(installation_id=installation(1)).exists()
    assert TelemetryBatch.objects.count() == 2
    assert BatchMilestone.objects.count() == 3


def test_the_action_needs_the_delete_permission(client, batches):
    staff = User.objects.create_user("staff", password="a-long-password-1", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_telemetrybatch"))
    client.login(username="staff", password="a-long-password-1")
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "delete_installations" not in page.content.decode()
    one = TelemetryBatch.objects.first()
    client.post(CHANGELIST, {"action": "delete_installations", "_selected_action": [one.pk]})
    assert TelemetryBatch.objects.count() == 4
