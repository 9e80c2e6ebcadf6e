"""`Tool` and the `@tool` decorator: Python functions the model can call."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from pydantic import BaseModel, TypeAdapter

from gai._warn import warn
from gai.errors import ConfigError, ToolDefinitionError
from gai.tools._schema import arguments_model, input_schema, parse_doc, takes_context
from gai.tools.context import ToolContext
from gai.types import ToolDefinition

__all__ = ["FunctionTool", "Tool", "tool"]

P = ParamSpec("P")
R = TypeVar("R")

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Tool:
    """A tool the model can call: a name, a description, a JSON schema and a function.

    Two ways to build one:

    - `@tool` on a function: the arguments are the function's parameters.
    - `Tool(name=..., description=..., fn=..., input_type=Model)`: the function takes one
      argument, an instance of `input_type` (a pydantic model, dataclass or TypedDict).

    Either function may be sync (run in a worker thread) or async, and may take a
    `ToolContext` as its first parameter.

    Args:
        name: Name the model calls the tool by (letters, digits, `_`, `-`; up to 64).
        description: What the tool does; defaults to the function's docstring.
        fn: The function to run.
        input_type: The type of the function's single input argument, if it takes one.
        timeout: Seconds one call may take before it fails; overrides the run's
            `tool_timeout`.
        strict: Ask providers that support it to enforce the schema exactly.
        idempotent: Running it twice has the same effect as once, so a resumed run may
            run it again when a crash left its outcome unknown.
        concurrency: At most this many calls of this tool run at once, across all runs.
        sequential: Shorthand for `concurrency=1`.
        group: Name of a concurrency group (`gai.tools.set_group_limit`).
        needs_approval: True, or a predicate over the call's arguments: calls that need
            approval pause the run until a person decides (`gai.resume(approvals=...)`).
        parameters: A ready JSON schema for the arguments (e.g. from an MCP server); the
            function then gets the arguments as keyword arguments, unvalidated.

    Raises:
        ToolDefinitionError: The name is invalid or the signature cannot become a schema.
    """

    def __init__(
        self,
        name: str,
        description: str | None = None,
        fn: Callable[..., Any] | None = None,
        input_type: Any = None,
        *,
        timeout: float | None = None,
        strict: bool | None = None,
        idempotent: bool = False,
        concurrency: int | None = None,
        sequential: bool = False,
        group: str | None = None,
        needs_approval: bool | Callable[[dict[str, Any]], bool] = False,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        if fn is None:
            raise ToolDefinitionError(f"Tool {name!r} needs fn=, the function to run.")
        if not callable(fn):
            raise ToolDefinitionError(
                f"Tool {name!r}: fn= must be the function to run, got {type(fn).__name__}."
            )
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ToolDefinitionError(
                f"Invalid tool name {name!r}: use 1 to 64 letters, digits, '_' or '-'."
            )
        if timeout is not None and timeout <= 0:
            raise ToolDefinitionError(f"Tool {name!r}: timeout must be positive, got {timeout}.")
        doc = parse_doc(fn)
        self.name = name
        self.description = doc.description if description is None else description
        self.fn = fn
        self.timeout = timeout
        self.takes_context = takes_context(fn)
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
        )
        self._single_input = input_type is not None
        self._args_model: type[BaseModel] | None = None
        self._adapter: TypeAdapter[Any] | None = None
        if parameters is not None:
            if parameters.get("type") != "object":
                raise ToolDefinitionError(
                    f"Tool {name!r}: parameters must be an object schema ({{'type': 'object', "
                    f"...}}), got type {parameters.get('type')!r}."
                )
            self._adapter = TypeAdapter(dict[str, Any])
            self._single_input = False
            self.parameters: dict[str, Any] = parameters
        elif input_type is not None:
            self._adapter = TypeAdapter(input_type)
            self.parameters = input_schema(self._adapter, name)
        else:
            self._args_model = arguments_model(fn, name, doc.params)
            self.parameters = input_schema(self._args_model, name)
        self.strict = strict
        self.idempotent = idempotent
        if sequential:
            concurrency = 1
        if concurrency is not None and concurrency < 1:
            raise ToolDefinitionError(f"Tool {name!r}: concurrency must be at least 1.")
        self.concurrency = concurrency
        self.group = group
        self.needs_approval = needs_approval
        self.definition = ToolDefinition(
            name=self.name, description=self.description, parameters=self.parameters, strict=strict
        )
        if parameters is None:  # a schema given as it is (MCP) is not the user's to fix
            _warn_if_vague(self, fn, input_type is None, description is None)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"

    def validate(self, arguments: dict[str, Any]) -> Any:
        """Validate the model's arguments, returning what the function will receive.

        Raises:
            pydantic.ValidationError: The arguments do not match the schema.
        """
        if self._adapter is not None:
            return self._adapter.validate_python(arguments)
        assert self._args_model is not None
        return self._args_model.model_validate(arguments)

    def requires_approval(self, arguments: dict[str, Any]) -> bool:
        """Whether this call must wait for a person's decision."""
        if callable(self.needs_approval):
            return bool(self.needs_approval(arguments))
        return self.needs_approval

    def bind(self, validated: Any, ctx: ToolContext[Any] | None) -> Callable[[], Any]:
        """Return a zero-argument callable that runs the function on validated input.

        `ctx` is required when the tool takes a context (`takes_context`), else unused.
        """
        if self.takes_context and ctx is None:
            raise ConfigError(f"tool {self.name!r} takes a ToolContext; bind it with one")
        args: tuple[Any, ...] = (ctx,) if self.takes_context else ()
        if self._single_input:
            return functools.partial(self.fn, *args, validated)
        if isinstance(validated, dict):
            return functools.partial(self.fn, *args, **validated)
        # The arguments model's instance dict holds exactly its fields, by parameter name.
        return functools.partial(self.fn, *args, **validated.__dict__)


