"""`generate_object` and `stream_object`: a run whose answer is a validated Python object.

By default a provider's own JSON-schema output is used when it has one and the run has
no tools; otherwise the model is given an output tool whose parameters are the output
type's JSON schema, and answers by calling it (after any other tools it needs), which
works on every provider that can call tools. Arguments that fail validation come back to the
model as a tool error naming each problem, and it tries again, up to
`max_output_retries` times. `mode="text"` asks for JSON in the answer instead and
extracts it, for models without tool calling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any, Generic, Literal, TypeVar

import pydantic_core
from pydantic import TypeAdapter, ValidationError

from gai._registry import resolve_model
from gai.engine._output import (
    DEFAULT_STEPS,
    Output,
    OutputAttempt,
    extract_json,
    output_adapter,
    refused,
    request_parts,
    text_nudge,
)
from gai.engine.request import ToolLike, Tools, normalize_tools
from gai.engine.run import generate_text, stream_text
from gai.engine.stream import TextStream
from gai.engine.sync import sync_twin
from gai.errors import OutputValidationError, UserError
from gai.providers.base import Model
from gai.stop import MaxSteps, StopWhen
from gai.types import (
    Message,
    TextResult,
    ToolCallDelta,
    ToolCallStarted,
    user,
)

__all__ = [
    "ObjectResult",
    "ObjectStream",
    "OutputAttempt",
    "generate_object",
    "generate_object_sync",
    "stream_object",
]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectResult(Generic[T]):
    """A validated object and the run that produced it."""

    object: T
    """The output, an instance of the output type."""
    result: TextResult
    """The run: every step, usage, stop reason."""
    failed_attempts: list[OutputAttempt]
    """Answers refused before the accepted one (oldest first)."""


async def generate_object(
    model: Model | str,
    output_type: type[T],
    *,
    prompt: str | None = None,
    messages: Sequence[Message] = (),
    system: str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    mode: Literal["auto", "tool", "native", "text"] = "auto",
    max_output_retries: int = 2,
    output_tool_name: str = "final_result",
    **options: Any,
) -> ObjectResult[T]:
    """Run until the model gives an answer that validates as `output_type`.

    Args:
        model: The model.
        output_type: A pydantic model, dataclass, TypedDict, list, enum... anything
            pydantic validates.
        prompt: The user's message (or give `messages`).
        messages: The conversation so far.
        system: System instructions.
        tools: Tools the model may use before answering.
        stop_when: Limit on the run (default 10 steps).
        mode: "auto" (native when the provider has it and no tools are given, else
            tool), "tool" (an output tool; any tool-calling model), "native" (the
            provider's own JSON-schema output: OpenAI `response_format`, Responses
            `text.format`, Gemini `responseJsonSchema`, Ollama `format`), or "text"
            (JSON asked for in the prompt and extracted; for models without either).
        max_output_retries: Refused answers sent back for another try.
        output_tool_name: Name of the output tool.
        **options: More `generate_text` options (retry, budget, run_store...).

    Raises:
        OutputValidationError: No valid answer within the retries; `.attempts` holds
            every refused answer and `.partial_result` the run.
        gai.errors.OutputRefusedError: The model declined to answer, or its provider
            blocked the answer (not retried); `.refusal` holds the model's words.
    """
    if mode == "auto":
        native = getattr(resolve_model(model), "native_output", None)
        mode = "native" if native is not None and not tools else "tool"
    if mode == "native":
        options = _with_native_settings(model, output_type, output_tool_name, options)
        mode = "text"
    if mode == "text":
        return await _generate_in_text(
            model, output_type, prompt, messages, system, normalize_tools(tools), stop_when,
            max_output_retries, options,
        )  # fmt: skip
    run_options = {
        **options,
        "prompt": prompt,
        "messages": messages,
        "system": system,
        "tools": tools,
        "stop_when": stop_when,
    }
    result, failed = await run_for_output(
        model,
        output_type,
        run_options,
        max_output_retries=max_output_retries,
        output_tool_name=output_tool_name,
    )
    return ObjectResult(result.output, result, failed)


async def run_for_output(
    model: Model | str,
    output_type: Any,
    options: dict[str, Any],
    *,
    max_output_retries: int = 2,
    output_tool_name: str = "final_result",
) -> tuple[TextResult, list[OutputAttempt]]:
    """Run `generate_text` with `options` plus an output tool; the answer is `.output`.

    Raises:
        OutputValidationError: No answer validated within the retries.
        gai.errors.OutputRefusedError: The model declined, or its answer was blocked.
    """
    output: Output[Any] = Output(output_type, output_tool_name, max_output_retries)
    options = dict(options)
    for handled in ("model", "tool_choice", "output_type"):
        options.pop(handled, None)
    all_tools, choice, stop = request_parts(
        output, options.pop("tools", ()), options.pop("stop_when", None)
    )
    options.setdefault("continue_when", text_nudge(output))
    result = await generate_text(
        model, tools=all_tools, tool_choice=choice, stop_when=stop, **options
    )
    value, failed = output.read(result)
    if value is None:
        raise refused(result) or OutputValidationError(output_type, failed, result)
    return result.model_copy(update={"output": value}), failed


def _with_native_settings(
    model: Model | str, output_type: Any, name: str, options: dict[str, Any]
) -> dict[str, Any]:
    resolved = resolve_model(model)
    native = getattr(resolved, "native_output", None)
    if native is None:
        raise UserError(
            f"Model {resolved.name!r} has no native structured output; use mode='tool' "
            f"(any model that calls tools) or mode='text'."
        )
    schema = output_adapter(output_type).json_schema()
    settings = dict(native(name, schema))
    for key, value in dict(options.get("settings") or {}).items():
        given = settings.get(key)
        # One level deep: the caller's generationConfig keeps the schema in it.
        settings[key] = (
            {**given, **value} if isinstance(given, dict) and isinstance(value, dict) else value
        )
    return {**options, "settings": settings}


async def _generate_in_text(
    model: Model | str,
    output_type: type[T],
    prompt: str | None,
    messages: Sequence[Message],
    system: str | None,
    tools: Sequence[ToolLike],
    stop_when: StopWhen | None,
    max_retries: int,
    options: dict[str, Any],
) -> ObjectResult[T]:
    adapter: TypeAdapter[T] = output_adapter(output_type)
    schema = pydantic_core.to_json(adapter.json_schema()).decode()
    instructions = (
        "Answer with only a JSON value (no prose) that matches this JSON schema:\n" + schema
    )
    system = f"{system}\n\n{instructions}" if system else instructions
    failed: list[OutputAttempt] = []
    conversation: Sequence[Message] = messages
    ask = prompt
    for _ in range(max_retries + 1):
        result = await generate_text(
            model,
            prompt=ask,
            messages=conversation,
            system=system,
            tools=tools,
            stop_when=stop_when if stop_when is not None else MaxSteps(DEFAULT_STEPS),
            **options,
        )
        refusal = refused(result)
        if refusal is not None:
            raise refusal
        try:
            value = adapter.validate_json(extract_json(result.text))
        except ValidationError as exc:
            error = str(exc)
            failed.append(OutputAttempt(given=result.text, error=error))
            conversation = [
                *result.messages,
                user(f"That answer is not valid:\n{error}\nAnswer again with only the JSON."),
            ]
            ask, system = None, None
            continue
        return ObjectResult(value, result, failed)
    raise OutputValidationError(output_type, failed, result)


class ObjectStream(Generic[T]):
    """Partial objects as the model writes its answer; made by `gai.stream_object`.

    Iterating yields dicts (or lists, or values) that are valid prefixes of the answer,
    parsed tolerantly from the incomplete JSON (a number still streaming is left out),
    then the validated object last. Partials of an answer that is then refused come
    before those of the next attempt. After
    iteration, `stream.object` is the validated object and `stream.result` the run.
    """

    def __init__(self, text_stream: TextStream, output: Output[T], output_type: Any) -> None:
        self._stream = text_stream
        self._output = output
        self._output_type = output_type
        self._object: T | None = None
        self.failed_attempts: list[OutputAttempt] = []

    async def __aenter__(self) -> ObjectStream[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stream.aclose()

    @property
    def object(self) -> T:
        """The validated object, once iteration has finished."""
        if self._object is None:
            raise UserError("The stream has not finished; iterate it to the end first.")
        return self._object

    @property
    def result(self) -> TextResult:
        """The run, once iteration has finished."""
        return self._stream.result

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._partials()

    async def _partials(self) -> AsyncIterator[Any]:
        watched: tuple[int, int] | None = None
        buffer = ""
        last: Any = None
        async for event in self._stream:
            if isinstance(event, ToolCallStarted):
                if event.name == self._output.name:
                    watched, buffer = (event.step_number, event.index), ""
            elif isinstance(event, ToolCallDelta):
                if watched != (event.step_number, event.index):
                    continue
                buffer += event.arguments
                # A number at the very end may still be growing ("54" of "545"): leave it
                # out until something follows it.
                settled = buffer.rstrip("0123456789.-+eE")
                try:
                    parsed = pydantic_core.from_json(settled, allow_partial="trailing-strings")
                except ValueError:
                    continue
                partial = self._output.unwrap(parsed) if isinstance(parsed, dict) else parsed
                if partial not in (None, {}, []) and partial != last:
                    last = partial
                    yield partial
        result = self._stream.result
        value, self.failed_attempts = self._output.read(result)
        if value is None:
            raise refused(result) or OutputValidationError(
                self._output_type, self.failed_attempts, result
            )
        self._object = value
        yield value


def stream_object(
    model: Model | str,
    output_type: type[T],
    *,
    prompt: str | None = None,
    messages: Sequence[Message] = (),
    system: str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    max_output_retries: int = 2,
    output_tool_name: str = "final_result",
    **options: Any,
) -> ObjectStream[T]:
    """Like `generate_object` (tool mode), streaming partial objects as they arrive.

    Example:
        ```python
        async with gai.stream_object(model, Recipe, prompt="a pancake recipe") as stream:
            async for partial in stream:
                print(partial)
        recipe = stream.object
        ```
    """
    output: Output[T] = Output(output_type, output_tool_name, max_output_retries)
    all_tools, choice, stop = request_parts(output, normalize_tools(tools), stop_when)
    options.setdefault("continue_when", text_nudge(output))
    text_stream = stream_text(
        model,
        prompt=prompt,
        messages=messages,
        system=system,
        tools=all_tools,
        tool_choice=choice,
        stop_when=stop,
        **options,
    )
    return ObjectStream(text_stream, output, output_type)


generate_object_sync = sync_twin(generate_object)
