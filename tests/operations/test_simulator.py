"""simulate_marcus: a short run against a real server, and clear errors."""

import io
import re
import subprocess

import pytest
from django.core.management import CommandError, call_command

from tests.e2e.server import PYTHON, ROOT, free_port, manage, running_server


@pytest.mark.parametrize(
    "arguments",
    [
        ["--agents", "0"],
        ["--tasks", "0"],
        ["--rate", "0"],
        ["--duration", "-1"],
        ["--workers", "100"],
    ],
)
def test_bad_arguments_are_refused(arguments):
    with pytest.raises(CommandError):
        call_command(
            "simulate_marcus",
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "k",
            *arguments,
            stdout=io.StringIO(),
        )


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(CommandError, match="Cannot reach"):
        call_command(
            "simulate_marcus",
            "--url",
            f"http://127.0.0.1:{free_port()}",
            "--api-key",
            "k",
            "--duration",
            "1",
            stdout=io.StringIO(),
        )


def test_a_remote_server_needs_a_key():
    with pytest.raises(CommandError, match="api-key"):
        call_command("simulate_marcus", "--url", "http://127.0.0.1:9", stdout=io.StringIO())


@pytest.mark.e2e
def test_a_short_run_fills_the_server(tmp_path):
    """Agents, a project, tasks moving through their states, milestones and research events."""
    import httpx

    with running_server(tmp_path) as server:
        key = manage(server.environment, "create_api_key", "sim").strip().splitlines()[-1]
        run = subprocess.run(
            [
                PYTHON,
                "manage.py",
                "simulate_marcus",
                "--url",
                server.url,
                "--api-key",
                key,
                "--rate",
                "60",
                "--duration",
                "4",
                "--tasks",
                "10",
            ],
            cwd=ROOT,
            env=server.environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        sent = int(
            re.search(r"Done: ([\d,]+) events sent, 0 rejected", run.stdout)
            .group(1)
            .replace(",", "")
        )
        assert sent > 60
        headers = {"Authorization": f"Bearer {key}"}
        snapshot = httpx.get(f"{server.url}/api/cato/snapshot", headers=headers).json()
        metrics = snapshot["snapshot"]["metrics"]
        assert metrics["total_agents"] == 5 and metrics["total_tasks"] >= 10
        assert metrics["completed_tasks"] > 0
        research = httpx.get(f"{server.url}/api/cato/metrics/research", headers=headers).json()
        assert research["metrics"]["event_types"]["task_assignment"] > 0
        journeys = httpx.get(f"{server.url}/api/cato/metrics/journey", headers=headers).json()
        assert journeys["metrics"]["total_milestones"] > 0
