"""`ContinueWhen`: keep a run going when the model stops before the job is done."""

from __future__ import annotations

from dataclasses import dataclass

from gai.stop import StopWhen

__all__ = ["ContinueWhen"]

DEFAULT_NUDGE = "The task is not finished yet ({reason}). Continue, and use the tools you need."


@dataclass(frozen=True, slots=True)
class ContinueWhen:
    """`continue_when` with a custom nudge.

    When the model answers without tool calls while `condition` holds, the run sends
    `nudge` (with `{reason}` replaced by what the condition reports) as a user message
    and goes on, bounded by the budget and `max_steps_limit`.

    Args:
        condition: Holds while the job is not done, e.g. `~UntilToolSeen("send_email")`.
        nudge: The message sent to the model.
    """

    condition: StopWhen
    nudge: str = DEFAULT_NUDGE
