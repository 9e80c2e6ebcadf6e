"""Keeping long conversations inside the model's context window.

Pass a policy as `context=` to a run or a `gai.Session`; before each model call it
may drop, cut or summarise older turns. What it did is recorded in the step
(`Step.context`), so `gai runs show` and a resumed run see the same conversation.
"""

from gai.context.policies import (
    TRIMMED_NOTE,
    Chain,
    ContextFunction,
    ContextLike,
    ContextPolicy,
    ContextWindow,
    DropOldest,
    DropToolResults,
    KeepEnds,
    Summarize,
    as_policy,
)
from gai.context.tokens import TokenCounter, estimate_tokens

__all__ = [
    "TRIMMED_NOTE",
    "Chain",
    "ContextFunction",
    "ContextLike",
    "ContextPolicy",
    "ContextWindow",
    "DropOldest",
    "DropToolResults",
    "KeepEnds",
    "Summarize",
    "TokenCounter",
    "as_policy",
    "estimate_tokens",
]
