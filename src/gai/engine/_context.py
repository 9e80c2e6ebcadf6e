"""The run's context policy applied before a model call, and what it did recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from gai.engine._run import Run
from gai.types import ContextEdit, Message

if TYPE_CHECKING:
    from gai.providers.base import ModelRequest, ModelResponse

__all__ = ["Replayed", "calibrate", "replayed_context", "shape_context"]


async def shape_context(run: Run) -> ContextEdit | None:
    """Let the run's policy rewrite its conversation; the edit made, or None.

    The conversation is edited for real (the result's messages and a session show it),
    so later steps build on the shorter one.
    """
    policy = run.context
    assert policy is not None
    assert run.tokens is not None
    from gai.context import ContextWindow, estimate_tokens

    if isinstance(policy, Replayed):
        recorded = policy.recorded()
        if recorded is not None:
            run.messages = recorded.apply(run.messages)
            run.transcript_edited = True
        return recorded

    head = [] if run.system is None else [run.transcript()[0]]
    tools = [t.definition for t in run.tools]
    counter = run.tokens
    window = ContextWindow(counter, overhead=counter.count(head, tools))
    count = _count_tokens_of(run.model)
    if count is not None:
        window.exact = _exact(run, count, head)
    before = run.messages
    tokens_before = window.tokens(before)
    edited = await policy.edit(list(before), window)
    if edited is None or _same(before, edited):
        run.sent_estimate = estimate_tokens([*head, *before], tools)
        return None
    run.sent_estimate = estimate_tokens([*head, *edited], tools)
    edit = _diff(before, edited, repr(policy), window.dropped, window.summarized, window.shortened)
    spent = window.usage if window.usage.input_tokens or window.usage.output_tokens else None
    edit = edit.model_copy(
        update={
            "tokens_before": tokens_before,
            "tokens_after": window.tokens(edited),
            "usage": spent,
        }
    )
    run.messages = edited
    run.transcript_edited = True
    return edit


def _count_tokens_of(model: object) -> Callable[[ModelRequest], Awaitable[int]] | None:
    """The provider's count-tokens call, under the run's retry and timeout wrappers."""
    count: Callable[[ModelRequest], Awaitable[int]] | None = _beneath(model, "count_tokens")
    return count


def _beneath(model: object, name: str) -> Any:
    """Attribute `name` of the model or of a model it wraps (retry, timeout...), or None."""
    while model is not None:
        found = getattr(model, name, None)
        if found is not None:
            return found
        model = getattr(model, "wrapped", None)
    return None


class Replayed:
    """Stands in for a context policy on a model that replays a recording.

    The recorded edits are applied, so the replayed requests are the recorded ones.
    """

    __slots__ = ("recorded",)

    def __init__(self, recorded: Callable[[], ContextEdit | None]) -> None:
        self.recorded = recorded


def replayed_context(model: object) -> Replayed | None:
    """For a model that replays a recording (`ReplayModel`), its recorded edits."""
    recorded = _beneath(model, "recorded_context")
    return None if recorded is None else Replayed(recorded)


def _exact(
    run: Run, count: Callable[[ModelRequest], Awaitable[int]], head: list[Message]
) -> Callable[[Sequence[Message]], Awaitable[int]]:
    async def exact(messages: Sequence[Message]) -> int:
        from gai.providers.base import ModelRequest

        request = ModelRequest(
            messages=(*head, *messages),
            tools=tuple(t.definition for t in run.tools),
            tool_choice=run.tool_choice,
            settings=dict(run.request.settings),
        )
        return await count(request)

    return exact


def calibrate(run: Run, response: ModelResponse) -> None:
    """Scale later token counts to what the provider billed for this request."""
    if run.tokens is not None:
        run.tokens.calibrate(run.sent_estimate, response.usage.input_tokens)


def _same(before: Sequence[Message], after: Sequence[Message]) -> bool:
    return len(before) == len(after) and all(a is b for a, b in zip(before, after, strict=True))


def _diff(
    before: Sequence[Message],
    after: Sequence[Message],
    policy: str,
    dropped: int,
    summarized: int,
    shortened: int,
) -> ContextEdit:
    """The edit that makes `after` from `before`: kept ranges (by identity) and new messages."""
    position = {id(m): i for i, m in enumerate(before)}
    kept: list[list[int]] = []
    added: list[tuple[int, Message]] = []
    for index, message in enumerate(after):
        old = position.get(id(message))
        if old is None:
            added.append((index, message))
        elif kept and kept[-1][1] == old:
            kept[-1][1] += 1
        else:
            kept.append([old, old + 1])
    if not (dropped or summarized or shortened):
        # A function's edit: count what it removed.
        dropped = len(before) - sum(end - start for start, end in kept)
    return ContextEdit(
        policy=policy,
        kept=tuple((start, end) for start, end in kept),
        added=tuple(added),
        dropped=dropped,
        summarized=summarized,
        shortened=shortened,
    )
