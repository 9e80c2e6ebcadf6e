"""A loopback Anthropic Messages server that checks requests as the real API does.

Answers are shaped like the recorded exchanges in
`tests/fixtures/recorded/anthropic/tool_call_single_with_result.yaml`; a request the
real API would refuse gets the recorded 400 of `error_400_invalid_request_shape.yaml`.
The checks are the ones a trimmed or summarised conversation could break: the first
message is the user's, roles alternate, every `tool_use` is answered by a
`tool_result` in the very next message, and no `tool_result` answers a call that is
not in the message before it.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.recordings import load

_RECORDED = load("anthropic/tool_call_single_with_result.yaml")
_TOOL_ANSWER = _RECORDED[0].response_json
_TEXT_ANSWER = _RECORDED[1].response_json
_REFUSED = load("anthropic/error_400_invalid_request_shape.yaml")[0]


def problems(body: dict[str, Any]) -> list[str]:
    """What the Messages API would reject in `body`, as messages."""
    found: list[str] = []
    messages = body.get("messages") or []
    if not messages or messages[0]["role"] != "user":
        found.append("messages.0: the first message must use the user role")
    for index, message in enumerate(messages):
        blocks = message["content"] if isinstance(message["content"], list) else []
        if index and message["role"] == messages[index - 1]["role"]:
            found.append(f"messages.{index}: roles must alternate between user and assistant")
        calls = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        results = {b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"}
        before = messages[index - 1]["content"] if index else []
        asked = {b["id"] for b in before if isinstance(b, dict) and b.get("type") == "tool_use"}
        if results - asked:
            found.append(f"messages.{index}: tool_result without a tool_use in the message before")
        if calls:
            after = messages[index + 1]["content"] if index + 1 < len(messages) else None
            answered = {b.get("tool_use_id") for b in after or [] if isinstance(b, dict)}
            if after is not None and calls - answered:
                found.append(f"messages.{index}: tool_use ids without tool_result blocks after")
    return found


def server_tokens(body: dict[str, Any]) -> int:
    """The server's own count: a token per three characters of content and a few per
    message and block (not gai's estimate, so gai must follow the reported usage)."""
    chars = len(body.get("system") or "") + len(json.dumps(body.get("tools") or []))
    tokens = 0
    for message in body.get("messages") or []:
        tokens += 7
        for block in message["content"]:
            tokens += 3
            chars += len(block.get("text") or "") + len(str(block.get("content") or ""))
            chars += len(json.dumps(block["input"])) if "input" in block else 0
    return tokens + math.ceil(chars / 3)


@dataclass
class AnthropicChatServer:
    tool_every: int = 3
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: list[list[str]] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    counted: int = 0
    """Calls to the count-tokens endpoint."""

    async def __aenter__(self) -> AnthropicChatServer:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle)
        app.router.add_post("/v1/messages/count_tokens", self._count)
        self._server = TestServer(app)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    def url(self) -> str:
        return str(self._server.make_url(""))

    async def _count(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.counted += 1
        assert "max_tokens" not in body
        return web.json_response({"input_tokens": server_tokens(body)})

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        found = problems(body)
        if found:
            self.refused.append(found)
            return web.Response(
                status=_REFUSED.status, body=_REFUSED.body, content_type="application/json"
            )
        tokens = server_tokens(body)
        self.tokens.append(tokens)
        last = body["messages"][-1]
        text = next(
            b["text"] for m in reversed(body["messages"]) if m["role"] == "user"
            for b in m["content"] if b.get("type") == "text" and b["text"].startswith("turn ")
        )  # fmt: skip
        number = int(text.split()[1].rstrip(":"))
        answered_tool = any(b.get("type") == "tool_result" for b in last["content"])
        if number % self.tool_every == 0 and not answered_tool:
            answer = copy.deepcopy(_TOOL_ANSWER)
            answer["content"][0].update(
                id=f"toolu_{number:05d}", name="lookup", input={"q": f"t{number}"}
            )
            # Words before the call, of uneven length (models do say what they will do).
            words = "Let me look that up. " * (number * 13 % 40)
            answer["content"].insert(0, {"type": "text", "text": words or "Looking."})
        else:
            answer = copy.deepcopy(_TEXT_ANSWER)
            answer["content"][0]["text"] = f"answer {number}"
        answer["id"] = f"msg_{len(self.requests):06d}"
        answer["usage"]["input_tokens"] = tokens
        return web.json_response(answer)
