"""`ReplayModel`: a recorded run as an offline model, failing loudly on drift."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gai.errors import ReplayDriftError
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse
from gai.store.base import RunStore
from gai.store.recorded import response_from_record
from gai.store.records import RecordedResponse, RunRecord
from gai.tools import Tool, ToolContext
from gai.types import ContextEdit, ToolResult

__all__ = ["ReplayModel"]


class ReplayModel(BaseChatModel):
    """Replays the model answers of a recorded run, in order.

    Turn a real run (against a real provider, checkpointed in any store) into an
    offline regression test: every request is compared with the one recorded — the
    tools offered, the number of messages, the tool results sent back — and any
    difference raises `ReplayDriftError` naming it. `verify()` fails if recorded answers
    were left unused. `stub_tools()` gives tools that return the recorded results.

    Args:
        record: The recorded run (from `from_run`, `from_file` or a store).
        check_requests: Compare each request with the recording.
    """

    def __init__(self, record: RunRecord, *, check_requests: bool = True) -> None:
        self.record = record
        self.check_requests = check_requests
        self.used = 0

    @classmethod
    async def from_run(cls, store: RunStore, run_id: str, **options: Any) -> ReplayModel:
        """Replay a run stored in `store`."""
        return cls(await store.load_run(run_id), **options)

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ReplayModel:
        """Replay a run exported with `gai runs export` (or `RunRecord.model_dump_json()`)."""
        return cls(RunRecord.model_validate_json(Path(path).read_text()), **options)

    @property
    def name(self) -> str:
        """The recorded model's name, prefixed with "replay:"."""
        return f"replay:{self.record.model}"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """The next recorded answer, after checking the request matches the recording.

        Raises:
            ReplayDriftError: The request differs, or the recording has no more answers.
        """
        responses = self.record.responses
        if self.used >= len(responses):
            raise ReplayDriftError(
                f"The replayed run asked for model call {self.used + 1}, but run "
                f"{self.record.run_id!r} recorded only {len(responses)}."
            )
        recorded = responses[self.used]
        if self.check_requests:
            _check(recorded, request, self.used + 1)
        self.used += 1
        return response_from_record(recorded)

    def recorded_context(self) -> ContextEdit | None:
        """How the recorded run's context policy edited the conversation before the next call.

        A run on this model applies it instead of deciding again, so its requests match
        the recording even when the policy called a model (a summary).
        """
        responses = self.record.responses
        return responses[self.used].context if self.used < len(responses) else None

    def verify(self) -> None:
        """Fail if recorded model answers were left unused.

        Raises:
            ReplayDriftError: Fewer model calls were made than recorded.
        """
        left = len(self.record.responses) - self.used
        if left:
            raise ReplayDriftError(
                f"The replayed run made {self.used} model calls, but run "
                f"{self.record.run_id!r} recorded {len(self.record.responses)}; {left} "
                f"recorded answer(s) were never requested."
            )

    def stub_tools(self) -> list[Tool]:
        """Tools named and described as recorded, returning the recorded results by call id."""
        results: dict[str, ToolResult] = {
            r.call_id: r for step in self.record.steps for r in step.tool_results
        }
        if self.record.pending is not None:
            results.update(self.record.pending.results)
        return [
            _stub(d.name, d.description, d.parameters, results) for d in self.record.snapshot.tools
        ]


def _stub(
    name: str, description: str, parameters: dict[str, Any], results: dict[str, ToolResult]
) -> Tool:
    def recorded(ctx: ToolContext[Any], **arguments: Any) -> Any:
        result = results.get(ctx.call_id)
        if result is None:
            raise ReplayDriftError(
                f"Tool call {ctx.call_id!r} to {name!r} is not in the recording."
            )
        if result.error is not None:
            raise RuntimeError(result.error)
        return result.output

    return Tool(name=name, description=description, fn=recorded, parameters=parameters)


def _check(recorded: RecordedResponse, request: ModelRequest, number: int) -> None:
    tools = [t.name for t in request.tools]
    if tools != recorded.request_tools:
        raise ReplayDriftError(
            f"Model call {number} offered tools {tools}, but the recording offered "
            f"{recorded.request_tools}."
        )
    last = request.messages[-1] if request.messages else None
    sent: Sequence[tuple[str, str]] = (
        [(p.call_id, p.content) for p in last.tool_results]
        if last is not None and last.role == "tool"
        else []
    )
    if [tuple(x) for x in recorded.request_tool_results] != [tuple(x) for x in sent]:
        raise ReplayDriftError(
            f"Model call {number} sent back tool results {list(sent)}, but the recording "
            f"sent {recorded.request_tool_results}."
        )
    if len(request.messages) != recorded.request_messages:
        raise ReplayDriftError(
            f"Model call {number} sent {len(request.messages)} messages, but the recording "
            f"sent {recorded.request_messages}."
        )
