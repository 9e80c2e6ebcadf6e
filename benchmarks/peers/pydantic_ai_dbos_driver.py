"""pydantic-ai's DBOSAgent on the benchmark workload (run from benchmarks/.venv-peers).

Each job is a DBOS workflow started in this process (as pydantic-ai's docs show), its
model requests DBOS steps and, with `--tool-steps`, its tool calls too (what gives it
the guarantees gai's journal gives every tool call).
"""

from __future__ import annotations

import argparse
import sys
import time

t0 = time.perf_counter()
from dbos import DBOS, DBOSConfig  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.durable_exec.dbos import DBOSAgent  # noqa: E402
from pydantic_ai.models.openai import OpenAIChatModel  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--db", required=True, help="DBOS system database URL")
    parser.add_argument("--tool-steps", action="store_true", help="each tool call a DBOS step")
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--prefix", default="", help="names this process, when several run")
    args = parser.parse_args()
    pin(args.cpu)

    model = OpenAIChatModel(
        "bench", provider=OpenAIProvider(base_url=f"{args.base}/v1", api_key="k")
    )
    agent = Agent(model, name="bench")

    async def look(key: str) -> str:
        return f"value of {key}"

    if args.tool_steps:
        step = DBOS.step(name="lookup")(look)

        @agent.tool_plain
        async def lookup(key: str) -> str:
            """Look a key up."""
            return await step(key)
    else:

        @agent.tool_plain
        async def lookup(key: str) -> str:
            """Look a key up."""
            return await look(key)

    durable = DBOSAgent(agent)
    # Each process its own executor id: one launching must not recover another's runs.
    config: DBOSConfig = {
        "name": "bench",
        "system_database_url": args.db,
        "log_level": "WARNING",
        "executor_id": f"bench{args.prefix}",
    }
    DBOS(config=config)
    DBOS.launch()

    async def run_all() -> int:
        import asyncio

        async def one(i: int) -> bool:
            result = await durable.run(f"run-{i}")
            return str(result.output).startswith("done")

        return sum(await asyncio.gather(*(one(i) for i in range(args.runs))))

    async def warm() -> None:
        await durable.run("warm")

    try:
        report("pydantic-ai DBOSAgent" + (" +tool steps" if args.tool_steps else ""), args.runs,
               IMPORT_S, run_all, args.base, warm)  # fmt: skip
    finally:
        DBOS.destroy()


if __name__ == "__main__":
    main()
