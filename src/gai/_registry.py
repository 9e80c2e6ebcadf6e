"""Model strings ("provider:model") to model objects; providers register like plugins."""

from __future__ import annotations

from collections.abc import Callable

from gai.errors import UnknownModelError, UserError
from gai.models.test import TestModel
from gai.providers.base import Model

__all__ = ["ModelFactory", "known_providers", "register_provider", "resolve_model"]

ModelFactory = Callable[[str], Model]
"""Builds a model from the part of the model string after "provider:"."""

_FACTORIES: dict[str, ModelFactory] = {}
# One model object per string, so runs naming the same model share its connections.
_CACHE: dict[str, Model] = {}


def register_provider(prefix: str, factory: ModelFactory, *, replace: bool = False) -> None:
    """Make "prefix:model" strings resolve through `factory`.

    Args:
        prefix: Provider name before the colon, e.g. "openai".
        factory: Gets the model name after the colon (may be empty) and returns a model.
        replace: Allow replacing an existing registration.

    Raises:
        UserError: The prefix is taken and `replace` is False.
    """
    if not prefix or ":" in prefix:
        raise UserError(f"Provider prefix must be a non-empty name without ':', got {prefix!r}.")
    if prefix in _FACTORIES and not replace:
        raise UserError(f"Provider {prefix!r} is already registered; pass replace=True.")
    _FACTORIES[prefix] = factory
    for key in [k for k in _CACHE if k.partition(":")[0] == prefix]:
        del _CACHE[key]


def known_providers() -> list[str]:
    """Registered provider prefixes, sorted."""
    return sorted(_FACTORIES)


def resolve_model(model: Model | str) -> Model:
    """Return `model` itself, or the model a "provider:model" string names.

    Raises:
        UnknownModelError: The string's provider is not registered.
        UserError: `model` is neither a string nor a model object.
    """
    if isinstance(model, str):
        cached = _CACHE.get(model)
        if cached is not None:
            return cached
        prefix, _, name = model.partition(":")
        factory = _FACTORIES.get(prefix)
        if factory is None:
            known = known_providers()
            raise UnknownModelError(model, known, _close_matches(prefix, known))
        made = _CACHE[model] = factory(name)
        return made
    # Duck-typed on purpose: isinstance() against a runtime Protocol is slow, and this runs
    # for every run.
    if callable(getattr(model, "generate", None)) and hasattr(model, "name"):
        return model
    raise UserError(
        f"model must be a 'provider:model' string (e.g. 'openai:gpt-4o-mini') or an object "
        f"with a name and async generate(request), got {type(model).__name__}."
    )


def _openai_compatible(preset: str) -> ModelFactory:
    def factory(name: str) -> Model:
        from gai.providers.openai import OpenAI

        return OpenAI(name, provider=preset)

    return factory


def _anthropic(name: str) -> Model:
    from gai.providers.anthropic import Anthropic

    return Anthropic(name)


def _gemini(name: str) -> Model:
    from gai.providers.gemini import Gemini

    return Gemini(name)


def _ollama(name: str) -> Model:
    from gai.providers.ollama import Ollama

    return Ollama(name)


def _openai_responses(name: str) -> Model:
    from gai.providers.openai_responses import OpenAIResponses

    return OpenAIResponses(name)


def _register_builtins() -> None:
    from gai.providers.presets import OPENAI_COMPATIBLE

    register_provider("test", lambda name: TestModel(name=f"test:{name}" if name else "test"))
    register_provider("anthropic", _anthropic)
    register_provider("gemini", _gemini)
    register_provider("ollama", _ollama)
    register_provider("openai-responses", _openai_responses)
    for preset in OPENAI_COMPATIBLE:
        register_provider(preset, _openai_compatible(preset))


_register_builtins()


def _close_matches(name: str, known: list[str]) -> list[str]:
    import difflib  # only an unknown model name needs it; it costs 2 ms at import

    return difflib.get_close_matches(name, known, n=3, cutoff=0.5)
