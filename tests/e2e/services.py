"""Private PostgreSQL and Redis servers for fault tests: stopped and started at will without
touching the servers the rest of the suite uses."""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import free_port


def _postgres_bin() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if not root.exists():
        return None
    versions = sorted(root.iterdir(), key=lambda p: p.name)
    return versions[-1] / "bin" if versions else None


@dataclass
class PrivatePostgres:
    bindir: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/marcus"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["su", "postgres", "-c", " ".join(command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"'-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off'"
        self._as_postgres(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    if bindir is None or os.geteuid() != 0 or not shutil.which("su"):
        pytest.skip("needs PostgreSQL's binaries and root, to run a private cluster")
    scratch = Path(tempfile.mkdtemp(prefix="marcus-pg-", dir="/tmp"))
    scratch.chmod(0o755)
    data = scratch / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    server = PrivatePostgres(bindir, data, free_port())
    server._as_postgres(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    server.start()
    try:
        import psycopg

        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{server.port}/postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE marcus")
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(100):
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