def _warn_if_vague(
    made: Tool, fn: Callable[..., Any], from_signature: bool, from_docstring: bool
) -> None:
    """Warn (once, when the tool is made) about what the model will not be told."""
    problems = []
    if from_docstring and not made.description.strip():
        problems.append("no description (add a docstring or pass description=)")
    if from_signature:
        params = list(inspect.signature(fn).parameters.values())[int(made.takes_context) :]
        untyped = [p.name for p in params if p.annotation is inspect.Parameter.empty]
        if untyped:
            problems.append(
                f"untyped parameters {', '.join(untyped)} (annotate them, e.g. `city: str`)"
            )
    if problems:
        warn(
            f"Tool {made.name!r} has {' and '.join(problems)}: the model sees only what the "
            f"definition says."
        )


class FunctionTool(Tool, Generic[P, R]):
    """A `Tool` made by `@tool`; calling it calls the function directly."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the underlying function directly (no validation, no timeout)."""
        return self.fn(*args, **kwargs)  # type: ignore[no-any-return]


@overload
def tool(fn: Callable[P, R], /) -> FunctionTool[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    strict: bool | None = None,
    idempotent: bool = False,
    concurrency: int | None = None,
    sequential: bool = False,
    group: str | None = None,
    needs_approval: bool | Callable[[dict[str, Any]], bool] = False,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    strict: bool | None = None,
    idempotent: bool = False,
    concurrency: int | None = None,
    sequential: bool = False,
    group: str | None = None,
    needs_approval: bool | Callable[[dict[str, Any]], bool] = False,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Turn a function into a tool.

    The name comes from the function, the description from its docstring, each
    argument's description from the docstring's `Args:` section, and the JSON schema
    from its type hints.

    Args:
        fn: The function (when used as a bare `@tool`).
        name: Tool name; defaults to the function's name.
        description: Tool description; defaults to the docstring.
        timeout: Seconds one call may take; overrides the run's `tool_timeout`.
        strict: Ask providers that support it to enforce the schema exactly.
        idempotent: Safe to run again when a crash left a call's outcome unknown.
        concurrency: Calls of this tool running at once at most, across runs.
        sequential: Shorthand for `concurrency=1`.
        group: Concurrency group name (`gai.tools.set_group_limit`).
        needs_approval: True, or a predicate over the arguments: pause for a person.

    Returns:
        The tool, or a decorator making one when called with options.

    Example:
        ```python
        @gai.tool
        async def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict: ...
        ```
    """

    def make(f: Callable[P, R]) -> FunctionTool[P, R]:
        tool_name = name or getattr(f, "__name__", None)
        if not tool_name:
            raise ToolDefinitionError(f"Cannot infer a tool name from {f!r}; pass name=.")
        return FunctionTool(
            tool_name,
            description,
            f,
            timeout=timeout,
            strict=strict,
            idempotent=idempotent,
            concurrency=concurrency,
            sequential=sequential,
            group=group,
            needs_approval=needs_approval,
        )

    if fn is not None:
        return make(fn)
    return make
