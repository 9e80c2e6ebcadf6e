"""Kill tests: SIGKILL a checkpointed run at chosen and random points, then resume it.

Each run (3 steps of a `lookup` and a `write` call, then an answer, served by the
loopback agent server) runs in a child process that is killed at a precise point;
the parent then checks the store and resumes the run in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

import gai
from gai.providers.openai import OpenAI
from gai.store import open_store
from tests.store import _kill_child
from tests.support.agent_server import AgentServer

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 3
CHOSEN = (
    [("after_model_response", n) for n in (1, 2, 3)]
    + [("after_tools_started", n) for n in (1, 2, 3)]
    + [("in_idempotent_tool", n) for n in (1, 2, 3)]
    + [("in_write_tool", n) for n in (1, 2, 3)]
    + [("after_tool_result", n) for n in (1, 3, 6)]
    + [("after_step_finished", n) for n in (1, 2, 3)]
    + [("in_checkpoint", n) for n in (1, 3, 5)]
)
RANDOM_KILLS = 14


def store_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/kill.db"
    dsn = os.environ.get("GAI_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip('PostgreSQL kill tests need GAI_TEST_POSTGRES_DSN (eval "$(.ci/services.sh)")')
    return dsn


async def spawn(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.store._kill_child", *args,
        cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def kill_at(proc: asyncio.subprocess.Process, line: str | int) -> bool:
    """Kill when `line` is printed, or after the `line`-th kill-point line when it is a
    number (a random point, counted in events rather than seconds, so a busy machine
    does not make it land after the run ended); False if the run finished first."""
    assert proc.stdout is not None
    if isinstance(line, int):
        seen = 0
        while seen < line:
            out = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            if not out:
                break
            seen += out.startswith(b"AT ")
    else:
        while True:
            try:
                out = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                err = (await proc.stderr.read()).decode()[-3000:] if proc.stderr else ""
                raise AssertionError(f"child never reached {line!r}: {err}") from None
            if not out:
                stderr = await proc.stderr.read() if proc.stderr else b""
                raise AssertionError(f"child ended before {line!r}: {stderr.decode()[-2000:]}")
            if out.decode().strip() == line:
                break
    # It may have ended on its own just after printing the line.
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGKILL)
    await proc.wait()
    return proc.returncode == -signal.SIGKILL


def effects(path: Path) -> Counter[str]:
    return Counter(path.read_text().split("\n")[:-1]) if path.exists() else Counter()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_kill_and_resume(kind: str, tmp_path: Path):
    """A store wrapper announces each entry once written (and can pause inside a write)."""
    url = store_url(kind, tmp_path)
    tag = f"{kind}-{uuid.uuid4().hex[:8]}"  # PostgreSQL keeps runs between sessions
    rng = random.Random(1234)
    report: Counter[str] = Counter()
    async with AgentServer(
        rounds=ROUNDS, calls_per_round=2, tool_names=("lookup", "write")
    ) as server:
        # The uninterrupted run, for comparison (and to count the points random kills
        # choose from).
        proc = await spawn(url, f"{tag}-reference", server.url(), str(tmp_path / "ref.log"))
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        points = out.count(b"\nAT ") + out.startswith(b"AT ")
        store = await open_store(url)
        reference = (await store.load_run(f"{tag}-reference")).result
        assert reference is not None
        plans: list[tuple[str | None, int]] = list(CHOSEN)
        plans += [(None, i) for i in range(RANDOM_KILLS)]
        for index, (point, n) in enumerate(plans):
            run_id = f"{tag}-kill-{index}"
            log = tmp_path / f"{run_id}.log"
            args = [url, run_id, server.url(), str(log)] + ([point, str(n)] if point else [])
            proc = await spawn(*args)
            target = f"AT {point} {n}" if point else rng.randint(1, max(1, points - 3))
            killed = await kill_at(proc, target)
            report["kills" if killed else "finished_before_kill"] += 1
            # The store is readable, and what it holds now must survive the resume.
            exists = True
            try:
                before = (await store.load_run(run_id)).checkpoints
            except gai.errors.RunNotFoundError:
                exists, before = False, []  # killed before the run was created
                report["before_create"] += 1
            if killed:
                result: gai.TextResult | None = await resume_or_rerun(
                    store, run_id, server, log, exists
                )
            else:
                result = (await store.load_run(run_id)).result
            assert result is not None
            final = await store.load_run(run_id)
            assert final.status == "completed"
            assert [c.model_dump() for c in final.checkpoints[: len(before)]] == [
                c.model_dump() for c in before
            ], "a checkpoint recorded before the kill was lost"
            check_effects(effects(log), result, report)
            check_transcript(result, reference, run_id, tag)
    await store.aclose()
    print(f"\n{kind}: {dict(report)}")
    # Every chosen point is a kill; a random one may land after the run finished.
    chosen = sum(1 for point, _ in plans if point is not None)
    assert report["kills"] >= chosen + (len(plans) - chosen) // 3


async def resume_or_rerun(
    store, run_id: str, server: AgentServer, log: Path, exists: bool
) -> gai.TextResult:
    async with OpenAI("agent", api_key="k", base_url=server.url()) as model:
        tools = _kill_child.make_tools(str(log))
        if exists:
            return await gai.resume(
                run_id,
                store=store,
                model=model,
                tools=tools,
                stop_when=gai.MaxSteps(10),
                retry=False,
            )
        return await gai.generate_text(
            model,
            prompt=run_id,
            tools=tools,
            stop_when=gai.MaxSteps(10),
            run_id=run_id,
            run_store=store,
            retry=False,
        )


def check_effects(seen: Counter[str], result: gai.TextResult, report: Counter[str]) -> None:
    writes = {k: n for k, n in seen.items() if k.startswith("write ")}
    assert all(n == 1 for n in writes.values()), f"a non-idempotent tool ran twice: {writes}"
    extra_lookups = sum(n - 1 for k, n in seen.items() if k.startswith("lookup "))
    assert extra_lookups <= 1, "an idempotent tool repeated more than the one crash forced"
    report["repeated_idempotent_calls"] += extra_lookups
    interrupted = [r for r in result.tool_results if r.error and "interrupted" in r.error]
    assert all(r.name == "write" for r in interrupted)
    assert len(interrupted) <= 1
    report["interrupted_writes"] += len(interrupted)


def check_transcript(
    result: gai.TextResult, reference: gai.TextResult, run_id: str, tag: str
) -> None:
    def norm(r: gai.TextResult, name: str) -> list[object]:
        out: list[object] = []
        for m in r.messages:
            for p in m.parts:
                if isinstance(p, gai.types.ToolResultPart):
                    content = (
                        "INTERRUPTED"
                        if "interrupted" in p.content
                        else p.content.replace(name, "X")
                    )
                    out.append((m.role, p.call_id.replace(name, "X"), content))
                elif isinstance(p, gai.types.ToolCallPart):
                    out.append(
                        (m.role, p.call_id.replace(name, "X"), str(p.arguments).replace(name, "X"))
                    )
                elif isinstance(p, gai.Text):
                    out.append((m.role, p.text.replace(name, "X")))
        return out

    ours, theirs = norm(result, run_id), norm(reference, f"{tag}-reference")
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a == b or (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and a[-1] == "INTERRUPTED"
            and a[:2] == b[:2]
        )
