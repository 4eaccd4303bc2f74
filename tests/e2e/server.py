"""Real Daphne servers for end-to-end tests: each on its own port and database.

The database is of the same kind as the test run's (SQLite file, or a fresh PostgreSQL database
on the server of ``DATABASE_URL``), migrated before the server starts and removed afterwards.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DAPHNE = str(Path(PYTHON).with_name("daphne"))


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started it dies (no orphan servers)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_environment(data_dir: Path, **overrides: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "MARCUS_", "DATABASE_URL"))
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "marcus_site.settings",
            "MARCUS_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "PYTHONUNBUFFERED": "1",
            # Servers of one test share a live feed; servers of different tests never do.
            "MARCUS_CHANNEL_PREFIX": f"marcus-e2e-{abs(hash(str(data_dir))) % 10**8}",
        }
    )
    environment.update(overrides)
    return environment


@contextmanager
def scratch_database(data_dir: Path) -> Iterator[str]:
    """A new empty database of the run's kind; yields its URL."""
    run_database = os.environ.get("DATABASE_URL", "")
    if not run_database.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{data_dir / 'e2e.sqlite3'}"
        return
    import psycopg

    name = f"marcus_e2e_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(run_database)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(environment: dict[str, str], *arguments: str, check: bool = True) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


@dataclass
class DaphneServer:
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, wait_for_health: bool = True, timeout: float = 30.0) -> "DaphneServer":
        self.log_path = Path(self.environment["MARCUS_DATA_DIR"]) / f"daphne-{self.port}.log"
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                DAPHNE,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--access-log",
                os.devnull,
                "marcus_site.asgi:application",
            ],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Daphne exited early:\n{self.log()}")
            try:
                response = httpx.get(f"{self.url}/health", timeout=5)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if not wait_for_health or response.status_code == 200:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"Daphne did not become healthy in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_server(
    tmp_path: Path, *, migrate: bool = True, wait_for_health: bool = True, **overrides: str
) -> Iterator[DaphneServer]:
    """A migrated database and a Daphne process on it, stopped afterwards."""
    with scratch_database(tmp_path) as database_url:
        environment = base_environment(tmp_path, **{"DATABASE_URL": database_url, **overrides})
        if migrate:
            manage(environment, "migrate", "--noinput")
        server = DaphneServer(environment)
        try:
            yield server.start(wait_for_health=wait_for_health)
        finally:
            server.stop()


@contextmanager
def running_servers(tmp_path: Path, count: int, **overrides: str) -> Iterator[list[DaphneServer]]:
    """Several Daphne processes on one migrated database (and one Redis, when the run has
    ``REDIS_URL``): the scale-out of overview.md."""
    with scratch_database(tmp_path) as database_url:
        environment = base_environment(tmp_path, **{"DATABASE_URL": database_url, **overrides})
        manage(environment, "migrate", "--noinput")
        servers = [DaphneServer(environment) for _ in range(count)]
        try:
            for server in servers:
                server.start()
            yield servers
        finally:
            for server in servers:
                server.stop()
