"""Conversation tests share the store fixtures: the same suite on every backend."""

from tests.store.conftest import open_backend, store

__all__ = ["open_backend", "store"]
