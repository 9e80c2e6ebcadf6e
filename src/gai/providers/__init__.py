"""Providers: one module per wire protocol behind the `Model` protocol."""

from gai.providers.base import (
    BaseChatModel,
    Model,
    ModelRequest,
    ModelResponse,
    StreamingModel,
    ToolChoice,
)
from gai.providers.streaming import StreamAssembler

__all__ = [
    "BaseChatModel",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "StreamAssembler",
    "StreamingModel",
    "ToolChoice",
]
