"""Tools a provider runs itself, asked for by type: `settings={"hosted_tools": [...]}`.

Each provider turns them into its own tool entries (Anthropic's server tools, the
Responses API's built-in tools, Gemini's `googleSearch` and `codeExecution`); a provider
without a tool says so with a `UserError` before the request is sent. What they did is
in `step.hosted_tools`, and the sources the answer cites in `step.citations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, Literal, TypeAlias

from gai.errors import UserError
from gai.types.base import readonly

__all__ = [
    "CodeExecution",
    "FileSearch",
    "HostedToolSpec",
    "WebSearch",
    "hosted_tools",
    "unsupported",
]


@readonly(kw_only=True)
class WebSearch:
    """Search the web (Anthropic `web_search`, Responses `web_search`, Gemini grounding).

    Args:
        max_uses: Searches per request at most (Anthropic).
        allowed_domains: Only these domains (Anthropic, Responses).
    """

    kind: Literal["web_search"] = "web_search"
    max_uses: int | None = None
    allowed_domains: tuple[str, ...] = ()


@readonly(kw_only=True)
class CodeExecution:
    """Run code in the provider's sandbox (Anthropic, Responses `code_interpreter`, Gemini)."""

    kind: Literal["code_execution"] = "code_execution"


@readonly(kw_only=True)
class FileSearch:
    """Search vector stores of files uploaded to OpenAI (Responses API only).

    Args:
        vector_store_ids: The stores to search.
    """

    kind: Literal["file_search"] = "file_search"
    vector_store_ids: tuple[str, ...] = field(default_factory=tuple)


HostedToolSpec: TypeAlias = WebSearch | CodeExecution | FileSearch
"""Any tool a provider may run itself."""


def hosted_tools(provider: str, settings: Mapping[str, Any]) -> Sequence[HostedToolSpec]:
    """The `hosted_tools` setting, checked.

    Raises:
        UserError: An entry is not one of this module's tool types.
    """
    out: list[HostedToolSpec] = []
    for spec in settings.get("hosted_tools") or ():
        if isinstance(spec, Mapping) and spec.get("kind") in _KINDS:
            # As a stored run's settings hold it: rebuilt for a resumed run.
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()
            }
            spec = _KINDS[spec["kind"]](**fields)
        if not isinstance(spec, WebSearch | CodeExecution | FileSearch):
            raise UserError(
                f"{provider}: hosted_tools takes gai.providers.hosted.WebSearch(), "
                f"CodeExecution() or FileSearch(...), got {type(spec).__name__}."
            )
        out.append(spec)
    return out


_KINDS: dict[str, type[HostedToolSpec]] = {
    "web_search": WebSearch,
    "code_execution": CodeExecution,
    "file_search": FileSearch,
}


def unsupported(provider: str, spec: HostedToolSpec) -> UserError:
    """The error for a hosted tool a provider does not run."""
    return UserError(
        f"{provider} does not run {type(spec).__name__}: leave it out of hosted_tools."
    )
