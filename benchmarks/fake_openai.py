"""A fast fake OpenAI-compatible server for the CPU benchmark.

For each conversation (named by its first user message) it answers K rounds of N
parallel `lookup` tool calls, then a final text. `/stats` returns the request count.

    python benchmarks/fake_openai.py --port 8765 --rounds 3 --calls 4 [--latency 0.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from aiohttp import web

STATS = {"requests": 0}


def make_app(rounds: int, calls: int, latency: float) -> web.Application:
    async def chat(request: web.Request) -> web.Response:
        STATS["requests"] += 1
        body = json.loads(await request.read())
        messages = body["messages"]
        conversation = next(m["content"] for m in messages if m["role"] == "user")
        round_ = sum(1 for m in messages if m["role"] == "assistant")
        if latency:
            await asyncio.sleep(latency)
        if round_ < rounds:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{round_}_{i}",
                        "type": "function",
                        "function": {
                            "name": "lookup",
                            "arguments": json.dumps({"key": f"{conversation}-{round_}-{i}"}),
                        },
                    }
                    for i in range(calls)
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": f"done {conversation}"}
            finish = "stop"
        if body.get("stream"):
            return await _stream(request, message, finish, body.get("model", "bench"), round_)
        payload = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body.get("model", "bench"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 20 + 10 * round_,
                "completion_tokens": 12,
                "total_tokens": 32 + 10 * round_,
            },
        }
        return web.Response(body=json.dumps(payload), content_type="application/json")

    async def _stream(
        request: web.Request, message: dict, finish: str, model: str, round_: int
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": model}
        chunks = []
        if message.get("content"):
            for word in message["content"].split(" "):
                chunks.append({**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]})
        for index, call in enumerate(message.get("tool_calls") or ()):
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": "lookup", "arguments": ""},
            }
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [head]}}]})
            args = {"index": index, "function": {"arguments": call["function"]["arguments"]}}
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [args]}}]})
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        usage = {
            "prompt_tokens": 20 + 10 * round_,
            "completion_tokens": 12,
            "total_tokens": 32 + 10 * round_,
        }
        chunks.append({**base, "choices": [], "usage": usage})
        await response.write(
            b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
        )
        await response.write_eof()
        return response

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(STATS)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    web.run_app(
        make_app(args.rounds, args.calls, args.latency),
        host="127.0.0.1",
        port=args.port,
        print=None,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
