"""LangGraph's prebuilt ReAct agent (langchain-openai) on the benchmark workload."""

from __future__ import annotations

import argparse
import sys
import time

t0 = time.perf_counter()
from langchain_core.tools import tool  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402

try:
    from langgraph.prebuilt import create_react_agent
except ImportError:  # pragma: no cover
    from langchain.agents import create_agent as create_react_agent  # type: ignore[no-redef]

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402


@tool
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

    async def run_all() -> int:
        import asyncio

        llm = ChatOpenAI(model="bench", base_url=f"{args.base}/v1", api_key="k")
        agent = create_react_agent(llm, [lookup])

        async def one(i: int) -> bool:
            state = await agent.ainvoke(
                {"messages": [("user", f"run-{i}")]}, {"recursion_limit": 50}
            )
            return str(state["messages"][-1].content).startswith("done")

        return sum(await asyncio.gather(*(one(i) for i in range(args.runs))))

    report("langgraph", args.runs, IMPORT_S, run_all, args.base)


if __name__ == "__main__":
    main()
