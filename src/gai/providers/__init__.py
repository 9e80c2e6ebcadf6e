"""Providers: one module per wire protocol behind the `Model` protocol."""

from gai.providers.base import BaseChatModel, Model, ModelRequest, ModelResponse, ToolChoice

__all__ = ["BaseChatModel", "Model", "ModelRequest", "ModelResponse", "ToolChoice"]
