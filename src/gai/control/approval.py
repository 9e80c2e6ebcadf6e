"""Human approval: decisions for tool calls that wait for a person."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gai.errors import UserError

__all__ = ["Decision", "answer", "approve", "reject"]


@dataclass(frozen=True, slots=True)
class Decision:
    """A person's answer to a tool call waiting for approval."""

    verdict: Literal["approve", "reject", "answer"]
    reason: str = ""
    arguments: Mapping[str, Any] | None = None
    """With "approve": the arguments to run the call with instead of the model's."""
    output: Any = None
    """With "answer": the result the model gets, in place of running the tool."""


def approve(arguments: Mapping[str, Any] | None = None) -> Decision:
    """Let the call run, with the model's arguments or with `arguments` instead.

    Edited arguments replace the model's in the conversation too, so the model sees
    the call as it ran; they are validated against the tool's parameters like the
    model's.

    Args:
        arguments: The arguments to run the call with (all of them, not a patch).

    Raises:
        UserError: `arguments` is not a dict with string keys.
    """
    if arguments is not None and (
        not isinstance(arguments, Mapping) or not all(isinstance(k, str) for k in arguments)
    ):
        raise UserError(
            f"approve(arguments=...) takes the call's arguments as a dict with string keys, "
            f"got {type(arguments).__name__}."
        )
    return Decision("approve", arguments=None if arguments is None else dict(arguments))


def reject(reason: str = "") -> Decision:
    """Refuse the call; the model gets an error result with `reason`.

    Args:
        reason: Why, in words the model can act on.
    """
    return Decision("reject", reason)


def answer(output: Any) -> Decision:
    """Answer in the tool's place: the call does not run, and the model gets `output`.

    Text goes to the model as it is, anything else as JSON, like a tool's return value.

    Args:
        output: The result to give the model.
    """
    return Decision("answer", output=output)
