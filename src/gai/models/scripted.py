"""`ScriptedModel`: replays a fixed list of responses, for tests and demos."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import orjson

from gai.errors import ScriptExhaustedError
from gai.models._usage import with_usage
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse
from gai.types import ModelChunk, ReasoningChunk, StreamEnd, TextChunk, ToolCallChunk

__all__ = ["ScriptedModel"]


class ScriptedModel(BaseChatModel):
    """Answers each call with the next response of a script, and records the requests.

    Responses without usage get a deterministic word count as usage.

    Args:
        responses: `ModelResponse` objects, or plain strings meaning a text answer.
        name: Model name reported in steps.

    Attributes:
        requests: Every request received, in order.
    """

    def __init__(self, responses: Iterable[ModelResponse | str], *, name: str = "scripted") -> None:
        self.responses = [ModelResponse(text=r) if isinstance(r, str) else r for r in responses]
        self.requests: list[ModelRequest] = []
        self._name = name

    @property
    def name(self) -> str:
        """Model name reported in steps."""
        return self._name

    @property
    def remaining(self) -> int:
        """How many responses are left."""
        return len(self.responses) - len(self.requests)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Return the next scripted response.

        Raises:
            ScriptExhaustedError: Every response has been used.
        """
        index = len(self.requests)
        if index >= len(self.responses):
            raise ScriptExhaustedError(
                f"ScriptedModel {self._name!r} has no response left: it holds "
                f"{len(self.responses)} and this is call {index + 1}. Add responses to the "
                f"script, or make the run stop earlier (e.g. stop_when=MaxSteps(n))."
            )
        self.requests.append(request)
        return with_usage(request, self.responses[index])

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream the next response in small pieces, as a real provider would.

        Reasoning, then text, arrive word by word and tool-call arguments in 8-character
        fragments, with every call's first chunk carrying its id and name.
        """
        response = await self.generate(request)
        for index, thought in enumerate(response.reasoning):
            yield ReasoningChunk(
                index=index,
                provider=thought.provider,
                signature=thought.signature,
                redacted=thought.redacted,
                encrypted=thought.encrypted,
                id=thought.id,
                provider_data=thought.provider_data,
            )
            for word in _words(thought.text):
                yield ReasoningChunk(index=index, text=word)
        for word in _words(response.text):
            yield TextChunk(word)
        for index, call in enumerate(response.tool_calls):
            arguments = orjson.dumps(call.arguments).decode()
            yield ToolCallChunk(index=index, call_id=call.call_id, name=call.name)
            for start in range(0, len(arguments), 8):
                yield ToolCallChunk(index=index, arguments=arguments[start : start + 8])
        yield StreamEnd(
            finish_reason=response.finish_reason,
            usage=response.usage,
            model_name=response.model_name,
            raw=response.raw,
        )


def _words(text: str) -> list[str]:
    """`text` in word-sized pieces that join back to it."""
    words = text.split(" ")
    pieces = [word + " " for word in words[:-1]] + [words[-1]]
    return [piece for piece in pieces if piece]
