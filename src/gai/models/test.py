"""`TestModel`: calls every tool once with schema-valid arguments, then answers."""

from __future__ import annotations

from collections.abc import Sequence

from gai.models._fake_args import fake_value
from gai.models._usage import with_usage
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse
from gai.types import ToolCall

__all__ = ["TestModel"]


class TestModel(BaseChatModel):
    """Exercises tools without a real model.

    On the first call of a run (no tool results in the conversation yet) it calls every
    offered tool once, with arguments generated to satisfy the tool's JSON schema. Once
    tool results are in the conversation, it answers with `text`, or by default with a
    summary of those results. Usage counts one token per word.

    Args:
        call_tools: "all", or the names of the tools to call.
        text: Fixed final answer; defaults to a summary of the tool results.
        name: Model name reported in steps.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        call_tools: Sequence[str] | str = "all",
        text: str | None = None,
        name: str = "test",
    ) -> None:
        self.call_tools = call_tools
        self.text = text
        self._name = name

    @property
    def name(self) -> str:
        """Model name reported in steps."""
        return self._name

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the tools, or answer once their results are in."""
        results = [p for m in request.messages if m.role == "tool" for p in m.tool_results]
        tools = [t for t in request.tools if self.call_tools == "all" or t.name in self.call_tools]
        if not results and tools and request.tool_choice != "none":
            if request.tool_choice not in ("auto", "required"):
                tools = [t for t in tools if t.name == request.tool_choice]
            calls = tuple(
                ToolCall(
                    call_id=f"call_{i}_{t.name}",
                    name=t.name,
                    arguments=fake_value(t.parameters, t.parameters) or {},
                )
                for i, t in enumerate(tools, start=1)
            )
            return with_usage(request, ModelResponse(tool_calls=calls))
        if self.text is not None:
            answer = self.text
        elif results:
            answer = "; ".join(f"{r.name} -> {r.content}" for r in results)
        else:
            last_user = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
            answer = f"test answer to: {last_user}"
        return with_usage(request, ModelResponse(text=answer))
