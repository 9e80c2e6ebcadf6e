"""The output tool a structured run answers through, and what ends such a run."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import pydantic_core
from pydantic import (
    BaseModel,
    PydanticSchemaGenerationError,
    PydanticUserError,
    TypeAdapter,
    ValidationError,
    create_model,
)
from typing_extensions import override

from gai.control import ContinueWhen
from gai.engine.request import ToolLike
from gai.errors import OutputRefusedError, UserError
from gai.stop import MaxSteps, StopCondition, StopWhen, any_of
from gai.tools import Tool
from gai.types import RunState, StopReason, TextResult

__all__ = [
    "DEFAULT_STEPS",
    "REFUSED",
    "Output",
    "extract_json",
    "output_adapter",
    "refused",
    "request_parts",
    "text_nudge",
]

T = TypeVar("T")

DEFAULT_STEPS = 10

REFUSED = frozenset({"refusal", "content_filter"})
"""Finish reasons of an answer the model declined to give or its provider blocked."""


def refused(result: TextResult) -> OutputRefusedError | None:
    """The error for a run whose last answer was refused or blocked, if it was."""
    last = result.steps[-1] if result.steps else None
    if last is None or last.finish_reason not in REFUSED:
        return None
    return OutputRefusedError(last.refusal or "", last.finish_reason, result)


@dataclasses.dataclass(frozen=True, slots=True)
class OutputAttempt:
    """One answer that did not validate: what the model gave, and why it was refused."""

    given: str
    """The arguments (tool mode) or text (text mode) the model produced."""
    error: str
    """The validation errors, as sent back to the model."""


def _is_object_type(output_type: Any) -> bool:
    if isinstance(output_type, type) and issubclass(output_type, BaseModel):
        return True
    if dataclasses.is_dataclass(output_type):
        return True
    return isinstance(output_type, type) and hasattr(output_type, "__required_keys__")


def output_adapter(output_type: Any) -> TypeAdapter[Any]:
    """Pydantic's adapter for `output_type`, or a `UserError` saying it is not a type."""
    try:
        return TypeAdapter(output_type)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise UserError(
            f"output_type must be a type pydantic can validate (a pydantic model, "
            f"dataclass, TypedDict, list[...], enum, int, str...), got {output_type!r}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc


class Output(Generic[T]):
    """The output tool of one run, and how to read its result back."""

    def __init__(self, output_type: Any, name: str, max_retries: int) -> None:
        if max_retries < 0:
            raise UserError(f"max_output_retries must be 0 or more, got {max_retries}.")
        self.name = name
        self.max_retries = max_retries
        self.adapter: TypeAdapter[T] = output_adapter(output_type)
        # Tool parameters must be a JSON object; other types travel in a `result` field.
        self.wrapped = not _is_object_type(output_type)
        input_type: Any = (
            create_model(f"{name}_arguments", result=(output_type, ...))
            if self.wrapped
            else output_type
        )
        self.tool = Tool(
            name=name,
            description="Give your final answer by calling this tool with it.",
            fn=_accept,
            input_type=input_type,
        )

    def unwrap(self, arguments: dict[str, Any]) -> Any:
        return arguments.get("result") if self.wrapped else arguments

    def from_text(self, text: str) -> T | None:
        """The output, when a text answer holds it as JSON (models that ignore tools)."""
        if not text.strip():
            return None
        try:
            return self.adapter.validate_json(extract_json(text))
        except ValidationError:
            return None

    def text_refusal(self) -> str:
        return f"answered in text instead of calling the output tool '{self.name}'"

    def read(self, result: TextResult) -> tuple[T | None, list[OutputAttempt]]:
        failed: list[OutputAttempt] = []
        for step in result.steps:
            if not step.tool_calls:
                value = self.from_text(step.text)
                if value is not None and step is result.steps[-1]:
                    return value, failed
                failed.append(OutputAttempt(given=step.text, error=self.text_refusal()))
                continue
            calls = {c.call_id: c for c in step.tool_calls}
            for tool_result in step.tool_results:
                if tool_result.name != self.name:
                    continue
                call = calls.get(tool_result.call_id)
                arguments = call.arguments if call is not None else {}
                if tool_result.ok:
                    return self.adapter.validate_python(self.unwrap(arguments)), failed
                failed.append(
                    OutputAttempt(
                        given=pydantic_core.to_json(arguments).decode(),
                        error=tool_result.error or "",
                    )
                )
        return None, failed


def _accept(value: Any) -> str:
    return "Answer accepted."


def _failures(run: RunState, name: str) -> tuple[int, int | None]:
    """(refused answers: output tool errors and text answers, the step it was accepted)."""
    failures = 0
    for step in run.steps:
        if not step.tool_calls:
            failures += 1
        for result in step.tool_results:
            if result.name != name:
                continue
            if result.ok:
                return failures, step.step_number
            failures += 1
    return failures, None


class _OutputDone(StopCondition):
    """Stop once the output tool succeeded, or failed more often than allowed."""

    def __init__(self, name: str, max_retries: int) -> None:
        self.name = name
        self.max_retries = max_retries

    @override
    def check(self, run: RunState) -> StopReason | None:
        failures, accepted = _failures(run, self.name)
        if accepted is not None:
            return self._reason(
                "tool_seen", f"output tool '{self.name}' accepted in step {accepted}"
            )
        if failures > self.max_retries:
            return self._reason("condition", f"{failures} answers failed validation")
        return None

    def __repr__(self) -> str:
        return f"OutputDone({self.name!r})"


class _AnsweredInText(StopCondition):
    """Holds when the model answered in text instead of calling the output tool.

    Models that ignore tool choice (Ollama has none) do this; as `continue_when`, it
    sends them back to call the tool, while refusals remain. A text answer that holds
    the output as JSON is accepted as it is.
    """

    def __init__(self, output: Output[Any]) -> None:
        self.output = output

    @override
    def check(self, run: RunState) -> StopReason | None:
        last = run.steps[-1] if run.steps else None
        if last is None or last.tool_calls or self.output.from_text(last.text) is not None:
            return None
        if last.finish_reason in REFUSED:
            return None  # asked again, a model that refused refuses again
        if _failures(run, self.output.name)[0] > self.output.max_retries:
            return None
        return self._reason("condition", self.output.text_refusal())

    def __repr__(self) -> str:
        return f"AnsweredInText({self.output.name!r})"


def text_nudge(output: Output[Any]) -> ContinueWhen:
    return ContinueWhen(
        _AnsweredInText(output),
        nudge=f"Do not answer in text: call the '{output.name}' tool with your final answer.",
    )


def request_parts(
    output: Output[Any], tools: Sequence[ToolLike], stop_when: StopWhen | None
) -> tuple[list[ToolLike], str, StopCondition]:
    if any(getattr(t, "name", None) == output.name for t in tools):
        raise UserError(f"A tool is already named {output.name!r}; pass another output_tool_name.")
    done = _OutputDone(output.name, output.max_retries)
    limit = stop_when if stop_when is not None else MaxSteps(DEFAULT_STEPS)
    # Without other tools the output tool is forced; with them, some tool must be called
    # each step, so the model cannot end with plain text.
    choice = output.name if not tools else "required"
    return [*tools, output.tool], choice, any_of(done, limit)


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> str:
    """The JSON in a model's text answer: a fenced block, else from the first bracket."""
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return text.strip()
    start = min(starts)
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start : end + 1] if end > start else text[start:]
