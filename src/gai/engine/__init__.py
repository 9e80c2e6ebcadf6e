"""The engine: the multi-step run loop and its entry points."""

from gai.engine.request import OnStepFinish, PrepareStep, Request, StepOverrides
from gai.engine.run import generate_text, generate_text_sync, run_request

__all__ = [
    "OnStepFinish",
    "PrepareStep",
    "Request",
    "StepOverrides",
    "generate_text",
    "generate_text_sync",
    "run_request",
]
