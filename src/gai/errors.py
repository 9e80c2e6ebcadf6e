"""Every exception gai raises, in one tree rooted at `GaiError`.

```
GaiError                       root; errors leaving a run carry .partial_result
├── UserError                  developer misuse; the message says how to fix it
│   ├── ConfigError
│   │   └── MissingAPIKeyError names the environment variable to set
│   ├── UnknownModelError      lists close matches
│   ├── MissingExtraError      an optional dependency is not installed (also ImportError)
│   ├── ToolDefinitionError    a function that cannot become a tool
│   ├── ReplayDriftError       a replayed run's requests differ from the recording
│   ├── ScriptExhaustedError   a ScriptedModel was asked for more responses than it holds
│   └── NotPortableError       a durable run's option cannot cross to a worker process
├── ProviderError              .provider .status .retryable .retry_after .body .request_id
│   ├── AuthenticationError    401: the key is missing, wrong or revoked
│   ├── PermissionDeniedError  403: the key may not use this model or endpoint
│   ├── NotFoundError          404: unknown model or endpoint
│   ├── InvalidRequestError    400, 422 and other 4xx: the request itself is wrong
│   │   ├── ContextLengthError the conversation is longer than the model accepts
│   │   └── ToolUseFailedError the provider rejected the tool call its model generated
│   ├── RateLimitError         429: too many requests or tokens (retryable)
│   ├── ProviderOverloadedError 503, 529: the provider is overloaded (retryable)
│   ├── ProviderServerError    other 5xx (retryable)
│   ├── ProviderTimeoutError   no answer in time (retryable)
│   ├── ProviderConnectionError the connection failed or dropped (retryable)
│   ├── ResponseFormatError    malformed or truncated model response
│   ├── CircuitOpenError       the circuit breaker refuses calls for now (retryable later)
│   └── FallbackExhaustedError every model of a FallbackModel failed; .errors has each
├── MCPError                   an MCP server could not be reached or refused a call
├── RunError                   a run could not finish
│   ├── BudgetExceededError    a hard budget limit was reached (with on_budget="raise")
│   ├── RunCancelledError      a durable run was cancelled before it finished
│   ├── OutputValidationError  no answer validated as the output type; .attempts has each
│   └── OutputRefusedError     the model declined, or its answer was blocked; not retried
├── StoreError                 a run or state store failed
│   ├── RunNotFoundError       no run with that id in the store
│   ├── RunExistsError         a new run reuses the id of a stored one
│   ├── SessionConflictError   another process wrote to the session during this run
│   └── SchemaVersionError     the store was written by a newer gai
└── WorkflowError              a workflow template or composition is invalid or failed
    ├── MissingVariablesError  required template variables are missing (all listed)
    ├── DependencyCycleError   workflows depend on each other in a cycle (named)
    ├── HandoffLimitError      agents handed off more often than allowed; .turns has each
    ├── TaskTreeError          a task-tree change would corrupt it (unknown task, cycle)
    └── TemplateError          a template file or prompt cannot be used
```

Warnings: `GaiWarning` (a `UserWarning`) for what probably is a mistake but may be
meant, such as a stop condition waiting for a tool the run does not have.

Not errors: a failed tool call becomes a `ToolResult.error` the model sees, and
reaching the step ceiling is a `StopReason`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gai.types.results import TextResult
    from gai.types.usage import Usage

__all__ = [
    "AuthenticationError",
    "BudgetExceededError",
    "CircuitOpenError",
    "ConfigError",
    "ContextLengthError",
    "DependencyCycleError",
    "FallbackExhaustedError",
    "GaiError",
    "GaiWarning",
    "HandoffLimitError",
    "InvalidRequestError",
    "MCPError",
    "MissingAPIKeyError",
    "MissingExtraError",
    "MissingVariablesError",
    "NotFoundError",
    "NotPortableError",
    "OutputRefusedError",
    "OutputValidationError",
    "PermissionDeniedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderOverloadedError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ReplayDriftError",
    "ResponseFormatError",
    "RunCancelledError",
    "RunError",
    "RunExistsError",
    "RunNotFoundError",
    "SchemaVersionError",
    "ScriptExhaustedError",
    "SessionConflictError",
    "StoreError",
    "TaskTreeError",
    "TemplateError",
    "ToolDefinitionError",
    "ToolUseFailedError",
    "UnknownModelError",
    "UserError",
    "WorkflowError",
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


class GaiWarning(UserWarning):
    """Something looks like a mistake, though gai can go on: the message says what."""


class UserError(GaiError):
    """The library was used in a way it does not support; the message says how to fix it."""


class ConfigError(UserError, ValueError):
    """Configuration is missing or invalid: an argument out of range, a setting unset.

    Also a `ValueError`, so code that catches bad arguments that way keeps working.
    """


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


class MissingExtraError(UserError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f'This feature needs the {package!r} package: pip install "gai[{extra}]"')
        self.package = package
        self.extra = extra


class ToolDefinitionError(UserError):
    """A Python function or type cannot be turned into a tool."""


class ReplayDriftError(UserError):
    """A run replayed against a recording asked for something the recording does not hold."""


class NotPortableError(UserError):
    """Something given to a durable run cannot be sent to a worker process.

    Raised at submission, not when a worker picks the run up: a lambda or closure as a
    stop condition, a function defined in `__main__`, a tool object instead of a name.
    """


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
        usage: Tokens the failed call still consumed, when the provider said (an
            error inside a stream may carry them); the run's usage includes them.
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
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.usage = usage
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.body = body
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.provider}" + (f" HTTP {self.status}" if self.status else "")
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}: {self.message}{rid}"


class AuthenticationError(ProviderError):
    """The provider rejected the API key (HTTP 401)."""


class PermissionDeniedError(ProviderError):
    """The key may not use this model or endpoint (HTTP 403)."""


class NotFoundError(ProviderError):
    """The model or endpoint does not exist (HTTP 404)."""


class InvalidRequestError(ProviderError):
    """The provider rejected the request as invalid (HTTP 400, 422 and other 4xx)."""


class ToolUseFailedError(InvalidRequestError):
    """The provider rejected a tool call its model generated (Groq's `tool_use_failed`).

    The OpenAI-compatible provider turns it back into that tool call, so the run sends
    the validation error to the model, which corrects itself; it propagates only when
    the failed generation names no tool.

    Attributes:
        failed_generation: What the model generated, as the provider reported it.
    """

    failed_generation: str | None = None


class ContextLengthError(InvalidRequestError):
    """The conversation is longer than the model's context window."""


class RateLimitError(ProviderError):
    """Too many requests or tokens (HTTP 429); `retry_after` says how long to wait, if known."""


class ProviderOverloadedError(ProviderError):
    """The provider is overloaded (HTTP 503 or 529)."""


class ProviderServerError(ProviderError):
    """The provider failed (HTTP 5xx)."""


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""


class ProviderConnectionError(ProviderError):
    """The connection to the provider failed or dropped."""


class ResponseFormatError(ProviderError):
    """The model's response was malformed or truncated."""


class CircuitOpenError(ProviderError):
    """A circuit breaker is open: calls fail fast until `retry_after` seconds have passed."""


class FallbackExhaustedError(ProviderError):
    """Every model of a `FallbackModel` failed.

    Attributes:
        errors: The error of each model tried, in order.
    """

    def __init__(self, errors: list[Exception]) -> None:
        tried = "; ".join(f"{type(e).__name__}: {e}" for e in errors)
        last = errors[-1] if errors else None
        super().__init__(
            f"all {len(errors)} models failed ({tried})",
            provider="fallback",
            status=getattr(last, "status", None),
            retryable=any(getattr(e, "retryable", False) for e in errors),
        )
        self.errors = errors


class RunError(GaiError):
    """A run could not finish; `partial_result` holds the steps completed before it."""


class RunCancelledError(RunError):
    """A durable run was cancelled (`DurableHandle.cancel`) before it finished."""


class BudgetExceededError(RunError):
    """A hard budget limit was reached; `partial_result` holds the run so far."""


class StoreError(GaiError):
    """A run or state store failed."""


class RunNotFoundError(StoreError):
    """The store holds no run with that id."""


class RunExistsError(StoreError):
    """A new run was given the id of a run already in the store."""


class SessionConflictError(StoreError):
    """Another run (in another process) wrote to the session while this one ran.

    Runs on one session in one process wait for each other; across processes the
    second writer is refused rather than interleaved. Run the turn again: it starts
    from the conversation as it now is.
    """


class SchemaVersionError(StoreError):
    """The store's schema is newer than this version of gai understands.

    Attributes:
        found: Schema version in the store.
        supported: Newest schema version this gai knows.
    """

    def __init__(self, where: str, found: int, supported: int) -> None:
        super().__init__(
            f"{where} has schema version {found}, but this gai understands up to "
            f"{supported}. Upgrade gai to read it; nothing was changed."
        )
        self.found = found
        self.supported = supported


class WorkflowError(GaiError):
    """A workflow template or composition is invalid, or one of its runs failed."""


class MissingVariablesError(WorkflowError):
    """Required template variables are missing.

    Attributes:
        missing: Every missing variable, sorted.
    """

    def __init__(self, template: str, missing: list[str]) -> None:
        super().__init__(
            f"Template {template!r} needs variables that were not given: "
            f"{', '.join(missing)}. Pass them as variables (or give them default_vars)."
        )
        self.missing = missing


class DependencyCycleError(WorkflowError):
    """Workflows depend on each other in a cycle.

    Attributes:
        cycle: The workflows of the cycle, the first repeated at the end.
    """

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(
            f"Workflow dependencies form a cycle: {' -> '.join(cycle)}. Remove one of "
            f"these dependencies."
        )
        self.cycle = cycle


class TemplateError(WorkflowError):
    """A template file or one of its prompts cannot be used."""


class HandoffLimitError(WorkflowError):
    """Agents handed control to each other more often than allowed.

    Attributes:
        turns: Every agent turn that ran (`gai.workflows.AgentTurn`), in order.
    """

    def __init__(self, limit: int, turns: list[Any]) -> None:
        path = " -> ".join(t.agent for t in turns)
        super().__init__(
            f"Agents handed off more than {limit} times ({path}); raise max_handoffs or "
            f"tell the agents when to answer."
        )
        self.turns = turns


class TaskTreeError(WorkflowError):
    """A task-tree change would corrupt it: an unknown task, a cycle, open dependencies."""


class OutputValidationError(RunError):
    """The model gave no answer that validates as the requested output type.

    Attributes:
        attempts: Every refused answer (`gai.engine.OutputAttempt`: what was given, and why
            it was refused), oldest first.
    """

    def __init__(self, output_type: Any, attempts: list[Any], result: TextResult) -> None:
        name = getattr(output_type, "__name__", repr(output_type))
        detail = f" Last error: {attempts[-1].error}" if attempts else ""
        super().__init__(
            f"No answer validated as {name} after {len(attempts)} refused attempts "
            f"(run stopped: {result.stop_reason}).{detail} Raise max_output_retries or the "
            f"step limit, or simplify the output type."
        )
        self.attempts = attempts
        self.partial_result = result


class OutputRefusedError(RunError):
    """The model declined to give the requested output, or its provider blocked it.

    Not retried: asking again for what a model refused gets another refusal and costs
    tokens. Change the request instead.

    Attributes:
        refusal: The model's words, when it gave any ("" when the provider's safety
            system blocked the answer).
        finish_reason: "refusal" (the model declined) or "content_filter" (blocked).
    """

    def __init__(self, refusal: str, finish_reason: str, result: TextResult) -> None:
        said = f": {refusal!r}" if refusal else ""
        what = (
            "declined to answer"
            if finish_reason == "refusal"
            else "was blocked by the provider's safety system"
        )
        super().__init__(
            f"The model {what}{said}. It is not asked again: change the request "
            f"(.partial_result holds the run)."
        )
        self.refusal = refusal
        self.finish_reason = finish_reason
        self.partial_result = result


class MCPError(GaiError):
    """An MCP server could not be started or reached, or refused a tool call."""
