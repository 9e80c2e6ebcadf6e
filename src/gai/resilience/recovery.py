"""`Recovery`: what to do when a whole run fails (the seed's robustWorkflow and degradation)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gai._checks import numbers
from gai.errors import ConfigError

__all__ = ["Recovery"]


@dataclass(frozen=True, slots=True)
class Recovery:
    """Run-level recovery, on top of the per-call retry policy.

    When a run fails with a retryable provider error (after the model call's own
    retries), it is started again, up to `attempts` runs in all, waiting
    `backoff * attempt**2` seconds in between (the seed's robustWorkflow). A
    non-retryable error is not retried.

    Then it can degrade gracefully as the seed describes: with `essential_tools`, once
    more with only those tools (and at most `degraded_max_steps` steps); with
    `no_tools_last`, finally once without tools (a single step). A degraded result
    says so in `result.degraded` (which level, and why); its text is never altered.

    Args:
        attempts: Runs in all before giving up or degrading (1 means no run retry).
        backoff: Seconds; the wait after attempt n is `backoff * n**2`.
        essential_tools: Tool names kept for the first degraded run.
        no_tools_last: Try a last run with no tools.
        degraded_max_steps: Step limit of the degraded runs.
        sleep: Coroutine used to wait (tests pass a fake one).
    """

    attempts: int = 1
    backoff: float = 1.0
    essential_tools: Sequence[str] | None = None
    no_tools_last: bool = False
    degraded_max_steps: int = 10
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def __post_init__(self) -> None:
        numbers(
            "Recovery.",
            ("attempts", self.attempts),
            ("degraded_max_steps", self.degraded_max_steps),
            whole=True,
        )
        numbers("Recovery.", ("backoff", self.backoff))
        if self.attempts < 1:
            raise ConfigError(f"Recovery.attempts must be at least 1, got {self.attempts}.")
        if self.backoff < 0:
            raise ConfigError(f"Recovery.backoff must not be negative, got {self.backoff}.")

    @property
    def degrades(self) -> bool:
        """Whether failed runs fall back to fewer tools."""
        return self.essential_tools is not None or self.no_tools_last
