"""Where each OpenAI-compatible service lives; kept apart so the registry can read it cheaply."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPENAI_COMPATIBLE", "OpenAICompatiblePreset"]


@dataclass(frozen=True, slots=True)
class OpenAICompatiblePreset:
    """Where an OpenAI-compatible service lives and which variable holds its key."""

    base_url: str
    """Default base URL (ending in /v1)."""
    api_key_env: str | None
    """Environment variable holding the key; None for local servers that need none."""
    base_url_env: str | None = None
    """Environment variable that overrides the base URL."""


OPENAI_COMPATIBLE: dict[str, OpenAICompatiblePreset] = {
    "openai": OpenAICompatiblePreset(
        "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL"
    ),
    "groq": OpenAICompatiblePreset("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "together": OpenAICompatiblePreset("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "fireworks": OpenAICompatiblePreset(
        "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"
    ),
    "cerebras": OpenAICompatiblePreset("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    "xai": OpenAICompatiblePreset("https://api.x.ai/v1", "XAI_API_KEY"),
    "deepseek": OpenAICompatiblePreset("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "openrouter": OpenAICompatiblePreset("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "vllm": OpenAICompatiblePreset("http://localhost:8000/v1", None, "VLLM_BASE_URL"),
    "llamacpp": OpenAICompatiblePreset("http://localhost:8080/v1", None, "LLAMACPP_BASE_URL"),
    "lmstudio": OpenAICompatiblePreset("http://localhost:1234/v1", None, "LMSTUDIO_BASE_URL"),
    "ollama-openai": OpenAICompatiblePreset("http://localhost:11434/v1", None, "OLLAMA_HOST"),
}
"""Presets for `OpenAI(provider=...)`; each is also a model-string prefix ("groq:...")."""
