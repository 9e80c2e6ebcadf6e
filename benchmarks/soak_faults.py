"""Soak benchmark: concurrent multi-step runs, with gai's default retry policy, against a
server that faults 20% and then 40% of its answers.

Every answer faults independently with the given probability (429, 500, 503, 529, a
dropped connection, a stall then a 599, a truncated or malformed body), so a request
may fault several times in a row, as a real provider's can. The runs use gai's
defaults: no retry policy, timeout or breaker is configured. Prints, for each fault
rate, the share of runs that completed, the faults and retries, duplicate tool runs,
and wall time relative to a fault-free soak of the same size, measured in this run.

    .venv/bin/python benchmarks/soak_faults.py [--runs 200] [--fault-rates 0.2 0.4] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.agent_server import AgentServer

import gai
from gai.providers.openai import OpenAI


async def soak(runs: int, fault_rate: float, seed: int) -> dict[str, float]:
    executed: Counter[str] = Counter()

    @gai.tool
    async def lookup(ctx: gai.ToolContext[None], key: str) -> str:
        """Look a key up."""
        executed[ctx.call_id] += 1
        return key

    async with (
        AgentServer(
            rounds=3,
            calls_per_round=4,
            fault_rate=fault_rate,
            max_consecutive_faults=None,
            stall_seconds=1.0,
            seed=seed,
        ) as server,
        OpenAI("agent", api_key="k", base_url=server.url()) as model,
    ):
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                gai.generate_text(
                    model, prompt=f"run-{i}", tools=[lookup], stop_when=gai.MaxSteps(10)
                )
                for i in range(runs)
            ),
            return_exceptions=True,
        )
        wall = time.perf_counter() - started
    ok = [r for r in results if isinstance(r, gai.TextResult)]
    failed = Counter(type(r).__name__ for r in results if not isinstance(r, gai.TextResult))
    return {
        "ok": len(ok) / runs,
        "retries": sum(s.attempts - 1 for r in ok for s in r.steps),
        "faults": sum(server.injected.values()),
        "requests": server.requests,
        "duplicate_tool_runs": sum(n - 1 for n in executed.values()),
        "wall": wall,
        "failed": dict(failed),  # type: ignore[dict-item]
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fault-rates", type=float, nargs="+", default=[0.2, 0.4])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # Each retry is a WARNING on the `gai` logger; a soak makes thousands.
    logging.getLogger("gai").setLevel(logging.ERROR)
    print(f"{args.runs} concurrent runs of 3 rounds x 4 parallel tools, default RetryPolicy")
    rows = [("clean", await soak(args.runs, 0.0, args.seed))]
    for rate in args.fault_rates:
        rows.append((f"{rate:.0%} faults", await soak(args.runs, rate, args.seed)))
    header = ("completed", 10), ("requests", 9), ("faults", 7), ("retries", 8), ("dup tools", 9)
    print(
        f"{'':>11} " + " ".join(f"{h:>{w}}" for h, w in header) + f" {'wall s':>7} {'x clean':>8}"
    )
    clean_wall = rows[0][1]["wall"]
    for label, row in rows:
        print(
            f"{label:>11} {row['ok']:>10.1%} {row['requests']:>9.0f} {row['faults']:>7.0f} "
            f"{row['retries']:>8.0f} {row['duplicate_tool_runs']:>9.0f} {row['wall']:>7.2f} "
            f"{row['wall'] / clean_wall:>7.2f}x"
            + (f"  failed: {row['failed']}" if row["failed"] else "")
        )


if __name__ == "__main__":
    asyncio.run(main())
