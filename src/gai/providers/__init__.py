"""Providers: one module per wire protocol behind the `Model` protocol.

The HTTP providers (`OpenAI`, `OpenAIResponses`, `Anthropic`, `Gemini`, `Ollama`) are
imported on first use, so `import gai` does not load aiohttp.
"""

from typing import TYPE_CHECKING, Any

from gai.providers.base import (
    BaseChatModel,
    Model,
    ModelRequest,
    ModelResponse,
    StreamingModel,
    ToolChoice,
)
from gai.providers.limits import HTTPLimits
from gai.providers.streaming import StreamAssembler

if TYPE_CHECKING:
    from gai.providers.anthropic import Anthropic
    from gai.providers.gemini import Gemini
    from gai.providers.ollama import Ollama
    from gai.providers.openai import OPENAI_COMPATIBLE, OpenAI
    from gai.providers.openai_responses import OpenAIResponses

__all__ = [
    "OPENAI_COMPATIBLE",
    "Anthropic",
    "BaseChatModel",
    "Gemini",
    "HTTPLimits",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "Ollama",
    "OpenAI",
    "OpenAIResponses",
    "StreamAssembler",
    "StreamingModel",
    "ToolChoice",
]

_LAZY = {
    "Anthropic": "gai.providers.anthropic",
    "Gemini": "gai.providers.gemini",
    "Ollama": "gai.providers.ollama",
    "OpenAI": "gai.providers.openai",
    "OPENAI_COMPATIBLE": "gai.providers.openai",
    "OpenAIResponses": "gai.providers.openai_responses",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gai.providers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
