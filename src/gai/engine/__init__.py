"""The engine: the multi-step run loop and its entry points."""

from gai.engine.request import OnStepFinish, PrepareStep, Request, StepOverrides
from gai.engine.resume import resume
from gai.engine.run import generate_text, generate_text_sync, run_request, stream_text
from gai.engine.stream import TextStream
from gai.engine.structured import (
    ObjectResult,
    ObjectStream,
    OutputAttempt,
    generate_object,
    stream_object,
)

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
    "run_request",
    "stream_object",
    "stream_text",
]
