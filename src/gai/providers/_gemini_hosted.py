"""Gemini's own tools: Google Search grounding and code execution, read and sent back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gai.providers.hosted import CodeExecution, HostedToolSpec, WebSearch, unsupported
from gai.types import Citation, HostedTool

__all__ = ["CodeParts", "grounding", "hosted_entries", "is_code_part"]

_NAME = "gemini"


def hosted_entries(specs: Sequence[HostedToolSpec]) -> list[dict[str, Any]]:
    """Gemini's tool entries for the hosted tools asked for."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        if isinstance(spec, WebSearch):
            out.append({"googleSearch": {}})
        elif isinstance(spec, CodeExecution):
            out.append({"codeExecution": {}})
        else:
            raise unsupported(_NAME, spec)
    return out


def is_code_part(part: dict[str, Any]) -> bool:
    """Whether a part is code Gemini ran, or its result."""
    return "executableCode" in part or "codeExecutionResult" in part


@dataclass(slots=True)
class CodeParts:
    """Code parts as they come; each code part and its result make one hosted tool."""

    pending: list[dict[str, Any]] = field(default_factory=list)
    done: list[HostedTool] = field(default_factory=list)

    def add(self, part: dict[str, Any]) -> HostedTool | None:
        """Take a part; returns the tool once its result came."""
        if "executableCode" in part:
            self.pending.append(part)
            return None
        result = part["codeExecutionResult"]
        code = self.pending.pop(0) if self.pending else None
        ran = (code or {}).get("executableCode") or {}
        tool = HostedTool(
            name="code_execution",
            provider=_NAME,
            call_id=result.get("id") or ran.get("id"),
            input={"code": ran.get("code"), "language": ran.get("language")} if ran else None,
            output={"outcome": result.get("outcome"), "output": result.get("output")},
            items=(code, part) if code is not None else (part,),
        )
        self.done.append(tool)
        return tool


def grounding(candidate: dict[str, Any]) -> tuple[HostedTool | None, list[Citation]]:
    """The Google searches behind an answer, and the pages it cites."""
    metadata = candidate.get("groundingMetadata")
    if not metadata:
        return None, []
    pages = [c["web"] for c in metadata.get("groundingChunks") or () if c.get("web", {}).get("uri")]
    cited = [Citation(url=p["uri"], title=p.get("title")) for p in pages]
    queries = metadata.get("webSearchQueries") or []
    search = HostedTool(
        name="google_search",
        provider=_NAME,
        input={"queries": queries},
        output=[{"url": p["uri"], "title": p.get("title")} for p in pages],
    )
    return search, cited
