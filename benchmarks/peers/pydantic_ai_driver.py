"""pydantic-ai on the benchmark workload (run from benchmarks/.venv-peers)."""

from __future__ import annotations

import argparse
import sys
import time

t0 = time.perf_counter()
from pydantic_ai import Agent  # noqa: E402

try:
    from pydantic_ai.models.openai import OpenAIChatModel as ChatModel
except ImportError:  # older releases
    from pydantic_ai.models.openai import OpenAIModel as ChatModel  # type: ignore[no-redef]
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    pin(args.cpu)

    async def run_all() -> int:
        import asyncio

        model = ChatModel("bench", provider=OpenAIProvider(base_url=f"{args.base}/v1", api_key="k"))
        agent = Agent(model)

        @agent.tool_plain
        async def lookup(key: str) -> str:
            """Look a key up."""
            return f"value of {key}"

        async def one(i: int) -> bool:
            result = await agent.run(f"run-{i}")
            return str(result.output).startswith("done")

        return sum(await asyncio.gather(*(one(i) for i in range(args.runs))))

    report("pydantic-ai", args.runs, IMPORT_S, run_all, args.base)


if __name__ == "__main__":
    main()
