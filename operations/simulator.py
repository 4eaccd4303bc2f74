"""A realistic Marcus run, driven through the public HTTP API.

Agents register; a project with features and tasks (with dependencies) is created; tasks whose
dependencies are done are assigned to idle agents, progress, and complete or fail, which
unblocks their dependents; journey milestones start and end; research events of all five
types are logged with plausible values. Everything goes through the API with an API key, at a
chosen rate, and every stored event is recorded (its identity on the live feed) so that a test
can check that what was sent was stored and delivered.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

ROLES = [
    ("backend", ["python", "django", "sql"]),
    ("frontend", ["typescript", "react"]),
    ("qa", ["pytest", "playwright"]),
    ("devops", ["docker", "terraform"]),
]
FEATURE_NAMES = [
    "Accounts",
    "Catalogue",
    "Cart",
    "Checkout",
    "Search",
    "Reviews",
    "Reports",
    "Notifications",
    "Admin tools",
    "Payments",
]


@dataclass
class Tally:
    sent: int = 0
    rejected: int = 0
    failed_requests: int = 0
    started: float = field(default_factory=time.monotonic)
    # The identity of every stored event on the feed: ("feed", id), ("research", event_id),
    # ("milestone", milestone_id, status).
    stored: list[tuple] = field(default_factory=list)

    def rate(self) -> float:
        return self.sent / max(time.monotonic() - self.started, 1e-6)


@dataclass
class Task:
    task_id: str
    feature_id: str
    dependencies: list[str]
    state: str = "todo"  # todo, in_progress, completed, failed
    agent: str | None = None
    progress: int = 0
    assigned_at: float = 0.0


class MarcusSimulation:
    def __init__(
        self,
        client: httpx.Client,
        *,
        agents: int,
        tasks: int,
        seed: int = 1,
        session: str | None = None,
    ):
        self.client = client
        self.rng = random.Random(seed)
        self.session = session or f"sim-{int(time.time())}-{self.rng.randrange(10**6)}"
        self.agent_ids = [f"{self.session}-agent-{i}" for i in range(agents)]
        self.task_count = tasks
        self.tasks: dict[str, Task] = {}
        self.idle: deque[str] = deque(self.agent_ids)
        self.project_id = ""
        self.rounds = 0
        self.tally = Tally()

    # --- HTTP -----------------------------------------------------------------------------

    def _post(self, path: str, body: Any, events: int) -> dict | None:
        try:
            response = self.client.post(path, json=body)
        except httpx.HTTPError:
            self.tally.failed_requests += 1
            self.tally.rejected += events
            return None
        if response.status_code >= 300:
            self.tally.rejected += events
            return None
        self.tally.sent += events
        return response.json()

    def system(self, *events: dict) -> None:
        body = {"events": list(events)} if len(events) > 1 else events[0]
        answer = self._post("/api/cato/events/", body, len(events))
        if answer is not None:
            stored = answer["events"] if "events" in answer else [answer]
            self.tally.stored += [("feed", event["id"]) for event in stored]

    def research(self, *events: dict) -> None:
        body = {"events": list(events)} if len(events) > 1 else events[0]
        answer = self._post("/api/research/events/", body, len(events))
        if answer is not None:
            self.tally.stored += [("research", event_id) for event_id in answer["event_ids"]]

    def milestone_start(self, kind: str, name: str) -> str | None:
        answer = self._post(
            "/api/telemetry/milestones/",
            {"session_id": self.session, "milestone_name": name, "milestone_type": kind},
            1,
        )
        if answer is None:
            return None
        self.tally.stored.append(("milestone", answer["milestone_id"], "started"))
        return answer["milestone_id"]

    def milestone_end(self, milestone_id: str | None, *, failed: bool = False) -> None:
        if milestone_id is None:
            return
        outcome = "fail" if failed else "complete"
        body = {"error_message": "The task failed its checks"} if failed else {}
        answer = self._post(f"/api/telemetry/milestones/{milestone_id}/{outcome}/", body, 1)
        if answer is not None:
            self.tally.stored.append(("milestone", milestone_id, answer["status"]))

    # --- the story ---------------------------------------------------------------------------

    def setup(self) -> None:
        self.system(
            *(
                {
                    "event_type": "agent_registered",
                    "event_data": {
                        "agent_id": agent,
                        "name": f"Agent {i}",
                        "role": ROLES[i % 4][0],
                        "skills": ROLES[i % 4][1],
                    },
                }
                for i, agent in enumerate(self.agent_ids)
            )
        )
        self.new_project()

    def new_project(self) -> None:
        """A project with its features and tasks (the run starts another when one is done)."""
        self.rounds += 1
        prefix = f"{self.session}-r{self.rounds}"
        self.project_id = f"{prefix}-project"
        self.tasks = {}
        journey = self.milestone_start("project_creation", "Create the simulated project")
        self.system(
            {
                "event_type": "project_created",
                "event_data": {"project_id": self.project_id, "name": "Simulated shop"},
            }
        )
        features = [
            f"{prefix}-feature-{i}"
            for i in range(max(1, min(len(FEATURE_NAMES), self.task_count // 5)))
        ]
        self.system(
            *(
                {
                    "event_type": "feature_created",
                    "event_data": {
                        "feature_id": feature,
                        "project_id": self.project_id,
                        "name": FEATURE_NAMES[i % len(FEATURE_NAMES)],
                    },
                }
                for i, feature in enumerate(features)
            )
        )
        created = []
        for i in range(self.task_count):
            feature = features[i % len(features)]
            earlier = [t for t in created if self.tasks[t].feature_id == feature]
            dependencies = self.rng.sample(
                earlier, k=min(len(earlier), self.rng.choice([0, 1, 1, 2]))
            )
            task = Task(f"{prefix}-task-{i}", feature, dependencies)
            self.tasks[task.task_id] = task
            created.append(task.task_id)
        for start in range(0, len(created), 200):
            self.system(
                *(
                    {
                        "event_type": "task_created",
                        "event_data": {
                            "task_id": task_id,
                            "name": f"Task {task_id.rsplit('-', 1)[-1]}",
                            "project_id": self.project_id,
                            "feature_id": self.tasks[task_id].feature_id,
                            "dependencies": self.tasks[task_id].dependencies,
                            "priority": self.rng.choice(["low", "medium", "high", "urgent"]),
                            "estimated_hours": self.rng.choice([1, 2, 3, 5, 8]),
                        },
                    }
                    for task_id in created[start : start + 200]
                )
            )
        self.milestone_end(journey)

    def ready(self) -> list[Task]:
        return [
            task
            for task in self.tasks.values()
            if task.state == "todo"
            and all(self.tasks[d].state == "completed" for d in task.dependencies)
        ]

    def finished(self) -> bool:
        return all(task.state in ("completed", "failed") for task in self.tasks.values()) or not (
            self.ready() or any(t.state == "in_progress" for t in self.tasks.values())
        )

    def step(self) -> None:
        """One move of the run; sends one to four events."""
        working = [t for t in self.tasks.values() if t.state == "in_progress"]
        ready = self.ready()
        if self.idle and ready and (not working or self.rng.random() < 0.4):
            self.assign(self.rng.choice(ready))
        elif working:
            task = self.rng.choice(working)
            if task.progress >= 80 or self.rng.random() < 0.25:
                self.finish(task)
            else:
                self.advance(task)
        else:
            self.research_note()

    def assign(self, task: Task) -> None:
        agent = self.idle.popleft()
        task.state, task.agent, task.assigned_at = "in_progress", agent, time.monotonic()
        alternatives = self.rng.sample(self.agent_ids, k=min(2, len(self.agent_ids)))
        self.system(
            {
                "event_type": "task_assigned",
                "event_data": {"task_id": task.task_id, "agent_id": agent},
            }
        )
        options = ["pair with a reviewer", "work alone", "split the task"]
        self.research(
            {
                "event_type": "task_assignment",
                "session_id": self.session,
                "agent_id": agent,
                "task_id": task.task_id,
                "event_data": {
                    "assignment_reason": "best skill match",
                    "agent_workload": self.rng.randrange(0, 4),
                    "alternative_agents": [a for a in alternatives if a != agent],
                },
            },
            {
                "event_type": "decision_point",
                "session_id": self.session,
                "agent_id": agent,
                "task_id": task.task_id,
                "event_data": {
                    "decision_type": "approach",
                    "options_considered": options,
                    "choice_made": self.rng.choice(options),
                    "reasoning": "Based on the task's size and dependencies.",
                    "confidence": round(self.rng.uniform(0.3, 0.99), 2),
                },
            },
        )

    def advance(self, task: Task) -> None:
        task.progress = min(90, task.progress + self.rng.choice([10, 20, 30]))
        status = "blocked" if self.rng.random() < 0.05 else "in_progress"
        self.system(
            {
                "event_type": "task_progress",
                "event_data": {
                    "task_id": task.task_id,
                    "agent_id": task.agent,
                    "status": status,
                    "progress": task.progress,
                    "message": f"{task.progress}% done",
                },
            }
        )

    def finish(self, task: Task) -> None:
        agent = task.agent
        failed = self.rng.random() < 0.15
        journey = self.milestone_start("task_completion", f"Finish {task.task_id}")
        if failed:
            task.state = "failed"
            self.system(
                {
                    "event_type": "task_failed",
                    "event_data": {
                        "task_id": task.task_id,
                        "agent_id": agent,
                        "error_message": "Integration tests failed",
                    },
                }
            )
            self.research(
                {
                    "event_type": "failure_event",
                    "session_id": self.session,
                    "agent_id": agent,
                    "task_id": task.task_id,
                    "event_data": {
                        "failure_type": "test_failure",
                        "component": "ci",
                        "error_message": "3 integration tests failed",
                        "recovery_attempted": True,
                        "recovery_successful": self.rng.random() < 0.5,
                    },
                }
            )
        else:
            task.state = "completed"
            self.system(
                {
                    "event_type": "task_completed",
                    "event_data": {"task_id": task.task_id, "agent_id": agent},
                }
            )
            unblocked = [
                t
                for t in self.tasks.values()
                if task.task_id in t.dependencies and t.state == "todo"
            ]
            events = [
                {
                    "event_type": "performance_metric",
                    "session_id": self.session,
                    "agent_id": agent,
                    "task_id": task.task_id,
                    "event_data": {
                        "metric_name": "task_completion_time",
                        "metric_value": round(time.monotonic() - task.assigned_at, 3),
                        "metric_unit": "seconds",
                    },
                }
            ]
            if unblocked:
                events.append(
                    {
                        "event_type": "agent_coordination",
                        "session_id": self.session,
                        "event_data": {
                            "coordination_type": "handoff",
                            "agent_ids": [agent],
                            "tasks_involved": [task.task_id] + [t.task_id for t in unblocked],
                        },
                    }
                )
            self.research(*events)
        self.milestone_end(journey, failed=failed)
        self.idle.append(agent)

    def research_note(self) -> None:
        self.research(
            {
                "event_type": "performance_metric",
                "session_id": self.session,
                "event_data": {
                    "metric_name": "throughput",
                    "metric_unit": "tasks/hour",
                    "metric_value": float(sum(t.state == "completed" for t in self.tasks.values())),
                },
            }
        )

    def run(
        self,
        *,
        rate: float,
        duration: float,
        report: Callable[[Tally, MarcusSimulation], None] | None = None,
    ) -> Tally:
        """Send events at about ``rate`` per second for ``duration`` seconds."""
        started = time.monotonic()
        deadline = started + duration
        self.setup()
        last_report = time.monotonic()
        while time.monotonic() < deadline:
            if self.finished():
                self.new_project()
            self.step()
            # Pace by the events sent so far: the run keeps its average rate.
            due = started + (self.tally.sent + self.tally.rejected) / rate if rate > 0 else 0
            if due > time.monotonic():
                time.sleep(min(due - time.monotonic(), max(deadline - time.monotonic(), 0)))
            if report and time.monotonic() - last_report >= 1:
                report(self.tally, self)
                last_report = time.monotonic()
        return self.tally

    def ledger(self) -> str:
        return "\n".join(json.dumps(list(item)) for item in self.tally.stored)
