"""What a submitted durable run carries to the worker that runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gai.types import Message

__all__ = ["RunJob", "TemplateJob"]


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
    """URL of a run store the worker mirrors the run into (`gai runs`, `gai monitor`)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Further `generate_text` options (stop_when, budget, settings...), checked portable."""


@dataclass(frozen=True, slots=True)
class TemplateJob:
    """One `WorkflowTemplate.run` for a worker; the template travels as its JSON form."""

    model: str
    template: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
