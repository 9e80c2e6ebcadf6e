"""Helpers every wire protocol needs: API keys, settings, data URLs, safe parsing."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from gai.errors import MissingAPIKeyError, ProviderError, ResponseFormatError, UserError
from gai.types import File, FinishReason, ImageURL, Message, Usage

__all__ = [
    "REASONING_BUDGETS",
    "STANDARD_SETTINGS",
    "api_key_from_env",
    "as_file",
    "cannot_take",
    "data_url_parts",
    "finish_reason",
    "nested_settings",
    "passthrough",
    "reasoning_effort",
    "response_shape",
    "split_system",
    "stop_list",
    "usage_from",
]

T = TypeVar("T")

STANDARD_SETTINGS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "prompt_cache",
        "hosted_tools",
        "reasoning_effort",
    }
)
"""Settings every provider maps to its own names; any other key is passed through as is.

`prompt_cache`: True places Anthropic's cache breakpoints (system prompt, tools, the
conversation so far); providers that cache on their own ignore it. `hosted_tools`:
tools the provider runs itself (`gai.providers.hosted`). `reasoning_effort`: "low",
"medium" or "high" asks any reasoning model to think first, in its provider's terms
(a provider's own setting, when given too, wins).
"""

REASONING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}
"""Thinking tokens for each `reasoning_effort`, for providers that take a budget."""


def reasoning_effort(provider: str, settings: Mapping[str, Any]) -> str | None:
    """The `reasoning_effort` setting, checked (None when not given).

    Raises:
        UserError: It is not "low", "medium" or "high".
    """
    effort = settings.get("reasoning_effort")
    if effort is None:
        return None
    if effort not in REASONING_BUDGETS:
        raise UserError(
            f"{provider}: reasoning_effort must be 'low', 'medium' or 'high', got {effort!r}."
        )
    return str(effort)


def api_key_from_env(provider: str, explicit: str | None, *env_vars: str) -> str:
    """Return `explicit`, or the first of `env_vars` that is set.

    Raises:
        MissingAPIKeyError: No key was given and none of the variables is set.
    """
    if explicit:
        return explicit
    for name in env_vars:
        value = os.environ.get(name)
        if value:
            return value
    raise MissingAPIKeyError(provider, " or ".join(env_vars))


def data_url_parts(url: str) -> tuple[str, str] | None:
    """Split `data:<media type>;base64,<data>` into (media type, base64 data)."""
    if not url.startswith("data:"):
        return None
    header, _, data = url.partition(",")
    media_type = header.removeprefix("data:").split(";")[0] or "application/octet-stream"
    if ";base64" not in header:
        data = base64.b64encode(data.encode()).decode()
    return media_type, data


def as_file(part: ImageURL | File) -> File:
    """An image URL part as the `File` it stands for (a `data:` URL is an inline file)."""
    if isinstance(part, File):
        return part
    inline = data_url_parts(part.url)
    if inline is not None:
        return File(media_type=inline[0], data=inline[1])
    return File(media_type=part.media_type or "image/*", url=part.url)


def cannot_take(provider: str, file: File, instead: str = "") -> UserError:
    """The error for a file a provider's API does not accept (raised before sending)."""
    how = "by URL" if file.url is not None else "inline"
    what = "images" if file.media_type == "image/*" else f"{file.media_type} files"
    hint = f" {instead}" if instead else ""
    return UserError(f"{provider} does not take {what} {how}.{hint}")


def split_system(messages: tuple[Message, ...]) -> tuple[str | None, list[Message]]:
    """Pull system messages out (for protocols with a separate system field)."""
    system = [m.text for m in messages if m.role == "system"]
    rest = [m for m in messages if m.role != "system"]
    return ("\n\n".join(system) if system else None), rest


def finish_reason(value: Any, table: Mapping[str, FinishReason]) -> FinishReason | None:
    """Normalise a provider's finish reason; unknown values become "other"."""
    if value is None:
        return None
    return table.get(str(value), "other")


def usage_from(data: Any, fields: Mapping[str, Callable[[Mapping[str, Any]], Any]]) -> Usage:
    """Build `Usage` from a provider's usage object with one getter per Usage field."""
    if not isinstance(data, Mapping):
        return Usage()
    values: dict[str, int] = {}
    for name, getter in fields.items():
        try:
            value = getter(data)
        except (KeyError, TypeError, AttributeError):
            value = None
        if isinstance(value, int | float):
            values[name] = int(value)
    if not values.get("total_tokens"):
        values["total_tokens"] = values.get("input_tokens", 0) + values.get("output_tokens", 0)
    return Usage(**values)


class response_shape:
    """Turn lookups on an unexpected response shape into `ResponseFormatError`.

    A class rather than a @contextmanager: it runs once per streamed chunk, and a
    generator per chunk costs more than the parsing it guards.
    """

    __slots__ = ("provider", "what")

    def __init__(self, provider: str, what: str) -> None:
        self.provider = provider
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or isinstance(exc, ProviderError):
            return
        if isinstance(exc, KeyError | IndexError | TypeError | AttributeError | ValueError):
            # A malformed payload is most often one glitchy response: asking again helps.
            raise ResponseFormatError(
                f"unexpected {self.what} shape ({type(exc).__name__}: {exc})"[:2000],
                provider=self.provider,
                retryable=True,
            ) from exc


def stop_list(settings: Mapping[str, Any]) -> list[str] | None:
    """The `stop` setting as a list (it may be given as one string), or None."""
    if "stop" not in settings:
        return None
    stop = settings["stop"]
    return [stop] if isinstance(stop, str) else list(stop)


def nested_settings(
    settings: Mapping[str, Any], names: Mapping[str, str], stop_name: str, section: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split settings for protocols that nest sampling options in one object.

    Returns:
        (the nested section: standard settings under their wire `names` and `stop` as
        `stop_name`, merged with any section the caller passed through; the other
        pass-through settings).
    """
    nested = {wire: settings[key] for key, wire in names.items() if key in settings}
    if (stop := stop_list(settings)) is not None:
        nested[stop_name] = stop
    extra = passthrough(settings)
    nested.update(extra.pop(section, {}))
    return nested, extra


def passthrough(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that are not standard: provider-specific options sent as they are."""
    return {k: v for k, v in settings.items() if k not in STANDARD_SETTINGS}


def strict_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """`schema` in OpenAI's strict form, or None when it has no such form.

    Strict mode needs every property of every object required and no additional
    properties. A schema with optional properties (defaults) would change meaning, so
    it is sent non-strict instead.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: visit(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out:
            if set(out.get("required", [])) != set(out["properties"]):
                raise _NotStrictError
            out["additionalProperties"] = False
        return out

    try:
        result: dict[str, Any] = visit(schema)
    except _NotStrictError:
        return None
    return result


class _NotStrictError(Exception):
    pass
