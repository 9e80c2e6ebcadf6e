"""A loopback OpenAI-compatible server that plays a multi-step agent, with injected faults.

For each conversation (named by its first user message) it answers `rounds` rounds of
`calls_per_round` parallel `lookup` tool calls, then a final text. Faults are decided
per (conversation, round, attempt) from a hash, so a given seed always faults the same
requests, and no request faults more than `max_consecutive_faults` times in a row.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

FAULTS = ("429", "500", "503", "529", "drop", "stall", "truncate", "malformed")


@dataclass
class AgentServer:
    rounds: int = 2
    calls_per_round: int = 3
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    max_consecutive_faults: int | None = 2
    """No request faults more often in a row; None faults every attempt independently."""
    stall_seconds: float = 5.0
    retry_after: str | None = "0"
    always: str | None = None
    """Fault every request with this kind (e.g. "500", "400")."""
    seed: int = 0
    latency: float = 0.0
    """Seconds every answer waits before it is sent."""
    tool_names: tuple[str, ...] = ("lookup",)
    """Tool of call i in a round: tool_names[i % len(tool_names)]."""
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    request_times: list[float] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    """Conversations between their first request and their final answer."""
    max_active: int = 0
    finished: Counter[str] = field(default_factory=Counter)
    """Final answers sent, per conversation."""
    clock: Any = time.monotonic
    _attempts: Counter[tuple[str, int]] = field(default_factory=Counter)
    _server: TestServer | None = None

    async def __aenter__(self) -> AgentServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._server = TestServer(app)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()

    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/v1"))

    def _fault(self, conversation: str, round_: int) -> str | None:
        if self.always is not None:
            return self.always
        self._attempts[(conversation, round_)] += 1
        attempt = self._attempts[(conversation, round_)]
        limit = self.max_consecutive_faults
        if (limit is not None and attempt > limit) or not self.fault_rate:
            return None
        digest = hashlib.sha256(f"{self.seed}:{conversation}:{round_}:{attempt}".encode()).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 >= self.fault_rate:
            return None
        return self.faults[digest[4] % len(self.faults)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.request_times.append(self.clock())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        messages = body["messages"]
        conversation = next(m["content"] for m in messages if m["role"] == "user")
        round_ = sum(1 for m in messages if m["role"] == "assistant")
        fault = self._fault(conversation, round_)
        stream = bool(body.get("stream"))
        if fault is not None:
            self.injected[fault] += 1
            early = await self._early_fault(request, fault, stream)
            if early is not None:
                return early
        if self.latency:
            await asyncio.sleep(self.latency)
        chunk = self._completion(conversation, round_, body["model"])
        if round_ < self.rounds:
            self.active.add(conversation)
            self.max_active = max(self.max_active, len(self.active))
        else:
            self.active.discard(conversation)
            self.finished[conversation] += 1
        if not stream:
            payload = json.dumps(chunk).encode()
            if fault == "malformed":
                payload = payload[: len(payload) // 2]
            return web.Response(body=payload, content_type="application/json")
        return await self._stream(request, chunk, truncate=fault in ("truncate", "malformed"))

    async def _early_fault(
        self, request: web.Request, fault: str, stream: bool
    ) -> web.StreamResponse | None:
        if fault in ("429", "500", "503", "529", "400"):
            headers = (
                {"retry-after": self.retry_after} if fault == "429" and self.retry_after else {}
            )
            error = {"error": {"message": f"injected {fault}", "type": "injected"}}
            return web.json_response(error, status=int(fault), headers=headers)
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=599)
        if fault == "stall":
            await asyncio.sleep(self.stall_seconds)
            return web.Response(status=599)
        if fault == "truncate" and not stream:
            assert request.transport is not None
            response = web.StreamResponse()
            response.content_length = 1000
            await response.prepare(request)
            await response.write(b'{"id": "cut')
            request.transport.close()
            return response
        return None

    def _completion(self, conversation: str, round_: int, model: str) -> dict[str, Any]:
        if round_ < self.rounds:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{conversation}_{round_}_{i}",
                        "type": "function",
                        "function": {
                            "name": self.tool_names[i % len(self.tool_names)],
                            "arguments": json.dumps({"key": f"{conversation}/{round_}/{i}"}),
                        },
                    }
                    for i in range(self.calls_per_round)
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": f"done {conversation}"}
            finish = "stop"
        return {
            "id": f"chatcmpl-{conversation}-{round_}",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 10 + 5 * round_,
                "completion_tokens": 7,
                "total_tokens": 17 + 5 * round_,
            },
        }

    async def _stream(
        self, request: web.Request, completion: dict[str, Any], truncate: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        choice = completion["choices"][0]
        message = choice["message"]
        events: list[dict[str, Any]] = []
        base = {
            "id": completion["id"],
            "object": "chat.completion.chunk",
            "model": completion["model"],
        }
        if message.get("content"):
            for word in message["content"].split(" "):
                events.append({**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]})
        for index, call in enumerate(message.get("tool_calls") or ()):
            args = call["function"]["arguments"]
            events.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": index,
                                        "id": call["id"],
                                        "type": "function",
                                        "function": {"name": "lookup", "arguments": ""},
                                    }
                                ]
                            },
                        }
                    ],
                }
            )
            events.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [{"index": index, "function": {"arguments": args}}]
                            },
                        }
                    ],
                }
            )
        events.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}],
            }
        )
        events.append({**base, "choices": [], "usage": completion["usage"]})
        if truncate:
            events = events[: len(events) // 2]
        for event in events:
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        if not truncate:
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
