"""Human approval: decisions for tool calls that wait for a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Decision", "approve", "reject"]


@dataclass(frozen=True, slots=True)
class Decision:
    """A person's answer to a tool call waiting for approval."""

    verdict: Literal["approve", "reject"]
    reason: str = ""


def approve() -> Decision:
    """Let the call run."""
    return Decision("approve")


def reject(reason: str = "") -> Decision:
    """Refuse the call; the model gets an error result with `reason`.

    Args:
        reason: Why, in words the model can act on.
    """
    return Decision("reject", reason)
