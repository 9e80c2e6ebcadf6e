"""The OpenAI Agents SDK on the benchmark workload (run from benchmarks/.venv-peers)."""

from __future__ import annotations

import argparse
import sys
import time

t0 = time.perf_counter()
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402


@function_tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    pin(args.cpu)
    set_tracing_disabled(True)

    async def run_all() -> int:
        import asyncio

        client = AsyncOpenAI(base_url=f"{args.base}/v1", api_key="k")
        model = OpenAIChatCompletionsModel(model="bench", openai_client=client)
        agent = Agent(name="bench", instructions="Use the tools.", model=model, tools=[lookup])

        async def one(i: int) -> bool:
            result = await Runner.run(agent, f"run-{i}", max_turns=20)
            return str(result.final_output).startswith("done")

        return sum(await asyncio.gather(*(one(i) for i in range(args.runs))))

    report("openai-agents", args.runs, IMPORT_S, run_all, args.base)


if __name__ == "__main__":
    main()
