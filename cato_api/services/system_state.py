"""The observed state as one transaction sees it: rows read (and locked) once, changed in
memory by the system-event handlers in order, and written back once.

A batch of a thousand events then costs a dozen queries, not thousands: everything it names
is read in one query per table before the first event applies, and every change is written
with bulk inserts and updates after the last.
"""

from collections.abc import Iterable
from typing import Any

from django.db import models

from cato_api.models import Agent, AgentTaskRecord, Feature, Project, Task, TaskDependency
from marcus_site.bulk import update_rows
from marcus_site.domain import Conflict, Invalid

HOW_TO_CREATE = {
    Agent: "register it first (agent_registered)",
    Project: "create it first (project_created)",
    Feature: "create it first (feature_created)",
    Task: "create it first (task_created)",
}
# The ids each event type names, by model: what to read before applying a group.
IDS_NAMED = {
    Agent: ("agent_id",),
    Project: ("project_id",),
    Feature: ("feature_id",),
    Task: ("task_id", "dependencies"),
}
AGENT_FIELDS = ["name", "role", "skills", "status", "current_task", "updated_at"]
TASK_FIELDS = ["status", "progress", "assigned_to", "updated_at", "completed_at"]


class SystemState:
    def __init__(self):
        self.rows: dict[type[models.Model], dict[str, models.Model | None]] = {
            model: {} for model in IDS_NAMED
        }
        self.created: dict[type[models.Model], list[models.Model]] = {
            model: [] for model in IDS_NAMED
        }
        self.created_ids: dict[type[models.Model], set[str]] = {model: set() for model in IDS_NAMED}
        self.changed: dict[type[models.Model], dict[str, models.Model]] = {
            Agent: {},
            Task: {},
        }
        self.dependencies: list[TaskDependency] = []
        self.records: list[AgentTaskRecord] = []

    # --- reading ----------------------------------------------------------------------------

    def preload(self, all_data: Iterable[Any]) -> None:
        """Read (and lock) every row the events name, one query per table."""
        wanted: dict[type[models.Model], set[str]] = {model: set() for model in IDS_NAMED}
        for data in all_data:
            for model, names in IDS_NAMED.items():
                for name in names:
                    value = getattr(data, name, None)
                    if isinstance(value, str):
                        wanted[model].add(value)
                    elif isinstance(value, list):
                        wanted[model].update(value)
        for model, ids in wanted.items():
            ids -= self.rows[model].keys()
            if not ids:
                continue
            found = model.objects.select_for_update().in_bulk(ids)
            for pk in ids:
                self.rows[model][pk] = found.get(pk)

    def find(self, model, pk: str):
        if pk not in self.rows[model]:
            self.rows[model][pk] = model.objects.select_for_update().filter(pk=pk).first()
        return self.rows[model][pk]

    def get(self, model, pk: str, field: str):
        """The row; an ``Invalid`` (400) naming the id when it is unknown."""
        row = self.find(model, pk)
        if row is None:
            raise Invalid(
                f"Unknown {model._meta.verbose_name} '{pk}': {HOW_TO_CREATE[model]}.",
                field=f"event_data.{field}",
            )
        return row

    def require_new(self, model, pk: str, field: str) -> None:
        if self.find(model, pk) is not None:
            raise Conflict(f"The {model._meta.verbose_name} '{pk}' already exists ({field}).")

    # --- changing ---------------------------------------------------------------------------

    def add(self, row: models.Model) -> None:
        model = type(row)
        self.rows[model][row.pk] = row
        self.created[model].append(row)
        self.created_ids[model].add(row.pk)

    def touch(self, row: models.Model) -> None:
        """``row`` changed; written back at the end (new rows are inserted whole)."""
        if row.pk not in self.created_ids[type(row)]:
            self.changed[type(row)][row.pk] = row

    # --- writing back -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write every change, in an order that satisfies the foreign keys."""
        Project.objects.bulk_create(self.created[Project])
        Feature.objects.bulk_create(self.created[Feature])
        new_agents = self.created[Agent]
        pending_current = {agent.pk: agent.current_task_id for agent in new_agents}
        for agent in new_agents:  # their current task may be created below
            agent.current_task_id = None
        Agent.objects.bulk_create(new_agents)
        Task.objects.bulk_create(self.created[Task])
        TaskDependency.objects.bulk_create(self.dependencies)
        for agent in new_agents:
            agent.current_task_id = pending_current[agent.pk]
            if agent.current_task_id:
                self.changed[Agent][agent.pk] = agent
        update_rows(Agent, AGENT_FIELDS, self.changed[Agent].values())
        update_rows(Task, TASK_FIELDS, self.changed[Task].values())
        AgentTaskRecord.objects.bulk_create(self.records)
