"""The snapshot graph of the observed system, in the seed's shape, in a constant number of
queries (six), whatever the number of agents and tasks."""

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from cato_api.models import Agent, Feature, Project, Task, TaskDependency
from cato_api.vocabulary import AgentStatus, TaskStatus, WorkStatus
from marcus_site.timestamps import iso_utc

TASK_FIELDS = (
    "id",
    "name",
    "status",
    "priority",
    "assigned_to_id",
    "estimated_hours",
    "feature_id",
)


def _work_status(task_count: int, completed: int) -> str:
    return WorkStatus.COMPLETED if task_count and completed == task_count else WorkStatus.ACTIVE


def dependencies_by_task(task_ids=None) -> dict[str, list[str]]:
    links = TaskDependency.objects.order_by("id")
    if task_ids is not None:
        links = links.filter(task_id__in=task_ids)
    grouped: dict[str, list[str]] = {}
    for task_id, depends_on in links.values_list("task_id", "depends_on_id"):
        grouped.setdefault(task_id, []).append(depends_on)
    return grouped


def task_node(row: tuple, dependencies: list[str]) -> dict[str, Any]:
    """A task node from a ``values_list(*TASK_FIELDS)`` row."""
    task_id, name, status, priority, assigned_to, estimated_hours, feature_id = row
    return {
        "id": task_id,
        "name": name,
        "status": status,
        "priority": priority,
        "assigned_to": assigned_to,
        "dependencies": dependencies,
        "estimated_hours": estimated_hours,
        "feature_id": feature_id,
    }


def agent_node(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "role": row["role"],
        "status": row["status"],
        "skills": row["skills"],
        "current_task_id": row["current_task_id"],
        "task_count": row["task_count"],
    }


AGENT_FIELDS = ("id", "name", "role", "status", "skills", "current_task_id")


def agents_with_task_counts():
    return Agent.objects.annotate(task_count=Count("assigned_tasks")).values(
        *AGENT_FIELDS, "task_count"
    )


def system_snapshot() -> dict[str, Any]:
    agents = [agent_node(row) for row in agents_with_task_counts()]
    dependencies = dependencies_by_task()
    tasks = [
        task_node(row, dependencies.get(row[0], []))
        for row in Task.objects.order_by().values_list(*TASK_FIELDS)
    ]
    done = Q(tasks__status=TaskStatus.COMPLETED)
    projects = [
        {
            "id": row["id"],
            "name": row["name"],
            "status": _work_status(row["task_count"], row["completed"]),
            "task_count": row["task_count"],
        }
        for row in Project.objects.annotate(
            task_count=Count("tasks"), completed=Count("tasks", filter=done)
        ).values("id", "name", "task_count", "completed")
    ]
    features = [
        {
            "id": row["id"],
            "name": row["name"],
            "status": _work_status(row["task_count"], row["completed"]),
            "task_count": row["task_count"],
            "project_id": row["project_id"],
        }
        for row in Feature.objects.annotate(
            task_count=Count("tasks"), completed=Count("tasks", filter=done)
        ).values("id", "name", "project_id", "task_count", "completed")
    ]
    edges = {
        "task_dependencies": [
            {"from": task_id, "to": depends_on, "type": "dependency"}
            for task_id, targets in dependencies.items()
            for depends_on in targets
        ],
        "agent_assignments": [
            {"from": task["assigned_to"], "to": task["id"], "type": "assignment"}
            for task in tasks
            if task["assigned_to"]
        ],
        "feature_tasks": [
            {"from": task["feature_id"], "to": task["id"], "type": "contains"}
            for task in tasks
            if task["feature_id"]
        ],
        "project_features": [
            {"from": feature["project_id"], "to": feature["id"], "type": "contains"}
            for feature in features
        ],
    }
    metrics = {
        "total_agents": len(agents),
        "active_agents": sum(agent["status"] == AgentStatus.ACTIVE for agent in agents),
        "total_tasks": len(tasks),
        "completed_tasks": sum(task["status"] == TaskStatus.COMPLETED for task in tasks),
        "total_projects": len(projects),
        "total_features": len(features),
        "timestamp": iso_utc(timezone.now()),
    }
    return {
        "nodes": {"agents": agents, "tasks": tasks, "projects": projects, "features": features},
        "edges": edges,
        "metrics": metrics,
    }
