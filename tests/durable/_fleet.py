"""Worker processes for the scale-out tests: start, wait until serving, kill, restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Fleet:
    database_url: str
    queue: str
    env: dict[str, str]
    procs: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    logs: dict[str, list[bytes]] = field(default_factory=dict)

    async def start(self, worker_id: str, *extra: str, env: dict[str, str] | None = None) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gai.cli", "worker",
            "--queue", self.queue, "--db", self.database_url,
            "--import", "tests.durable._plugin", "--tools", "tests.durable._plugin:registry",
            "--id", worker_id, *extra,
            cwd=ROOT, env={**self.env, **(env or {})},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        lines = self.logs.setdefault(worker_id, [])
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                raise RuntimeError(f"worker {worker_id} exited: {b''.join(lines).decode()}")
            lines.append(line)
            if b"serving" in line:
                break
        self.procs[worker_id] = proc
        asyncio.get_running_loop().create_task(self._drain(worker_id, proc))

    async def _drain(self, worker_id: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            self.logs[worker_id].append(line)

    def cpu_seconds(self, worker_id: str) -> float:
        """User plus system CPU time the worker process has used so far (Linux)."""
        fields = Path(f"/proc/{self.procs[worker_id].pid}/stat").read_text().rsplit(")", 1)[1]
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def kill(self, worker_id: str) -> None:
        self.procs[worker_id].send_signal(signal.SIGKILL)

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@asynccontextmanager
async def fleet(
    database_url: str, queue: str, loopback_url: str, effects: Path, tool_seconds: float
) -> AsyncIterator[Fleet]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GAI_TEST_LOOPBACK_URL": loopback_url,
        "GAI_TEST_EFFECTS": str(effects),
        "GAI_TEST_TOOL_SECONDS": str(tool_seconds),
    }
    group = Fleet(database_url, queue, env)
    try:
        yield group
    finally:
        await group.stop_all()


def read_effects(path: Path) -> Counter[tuple[str, str, str]]:
    """Executions per (run id, call id, tool name)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    if path.exists():
        for line in path.read_text().splitlines():
            run_id, call_id, tool, _key = line.split(" ", 3)
            counts[(run_id, call_id, tool)] += 1
    return counts


def fresh_postgres_url(dsn: str) -> tuple[str, str]:
    """A new empty database on the server `dsn` names: (its URL, its name)."""
    import psycopg

    name = f"gai_dbos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}", name


def drop_postgres(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
