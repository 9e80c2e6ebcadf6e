"""The engine: the multi-step run loop and its entry points."""

from typing import TYPE_CHECKING, Any

from gai.engine.request import OnStepFinish, PrepareStep, Request, StepOverrides
from gai.engine.resuming import resume, resume_sync
from gai.engine.run import generate_text, generate_text_sync, stream_text
from gai.engine.stream import TextStream

if TYPE_CHECKING:
    from gai.engine.forking import fork, fork_sync
    from gai.engine.session import Session, SessionTurn
    from gai.engine.structured import (
        ObjectResult,
        ObjectStream,
        OutputAttempt,
        generate_object,
        stream_object,
    )

_STRUCTURED = {"ObjectResult", "ObjectStream", "OutputAttempt", "generate_object", "stream_object"}
_LAZY = {
    "fork": "gai.engine.forking",
    "fork_sync": "gai.engine.forking",
    "Session": "gai.engine.session",
    "SessionTurn": "gai.engine.session",
}

__all__ = [
    "ObjectResult",
    "ObjectStream",
    "OnStepFinish",
    "OutputAttempt",
    "PrepareStep",
    "Request",
    "Session",
    "SessionTurn",
    "StepOverrides",
    "TextStream",
    "fork",
    "fork_sync",
    "generate_object",
    "generate_text",
    "generate_text_sync",
    "resume",
    "resume_sync",
    "stream_object",
    "stream_text",
]


def __getattr__(name: str) -> Any:
    # Structured output, sessions and forks load on first use: most programs use none.
    if name in _STRUCTURED:
        from gai.engine import structured

        value = getattr(structured, name)
        globals()[name] = value
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gai.engine' has no attribute {name!r}")
