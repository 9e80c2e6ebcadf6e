"""`ScriptedModel`: replays a fixed list of responses, for tests and demos."""

from __future__ import annotations

from collections.abc import Iterable

from gai.errors import ScriptExhaustedError
from gai.models._usage import with_usage
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse

__all__ = ["ScriptedModel"]


class ScriptedModel(BaseChatModel):
    """Answers each call with the next response of a script, and records the requests.

    Responses without usage get a deterministic word count as usage.

    Args:
        responses: `ModelResponse` objects, or plain strings meaning a text answer.
        name: Model name reported in steps.

    Attributes:
        requests: Every request received, in order.
    """

    def __init__(self, responses: Iterable[ModelResponse | str], *, name: str = "scripted") -> None:
        self.responses = [ModelResponse(text=r) if isinstance(r, str) else r for r in responses]
        self.requests: list[ModelRequest] = []
        self._name = name

    @property
    def name(self) -> str:
        """Model name reported in steps."""
        return self._name

    @property
    def remaining(self) -> int:
        """How many responses are left."""
        return len(self.responses) - len(self.requests)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Return the next scripted response.

        Raises:
            ScriptExhaustedError: Every response has been used.
        """
        index = len(self.requests)
        if index >= len(self.responses):
            raise ScriptExhaustedError(
                f"ScriptedModel {self._name!r} has no response left: it holds "
                f"{len(self.responses)} and this is call {index + 1}. Add responses to the "
                f"script, or make the run stop earlier (e.g. stop_when=MaxSteps(n))."
            )
        self.requests.append(request)
        return with_usage(request, self.responses[index])
