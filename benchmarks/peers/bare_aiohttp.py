"""The floor: the same protocol and tool loop by hand on aiohttp, no framework."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

t0 = time.perf_counter()
import aiohttp  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a key up.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}},
                "required": ["key"],
            },
        },
    }
]


async def lookup(key: str) -> str:
    return f"value of {key}"


async def one(session: aiohttp.ClientSession, url: str, i: int) -> bool:
    messages: list[dict] = [{"role": "user", "content": f"run-{i}"}]
    for _ in range(20):
        async with session.post(
            url, json={"model": "bench", "messages": messages, "tools": TOOLS}
        ) as r:
            data = await r.json()
        message = data["choices"][0]["message"]
        messages.append(message)
        calls = message.get("tool_calls") or []
        if not calls:
            return True
        outputs = await asyncio.gather(
            *(lookup(**json.loads(c["function"]["arguments"])) for c in calls)
        )
        messages.extend(
            {"role": "tool", "tool_call_id": c["id"], "content": out}
            for c, out in zip(calls, outputs, strict=True)
        )
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    pin(args.cpu)

    async def run_all() -> int:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            results = await asyncio.gather(
                *(one(session, f"{args.base}/v1/chat/completions", i) for i in range(args.runs))
            )
        return sum(results)

    report("bare-aiohttp", args.runs, IMPORT_S, run_all, args.base)


if __name__ == "__main__":
    main()
