"""One agent in detail: current task, task history, recent research events."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from cato_api.models import AgentTaskRecord, Task
from cato_api.selectors.snapshot import (
    TASK_FIELDS,
    agent_node,
    agents_with_task_counts,
    dependencies_by_task,
    task_node,
)
from marcus_site.domain import NotFound
from marcus_site.timestamps import iso_utc
from research.models import ResearchEvent
from research.selectors import LIST_FIELDS
from research.serializers import event_record

HISTORY_LENGTH = 10
RECENT_EVENTS = 20
RECENT_HOURS = 24


def agent_detail(agent_id: str) -> dict[str, Any]:
    agent = agents_with_task_counts().filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(f"Agent {agent_id} not found")
    records = list(
        AgentTaskRecord.objects.filter(agent_id=agent_id).values(
            "task_id", "outcome", "finished_at"
        )[:HISTORY_LENGTH]
    )
    task_ids = {record["task_id"] for record in records}
    if agent["current_task_id"]:
        task_ids.add(agent["current_task_id"])
    tasks = {row[0]: row for row in Task.objects.filter(pk__in=task_ids).values_list(*TASK_FIELDS)}
    dependencies = dependencies_by_task(task_ids)

    def node(task_id: str) -> dict[str, Any]:
        return task_node(tasks[task_id], dependencies.get(task_id, []))

    since = timezone.now() - timedelta(hours=RECENT_HOURS)
    events = (
        ResearchEvent.objects.filter(agent_id=agent_id, timestamp__gte=since)
        .order_by("-timestamp", "-feed_id")
        .values(*LIST_FIELDS)[:RECENT_EVENTS]
    )
    return {
        "agent": agent_node(agent),
        "current_task": node(agent["current_task_id"]) if agent["current_task_id"] else None,
        "task_history": [
            {
                **node(record["task_id"]),
                "outcome": record["outcome"],
                "finished_at": iso_utc(record["finished_at"]),
            }
            for record in records
        ],
        "recent_events": [event_record(row) for row in events],
    }
