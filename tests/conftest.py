from __future__ import annotations

import os

import pytest

_PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GROQ_API_KEY",
    "OLLAMA_HOST",
    "GAI_MODEL",
)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see real provider keys, so nothing reaches a real API by accident."""
    for name in _PROVIDER_ENV:
        if name in os.environ:
            monkeypatch.delenv(name)
