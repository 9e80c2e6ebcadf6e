"""What a submitted durable run carries to the worker that runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gai.types import Message

__all__ = ["CallJob", "RunJob", "TemplateJob"]


@dataclass(frozen=True, slots=True)
class RunJob:
    """One `generate_text` run for a worker: everything but the model and tools is data.

    The model is a "provider:model" string and tools are names in the worker's
    registry, so neither keys nor connections travel through the database.
    """

    model: str
    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    system: str | None = None
    tools: tuple[str, ...] = ()
    store: str | None = None
    """URL of the run store the worker journals the run in (`gai runs`, `gai monitor`
    read it there); None: the worker's own, in or beside the DBOS database."""
    options: dict[str, Any] = field(default_factory=dict)
    """Further `generate_text` options (stop_when, budget, settings...), checked portable."""


@dataclass(frozen=True, slots=True)
class TemplateJob:
    """One `WorkflowTemplate.run` for a worker; the template travels as its JSON form."""

    model: str
    template: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallJob:
    """An async function for a worker, by import path, with its arguments.

    Every gai run it makes (`generate_text`, agents, templates) is durable, as long as
    it makes them one at a time.
    """

    function: str
    """Import path of an async function the worker can import: module:qualified.name."""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
