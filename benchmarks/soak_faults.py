"""Soak benchmark: concurrent multi-step runs with and without 20% injected faults.

Prints the success rate, retries and wall time of the faulted run relative to a
fault-free run of the same size, measured in the same process.

    .venv/bin/python benchmarks/soak_faults.py [--runs 200] [--fault-rate 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.agent_server import AgentServer

import gai
from gai.providers.openai import OpenAI


async def soak(runs: int, fault_rate: float) -> dict[str, float]:
    executed: Counter[str] = Counter()

    @gai.tool
    async def lookup(ctx: gai.ToolContext[None], key: str) -> str:
        """Look a key up."""
        executed[ctx.call_id] += 1
        return key

    policy = gai.RetryPolicy(
        max_attempts=4, initial_delay=0.001, max_delay=0.01, max_retry_after=0.01
    )
    async with (
        AgentServer(rounds=2, calls_per_round=3, fault_rate=fault_rate, stall_seconds=2) as server,
        OpenAI("agent", api_key="k", base_url=server.url()) as model,
    ):
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                gai.generate_text(
                    model,
                    prompt=f"run-{i}",
                    tools=[lookup],
                    stop_when=gai.MaxSteps(10),
                    retry=policy,
                    timeout=gai.Timeouts(model_call=0.5),
                )
                for i in range(runs)
            ),
            return_exceptions=True,
        )
        wall = time.perf_counter() - started
    ok = [r for r in results if isinstance(r, gai.TextResult)]
    return {
        "ok": len(ok) / runs,
        "retries": sum(s.attempts - 1 for r in ok for s in r.steps),
        "faults": sum(server.injected.values()),
        "requests": server.requests,
        "duplicate_tool_runs": sum(n - 1 for n in executed.values()),
        "wall": wall,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    args = parser.parse_args()
    clean = await soak(args.runs, 0.0)
    faulty = await soak(args.runs, args.fault_rate)
    header = ("ok", 6), ("requests", 9), ("faults", 7), ("retries", 8), ("dup tools", 9)
    print(f"{'':>10} " + " ".join(f"{h:>{w}}" for h, w in header) + f" {'wall s':>7}")
    for label, row in (("clean", clean), ("faulted", faulty)):
        print(
            f"{label:>10} {row['ok']:>6.1%} {row['requests']:>9.0f} {row['faults']:>7.0f} "
            f"{row['retries']:>8.0f} {row['duplicate_tool_runs']:>9.0f} {row['wall']:>7.2f}"
        )
    print(f"time faulted / clean: {faulty['wall'] / clean['wall']:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
