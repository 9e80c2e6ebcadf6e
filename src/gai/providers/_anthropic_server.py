"""Anthropic's server tools (web search, code execution): asked for, read back, sent back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from gai.providers.hosted import CodeExecution, HostedToolSpec, WebSearch, unsupported
from gai.types import Citation, HostedTool

__all__ = ["ServerBlocks", "citations", "is_server_block", "server_tools"]

_NAME = "anthropic"

WEB_SEARCH = "web_search_20250305"
CODE_EXECUTION = "code_execution_20260120"


def server_tools(specs: Sequence[HostedToolSpec]) -> list[dict[str, Any]]:
    """Anthropic's tool entries for the hosted tools asked for."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        if isinstance(spec, WebSearch):
            entry: dict[str, Any] = {"type": WEB_SEARCH, "name": "web_search"}
            if spec.max_uses is not None:
                entry["max_uses"] = spec.max_uses
            if spec.allowed_domains:
                entry["allowed_domains"] = list(spec.allowed_domains)
            out.append(entry)
        elif isinstance(spec, CodeExecution):
            out.append({"type": CODE_EXECUTION, "name": "code_execution"})
        else:
            raise unsupported(_NAME, spec)
    return out


def is_server_block(block: dict[str, Any]) -> bool:
    """Whether a content block is a server tool's call or result."""
    kind = str(block.get("type", ""))
    return kind == "server_tool_use" or kind.endswith("_tool_result")


def citations(block: dict[str, Any]) -> list[Citation]:
    """The web sources a text block cites."""
    return [
        Citation(url=c["url"], title=c.get("title"), cited_text=c.get("cited_text"))
        for c in block.get("citations") or ()
        if c.get("url")
    ]


@dataclass(slots=True)
class _Call:
    name: str
    call_id: str
    items: list[dict[str, Any]] = field(default_factory=list)
    input: dict[str, Any] | None = None
    output: Any = None


@dataclass(slots=True)
class ServerBlocks:
    """Server tool blocks as they arrive, in a response or a stream, paired by id."""

    calls: dict[str, _Call] = field(default_factory=dict)
    done: list[HostedTool] = field(default_factory=list)
    # Streamed calls: index of the block, its id and its input's JSON so far.
    streaming: dict[int, tuple[str, list[str]]] = field(default_factory=dict)

    def add(self, block: dict[str, Any]) -> HostedTool | None:
        """Take a whole block; returns the tool once its result came."""
        if block["type"] == "server_tool_use":
            started = _Call(block["name"], block["id"], [block], block.get("input"))
            self.calls[started.call_id] = started
            return None
        call_id = str(block.get("tool_use_id", ""))
        # A result without its call is kept all the same, to send back.
        call = self.calls.pop(call_id, None) or _Call(
            block["type"].removesuffix("_tool_result"), call_id
        )
        call.items.append(block)
        call.output = _summary(block.get("content"))
        tool = HostedTool(
            name=call.name,
            provider=_NAME,
            call_id=call.call_id,
            input=call.input,
            output=call.output,
            items=tuple(call.items),
        )
        self.done.append(tool)
        return tool

    def start(self, index: int, block: dict[str, Any]) -> HostedTool | None:
        """A streamed block starts; a call's input streams after it."""
        if block["type"] == "server_tool_use":
            self.streaming[index] = (block["id"], [])
            return self.add({**block, "input": {}})
        return self.add(block)

    def input_delta(self, index: int, fragment: str) -> bool:
        """Take a fragment of a streamed call's input; False if the block is not one."""
        streaming = self.streaming.get(index)
        if streaming is None:
            return False
        streaming[1].append(fragment)
        return True

    def stop(self, index: int) -> None:
        """A streamed block ends: a call's input is complete."""
        streaming = self.streaming.pop(index, None)
        if streaming is None:
            return
        call_id, fragments = streaming
        call = self.calls.get(call_id)
        if call is None:
            return
        text = "".join(fragments)
        arguments = orjson.loads(text) if text.strip() else {}
        call.input = arguments
        call.items[0] = {**call.items[0], "input": arguments}


def _summary(content: Any) -> Any:
    """A result's gist: the pages found (URL and title), or what the code printed."""
    if isinstance(content, list):
        return [
            {"url": r.get("url"), "title": r.get("title")}
            for r in content
            if isinstance(r, dict) and r.get("url")
        ]
    if isinstance(content, dict):
        return {k: v for k, v in content.items() if k in ("stdout", "stderr", "return_code")} or (
            content.get("error_code") and {"error": content["error_code"]}
        )
    return content
