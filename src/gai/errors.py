"""Every exception gai raises, in one tree rooted at `GaiError`.

```
GaiError                       root; errors leaving a run carry .partial_result
├── UserError                  developer misuse; the message says how to fix it
│   ├── ConfigError
│   │   └── MissingAPIKeyError names the environment variable to set
│   ├── UnknownModelError      lists close matches
│   ├── ToolDefinitionError    a function that cannot become a tool
│   └── ScriptExhaustedError   a ScriptedModel was asked for more responses than it holds
├── ProviderError              .provider .status .retryable .retry_after .body .request_id
│   └── ResponseFormatError    malformed or truncated model response
└── RunError                   a run could not finish
```

Not errors: a failed tool call becomes a `ToolResult.error` the model sees, and
reaching the step ceiling is a `StopReason`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gai.types.results import TextResult

__all__ = [
    "ConfigError",
    "GaiError",
    "MissingAPIKeyError",
    "ProviderError",
    "ResponseFormatError",
    "RunError",
    "ScriptExhaustedError",
    "ToolDefinitionError",
    "UnknownModelError",
    "UserError",
]


class GaiError(Exception):
    """Root of every error gai raises.

    Attributes:
        partial_result: When the error ended a run, the steps completed before it
            (a `TextResult` whose `stop_reason` says why the run ended); otherwise None.
    """

    partial_result: TextResult | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors must pickle so they can cross process boundaries (durable workers).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[GaiError], state: dict[str, Any]) -> GaiError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class UserError(GaiError):
    """The library was used in a way it does not support; the message says how to fix it."""


class ConfigError(UserError):
    """Configuration is missing or invalid."""


class MissingAPIKeyError(ConfigError):
    """A provider needs an API key that is not set.

    Attributes:
        env_var: The environment variable that should hold the key.
    """

    def __init__(self, provider: str, env_var: str) -> None:
        super().__init__(
            f"No API key for {provider}: set the {env_var} environment variable "
            f"or pass api_key= to the provider."
        )
        self.provider = provider
        self.env_var = env_var


class UnknownModelError(UserError):
    """A model string names a provider gai does not know.

    Attributes:
        name: The model string that was given.
        suggestions: Known provider prefixes close to the one given.
    """

    def __init__(self, name: str, known: list[str], suggestions: list[str]) -> None:
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(
            f"Unknown model {name!r}.{hint} Use 'provider:model' with one of the known "
            f"providers ({', '.join(known)}), or pass a model object."
        )
        self.name = name
        self.suggestions = suggestions


class ToolDefinitionError(UserError):
    """A Python function or type cannot be turned into a tool."""


class ScriptExhaustedError(UserError):
    """A `ScriptedModel` was called more times than it has responses."""


class ProviderError(GaiError):
    """A model provider failed to answer.

    Attributes:
        provider: Provider name, e.g. "openai".
        status: HTTP status, when there was one.
        retryable: Whether trying the same request again may succeed.
        retry_after: Seconds the provider asked to wait before retrying, if it said.
        body: The response body (truncated), for diagnosis.
        request_id: The provider's request id, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        body: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.body = body
        self.request_id = request_id


class ResponseFormatError(ProviderError):
    """The model's response was malformed or truncated."""


class RunError(GaiError):
    """A run could not finish; `partial_result` holds the steps completed before it."""
