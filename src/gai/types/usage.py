"""Token usage, summed with `+` across model calls and steps."""

from __future__ import annotations

from gai.types.base import Value, readonly

__all__ = ["Usage"]


@readonly(kw_only=True)
class Usage(Value):
    """Tokens used by one or more model calls.

    `total_tokens` defaults to input plus output when not given.
    """

    input_tokens: int = 0
    """Tokens sent to the model."""
    output_tokens: int = 0
    """Tokens the model produced."""
    total_tokens: int = 0
    """All tokens billed (providers may count more than input + output)."""
    cache_read_tokens: int = 0
    """Input tokens served from the provider's prompt cache (part of `input_tokens`)."""
    cache_write_tokens: int = 0
    """Input tokens written to the provider's prompt cache."""
    reasoning_tokens: int = 0
    """Output tokens spent on hidden reasoning (part of `output_tokens`)."""

    def __post_init__(self) -> None:
        if not self.total_tokens:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )

    def __radd__(self, other: object) -> Usage:
        # Lets sum() start from 0.
        if other == 0:
            return self
        return NotImplemented
