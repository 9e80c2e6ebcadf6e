"""The engine: the multi-step run loop and its entry points."""

from typing import TYPE_CHECKING, Any

from gai.engine.request import OnStepFinish, PrepareStep, Request, StepOverrides
from gai.engine.resume import resume, resume_sync
from gai.engine.run import generate_text, generate_text_sync, stream_text
from gai.engine.stream import TextStream

if TYPE_CHECKING:
    from gai.engine.structured import (
        ObjectResult,
        ObjectStream,
        OutputAttempt,
        generate_object,
        stream_object,
    )

_STRUCTURED = {"ObjectResult", "ObjectStream", "OutputAttempt", "generate_object", "stream_object"}

__all__ = [
    "ObjectResult",
    "ObjectStream",
    "OnStepFinish",
    "OutputAttempt",
    "PrepareStep",
    "Request",
    "StepOverrides",
    "TextStream",
    "generate_object",
    "generate_text",
    "generate_text_sync",
    "resume",
    "resume_sync",
    "stream_object",
    "stream_text",
]


def __getattr__(name: str) -> Any:
    # Structured output loads on first use: most programs never ask for an object.
    if name in _STRUCTURED:
        from gai.engine import structured

        value = getattr(structured, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gai.engine' has no attribute {name!r}")
