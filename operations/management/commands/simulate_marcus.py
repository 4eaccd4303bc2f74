import os
import threading
import time
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError

from operations.simulator import MarcusSimulation

LOCAL_SERVER = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Drive a realistic Marcus run through the HTTP API: agents, a project with features "
        "and tasks, assignments, progress, completions and failures, journey milestones and "
        "research events. Targets the local server unless --url is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help=f"The server (default: {LOCAL_SERVER}).")
        parser.add_argument(
            "--api-key",
            default=os.environ.get("MARCUS_API_KEY"),
            help="The key to use (default: $MARCUS_API_KEY; for the local server a new key "
            "named 'simulator' is made when none is given).",
        )
        parser.add_argument("--agents", type=int, default=5)
        parser.add_argument("--tasks", type=int, default=40, help="Tasks per project.")
        parser.add_argument("--rate", type=float, default=20.0, help="Events per second.")
        parser.add_argument("--duration", type=float, default=60.0, help="Seconds to run.")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Independent Marcus runs in parallel (each its own agents and projects); "
            "the rate is shared among them.",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--ledger", type=Path, help="Write every stored event's identity here (JSON lines)."
        )

    def handle(self, *args, **options):
        for name, low, high in (("agents", 1, 1000), ("tasks", 1, 100_000), ("workers", 1, 64)):
            if not low <= options[name] <= high:
                raise CommandError(f"--{name} must be between {low} and {high}.")
        if options["rate"] <= 0 or options["duration"] <= 0:
            raise CommandError("--rate and --duration must be positive.")
        url = (options["url"] or LOCAL_SERVER).rstrip("/")
        key = options["api_key"] or self._local_key(options["url"])
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        try:
            health = client.get("/health")
        except httpx.HTTPError as exc:
            raise CommandError(f"Cannot reach {url}: {exc}. Is the server running?") from None
        if client.get("/api/cato/snapshot").status_code in (401, 403):
            raise CommandError(f"{url} refused the API key.")
        if health.status_code != 200:
            self.stderr.write(f"warning: {url}/health says {health.json().get('status')}")
        workers = options["workers"]
        simulations = [
            MarcusSimulation(
                client,
                agents=options["agents"],
                tasks=options["tasks"],
                seed=options["seed"] + index,
            )
            for index in range(workers)
        ]
        self.stdout.write(
            f"Simulating Marcus against {url}: {workers} run(s) of {options['agents']} agents, "
            f"{options['tasks']} tasks per project, {options['rate']:g} events/s in all for "
            f"{options['duration']:g} s."
        )
        threads = [
            threading.Thread(
                target=simulation.run,
                kwargs={
                    "rate": options["rate"] / workers,
                    "duration": options["duration"],
                    "report": self._progress(simulations) if index == 0 else None,
                },
            )
            for index, simulation in enumerate(simulations)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = sum(s.tally.sent for s in simulations)
        rejected = sum(s.tally.rejected for s in simulations)
        failed = sum(s.tally.failed_requests for s in simulations)
        elapsed = max(time.monotonic() - s.tally.started for s in simulations)
        if options["ledger"]:
            options["ledger"].write_text("".join(s.ledger() + "\n" for s in simulations))
        projects = sum(s.rounds for s in simulations)
        self.stdout.write(
            f"Done: {sent:,} events sent, {rejected:,} rejected ({failed} requests failed), "
            f"{sent / elapsed:.1f} events/s over {elapsed:.1f} s; {projects} project(s)."
        )

    def _progress(self, simulations):
        def report(_tally, _simulation) -> None:
            sent = sum(s.tally.sent for s in simulations)
            rejected = sum(s.tally.rejected for s in simulations)
            elapsed = max(time.monotonic() - s.tally.started for s in simulations)
            working = sum(
                task.state == "in_progress" for s in simulations for task in s.tasks.values()
            )
            self.stdout.write(
                f"  {sent:,} sent, {rejected:,} rejected, {sent / elapsed:.1f} events/s, "
                f"{working} tasks in progress"
            )

        return report

    def _local_key(self, url: str | None) -> str:
        if url:
            raise CommandError("Give --api-key (or set MARCUS_API_KEY) for a remote server.")
        from api_keys.services import api_key_rotate

        return api_key_rotate(name="simulator").raw_key
