"""marcus_site.bulk.insert_rows writes rows in the database's own format: read back through the
ORM, filtered and looked up, they are exactly what the ORM itself would have stored."""

import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import transaction

from marcus_site.bulk import insert_rows
from research.models import ResearchEvent

pytestmark = pytest.mark.django_db

COLUMNS = ("feed_id", "event_id", "event_type", "timestamp", "received_at", "session_id")
COLUMNS += ("agent_id", "event_data", "confidence")


def row(feed_id: int, moment: datetime, **changes) -> tuple:
    values = {
        "feed_id": feed_id,
        "event_id": str(uuid.uuid4()),
        "event_type": "decision_point",
        "timestamp": moment.isoformat(),
        "received_at": moment.isoformat(),
        "session_id": "s-1",
        "agent_id": None,
        "event_data": orjson.dumps({"confidence": 0.5}).decode(),
        "confidence": 0.5,
        **changes,
    }
    return tuple(values[name] for name in COLUMNS)


@pytest.mark.parametrize("count", [3, 50])  # PostgreSQL: one INSERT for a few rows, else COPY
def test_rows_read_back_as_the_orm_would_have_stored_them(count):
    base = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    moments = [base + timedelta(seconds=index, microseconds=index * 7) for index in range(count)]
    rows = [row(index + 1, moment) for index, moment in enumerate(moments)]
    rows[0] = row(1, base, agent_id="agent-7", confidence=None)
    with transaction.atomic():
        insert_rows(ResearchEvent, COLUMNS, rows)

    first = ResearchEvent.objects.get(event_id=uuid.UUID(rows[0][1]))
    assert (first.feed_id, first.agent_id, first.confidence) == (1, "agent-7", None)
    assert first.timestamp == base and first.event_data == {"confidence": 0.5}
    stored = list(ResearchEvent.objects.order_by("feed_id").values_list("timestamp", flat=True))
    assert stored == moments
    # Comparisons in SQL see the same instants: one microsecond either side of a row.
    middle = moments[count // 2]
    assert ResearchEvent.objects.filter(timestamp__lt=middle).count() == count // 2
    later = ResearchEvent.objects.filter(timestamp__gt=middle - timedelta(microseconds=1))
    assert later.count() == count - count // 2
    assert ResearchEvent.objects.filter(event_id=rows[-1][1]).exists()


def test_a_timestamp_with_another_offset_is_stored_as_its_utc_instant():
    moment = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    in_paris = moment.astimezone(zoneinfo.ZoneInfo("Europe/Paris")).isoformat()
    with transaction.atomic():
        insert_rows(ResearchEvent, COLUMNS, [row(1, moment, timestamp=in_paris)])
    assert ResearchEvent.objects.get().timestamp == moment
    assert ResearchEvent.objects.filter(timestamp__gte=moment).count() == 1
