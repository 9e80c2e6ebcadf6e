"""200 concurrent multi-step runs against a server that faults 20% of responses."""

from __future__ import annotations

import asyncio
from typing import Any

import gai
from gai.resilience import CircuitBreaker, CircuitBreakerModel
from tests.resilience.conftest import Lookups, openai_for
from tests.support.agent_server import AgentServer

RUNS = 200
ROUNDS = 2
CALLS = 3


async def soak(
    fault_rate: float, lookups: Lookups
) -> tuple[list[gai.TextResult], AgentServer, CircuitBreaker]:
    # The default attempts, with waits shortened; no time limit anywhere, so a busy
    # machine slows the soak down but cannot fail it. A stalled answer comes late, then
    # as an error (599), which is retried like the others.
    policy = gai.RetryPolicy(initial_delay=0.001, max_delay=0.01, max_retry_after=0.01)
    breaker = CircuitBreaker(failure_threshold=50, reset_timeout=0.05, name="soak")
    async with AgentServer(
        rounds=ROUNDS, calls_per_round=CALLS, fault_rate=fault_rate, stall_seconds=0.2
    ) as server:
        async with openai_for(server) as raw:
            model = CircuitBreakerModel(raw, breaker)
            options: dict[str, Any] = {
                "tools": [lookups.tool],
                "stop_when": gai.MaxSteps(10),
                "retry": policy,
            }

            async def one(i: int) -> gai.TextResult:
                if i % 2:
                    async with gai.stream_text(model, prompt=f"run-{i}", **options) as stream:
                        async for _ in stream:
                            pass
                    return stream.result
                return await gai.generate_text(model, prompt=f"run-{i}", **options)

            results = await asyncio.gather(*(one(i) for i in range(RUNS)))
    return results, server, breaker


async def test_soak_every_run_succeeds_and_tools_run_exactly_once(lookups: Lookups):
    results, server, breaker = await soak(0.2, lookups)
    assert [r.text.strip() for r in results] == [f"done run-{i}" for i in range(RUNS)]
    assert all(len(r.steps) == ROUNDS + 1 for r in results)
    assert len(lookups.calls) == RUNS * ROUNDS * CALLS
    assert set(lookups.calls.values()) == {1}
    faults = sum(server.injected.values())
    retries = sum(s.attempts - 1 for r in results for s in r.steps)
    assert 0.1 < faults / server.requests < 0.3
    assert retries >= faults  # every fault was absorbed by a retry
    assert set(server.injected) == {
        "429",
        "500",
        "503",
        "529",
        "drop",
        "stall",
        "truncate",
        "malformed",
    }
    print(
        f"\nsoak: {RUNS} runs ok, {server.requests} requests, {faults} faults "
        f"{dict(server.injected)}, {retries} retries, breaker transitions {len(breaker.transitions)}"
    )
