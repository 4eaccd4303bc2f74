"""The README's run command on a fresh data folder, and the server's refusal to run unsafely."""

import os
import re
import subprocess
import time

import httpx
import pytest

from tests.e2e.server import DAPHNE, ROOT, base_environment, free_port

pytestmark = pytest.mark.e2e


def test_run_script_sets_up_and_serves_with_a_working_key(tmp_path):
    """scripts/run migrates, prints a working API key and serves on the given port."""
    port = free_port()
    environment = base_environment(tmp_path, PORT=str(port))
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        environment.pop(name, None)
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run")],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        key = None
        deadline = time.monotonic() + 240
        while "createsuperuser" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output += line
            match = re.search(r"^\s+(mk_\S+)\s*$", line)
            key = match.group(1) if match else key
        assert key, f"no API key printed:\n{output}"
        assert "createsuperuser" in output
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                health = httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.json()["status"] == "healthy"
        response = httpx.post(
            f"{url}/api/telemetry/milestones/",
            json={"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 201
        assert (tmp_path / "marcus.sqlite3").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_server_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    environment = base_environment(tmp_path)
    environment.pop("SECRET_KEY")
    environment.pop("DEBUG", None)
    result = subprocess.run(
        [DAPHNE, "--port", str(free_port()), "marcus_site.asgi:application"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr + result.stdout


def test_debug_mode_starts_without_a_secret_key(tmp_path):
    environment = base_environment(tmp_path, DEBUG="true")
    environment.pop("SECRET_KEY")
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", "import marcus_site.asgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "development_secret_key")
