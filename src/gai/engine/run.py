"""`generate_text` and `generate_text_sync`: the public entry points of the run loop."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gai.engine._loop import run_loop
from gai.engine._recovery import run_with_recovery
from gai.engine.request import OnStepFinish, PrepareStep, Request, Tools
from gai.engine.stream import TextStream
from gai.engine.sync import sync_twin
from gai.errors import UserError
from gai.providers.base import Model, ToolChoice
from gai.types import Message, TextResult

if TYPE_CHECKING:
    from gai.context import ContextLike
    from gai.control.budget import Budget
    from gai.control.cancel import StopToken
    from gai.control.continuation import ContinueWhen
    from gai.control.guards import Guard
    from gai.engine.session import Session
    from gai.observe.hub import Observer
    from gai.resilience.recovery import Recovery
    from gai.resilience.retry import RetryPolicy
    from gai.resilience.timeout import Timeouts
    from gai.stop import StopWhen
    from gai.store.base import RunStore

__all__ = ["generate_text", "generate_text_sync", "run_request", "stream_text"]


async def run_request(model: Model | str, request: Request) -> TextResult:
    """Run a `Request` on a model (`generate_text(model, request)`; for the engine's callers).

    Args:
        model: A model object or a "provider:model" string.
        request: The run's input and options.
    """
    if request.recovery is not None:
        return await run_with_recovery(model, request)
    return await run_loop(model, request)


async def generate_text(
    model: Model | str,
    request: Request | None = None,
    /,
    *,
    messages: Sequence[Message] = (),
    prompt: str | None = None,
    system: str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    tool_choice: ToolChoice = "auto",
    max_parallel_tools: int | None = None,
    tool_timeout: float | None = None,
    max_steps_limit: int = 50,
    on_step_finish: OnStepFinish | None = None,
    prepare_step: PrepareStep | None = None,
    deps: Any = None,
    run_id: str | None = None,
    settings: Mapping[str, Any] | None = None,
    retry: RetryPolicy | bool | None = None,
    timeout: float | Timeouts | None = None,  # noqa: ASYNC109 - the run's deadline, by design
    recovery: Recovery | None = None,
    run_store: RunStore | None = None,
    observers: Sequence[Observer] = (),
    budget: Budget | None = None,
    continue_when: StopWhen | ContinueWhen | None = None,
    guards: Sequence[Guard] = (),
    stop_token: StopToken | None = None,
    metadata: Mapping[str, Any] | None = None,
    session: Session | None = None,
    context: ContextLike | None = None,
    output_type: Any = None,
) -> TextResult:
    """Let the model work through a job: call it, run its tools in parallel, repeat.

    Each step is one model call plus every tool call it asked for, run concurrently.
    The run ends when the model calls no tools, when `stop_when` fires after a step,
    or at `max_steps_limit`; `result.stop_reason` says which.

    Args:
        model: A model object or a "provider:model" string.
        request: A whole `Request` (the seed's `provider.GenerateText(ctx, request)`);
            it takes the place of every other argument.
        messages: The conversation to start from.
        prompt: Shortcut for `messages=[gai.user(prompt)]`.
        system: System prompt, sent first.
        tools: Tools (or plain functions) the model may call.
        stop_when: When to stop; None runs a single step.
        tool_choice: "auto", "none", "required", or a tool name.
        max_parallel_tools: Cap on tool calls running at once.
        tool_timeout: Seconds each tool call may take.
        max_steps_limit: Hard ceiling on steps.
        on_step_finish: Called with each completed step (sync or async).
        prepare_step: Called before each step with the run so far; may return
            `StepOverrides` to change model, tools, tool choice or system prompt.
        deps: Passed to tools as `ToolContext.deps`.
        run_id: Identifier of the run; generated when not given.
        settings: Model settings passed to every model call.
        retry: Retry policy for model calls. None retries real providers with
            `DEFAULT_RETRY` (offline models are not retried); False never retries.
        timeout: Seconds the run may take, or `Timeouts(run=, step=, model_call=)`. A
            run or step past its deadline stops with stop reason "deadline".
        recovery: Run-level retry and graceful degradation (`gai.Recovery`).
        run_store: Checkpoint every step to this store so `gai.resume(run_id, ...)` can
            continue the run if it is interrupted.
        observers: Functions called with every event of the run (metrics, tracing,
            `gai.observe.Monitor`); they must not block.
        budget: Limits on steps, model and tool calls, tokens, cost, time and memory;
            reaching one ends the run with stop reason "budget" (`gai.Budget`).
        continue_when: Holds while the job is not done: a tool-less answer then gets a
            nudge and the run goes on (`gai.ContinueWhen` to set the nudge).
        guards: Loop guards that nudge the model, block a tool or stop the run.
        stop_token: `gai.StopToken`; `request()` stops the run at the next step boundary.
        metadata: Your JSON-serialisable data about the run (user, tenant, request id):
            kept in the run store, on the `run_started` event and the run's span
            (`gai.metadata.<key>`), and as `result.metadata`.
        session: A `gai.Session`: the run continues its conversation and adds to it,
            step by step.
        context: A context policy (`gai.context.DropOldest(max_tokens=...)`,
            `Summarize(...)`, a function over the messages, or a list of them) that keeps
            each model request within a token budget; defaults to the session's.
        output_type: End with an answer validated as this type (pydantic model,
            dataclass, TypedDict, list...) through an output tool, after any other
            tools; it is `result.output`. See `gai.generate_object` for the options.

    Returns:
        The final text, every step, summed usage, the transcript and the stop reason.

    Raises:
        gai.errors.UserError: The arguments are invalid.
        gai.errors.GaiError: The run failed; `partial_result` holds the steps done so far.
        gai.errors.OutputValidationError: With `output_type`, no answer validated.
        asyncio.CancelledError: The task was cancelled; `partial_result` is attached too.
    """
    # Not locals(): the frame would keep that dict for the whole run.
    options: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "prompt": prompt,
        "system": system,
        "tools": tools,
        "stop_when": stop_when,
        "tool_choice": tool_choice,
        "max_parallel_tools": max_parallel_tools,
        "tool_timeout": tool_timeout,
        "max_steps_limit": max_steps_limit,
        "on_step_finish": on_step_finish,
        "prepare_step": prepare_step,
        "deps": deps,
        "run_id": run_id,
        "settings": settings,
        "retry": retry,
        "timeout": timeout,
        "recovery": recovery,
        "run_store": run_store,
        "observers": observers,
        "budget": budget,
        "continue_when": continue_when,
        "guards": guards,
        "stop_token": stop_token,
        "metadata": metadata,
        "session": session,
        "context": context,
    }
    if request is not None:
        _only_request(options, output_type)
        del options
        return await run_request(model, request)
    if output_type is not None:
        from gai.engine.structured import run_for_output

        result, _ = await run_for_output(model, output_type, options)
        return result
    request = _request(**options)
    del options
    if request.recovery is not None:
        return await run_with_recovery(model, request)
    # Straight to the loop rather than through run_request: one coroutine less per run.
    return await run_loop(model, request)


def _only_request(options: dict[str, Any], output_type: Any) -> None:
    defaults = _keyword_defaults()
    given = [k for k, v in options.items() if k in defaults and v is not defaults[k]]
    given += ["output_type"] if output_type is not None else []
    if given:
        raise UserError(
            f"generate_text(model, request) takes the whole run from the Request, but "
            f"{', '.join(given)} was given next to it: set it on the Request instead."
        )


@functools.cache
def _keyword_defaults() -> dict[str, Any]:
    parameters = inspect.signature(generate_text).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY}


def _request(model: object, **options: Any) -> Request:
    settings = options.pop("settings")
    if settings is not None and not isinstance(settings, Mapping):
        raise UserError(
            f"settings must be a dict of provider settings (e.g. {{'temperature': 0}}), "
            f"got {type(settings).__name__}."
        )
    return Request(**options, settings=dict(settings or {}))


def stream_text(
    model: Model | str,
    *,
    messages: Sequence[Message] = (),
    prompt: str | None = None,
    system: str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    tool_choice: ToolChoice = "auto",
    max_parallel_tools: int | None = None,
    tool_timeout: float | None = None,
    max_steps_limit: int = 50,
    on_step_finish: OnStepFinish | None = None,
    prepare_step: PrepareStep | None = None,
    deps: Any = None,
    run_id: str | None = None,
    settings: Mapping[str, Any] | None = None,
    retry: RetryPolicy | bool | None = None,
    timeout: float | Timeouts | None = None,
    recovery: Recovery | None = None,
    run_store: RunStore | None = None,
    observers: Sequence[Observer] = (),
    budget: Budget | None = None,
    continue_when: StopWhen | ContinueWhen | None = None,
    guards: Sequence[Guard] = (),
    stop_token: StopToken | None = None,
    metadata: Mapping[str, Any] | None = None,
    session: Session | None = None,
    context: ContextLike | None = None,
) -> TextStream:
    """Run like `generate_text`, yielding the run's events as they happen.

    Takes the same arguments as `generate_text`. The model is called in streaming
    mode, so text and tool-call arguments arrive as deltas; tools and stop conditions
    behave exactly as in `generate_text`.

    Returns:
        A `TextStream`: iterate it for events (`async for event in stream`), or
        `stream.text_stream` for text only; `stream.result` holds the `TextResult` after.

    Raises:
        gai.errors.UserError: The arguments are invalid (raised here, before streaming).

    Example:
        ```python
        async with gai.stream_text("test", prompt="hi") as stream:
            async for text in stream.text_stream:
                print(text, end="")
        print(stream.result.stop_reason)
        ```
    """
    return TextStream(model, _request(**locals()))


generate_text_sync = sync_twin(generate_text)
