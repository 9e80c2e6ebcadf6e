"""gai: multi-step LLM execution.

A model calls tools, the tools run in parallel, the results go back to the model, and
this repeats until a stop condition says done.

What most programs use is here; each subpackage exports the rest of its own
(`gai.errors` every error, `gai.types` the events and stream chunks, `gai.control`
the loop guards, `gai.resilience` the model wrappers, `gai.providers` the providers).
"""

import importlib as _importlib
import typing as _typing

from gai import engine, errors, limits, models, providers, stop, tools, types
from gai._gc import tune_gc
from gai._registry import register_provider, resolve_model
from gai._version import __version__
from gai.engine import (
    Request,
    StepOverrides,
    TextStream,
    generate_text,
    generate_text_sync,
    resume,
    resume_sync,
    stream_text,
)
from gai.errors import (
    BudgetExceededError,
    ConfigError,
    GaiError,
    GaiWarning,
    OutputValidationError,
    ProviderError,
    UserError,
)
from gai.models import ScriptedModel, TestModel
from gai.providers import Model, ModelRequest, ModelResponse
from gai.stop import MaxSteps, NoMoreTools, StopWhen, UntilToolSeen, all_of, any_of
from gai.tools import Tool, ToolContext, tool
from gai.types import (
    Message,
    RunState,
    Step,
    StopReason,
    Text,
    TextResult,
    ToolCall,
    ToolResult,
    Usage,
    assistant,
    system,
    user,
)

if _typing.TYPE_CHECKING:
    from gai import control, durable, observe, resilience, store, workflows
    from gai.control import Budget, ContinueWhen, StopToken, approve, reject
    from gai.engine.forking import fork, fork_sync
    from gai.engine.session import Session
    from gai.engine.structured import (
        ObjectResult,
        ObjectStream,
        generate_object,
        generate_object_sync,
        stream_object,
    )
    from gai.models.replay import ReplayModel
    from gai.resilience import CircuitBreaker, FallbackModel, RateLimiter, RetryPolicy, Timeouts
    from gai.resilience.recovery import Recovery
    from gai.types.events import RunEvent

__all__ = [
    "Budget",
    "BudgetExceededError",
    "CircuitBreaker",
    "ConfigError",
    "ContinueWhen",
    "FallbackModel",
    "GaiError",
    "GaiWarning",
    "MaxSteps",
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "NoMoreTools",
    "ObjectResult",
    "ObjectStream",
    "OutputValidationError",
    "ProviderError",
    "RateLimiter",
    "Recovery",
    "ReplayModel",
    "Request",
    "RetryPolicy",
    "RunEvent",
    "RunState",
    "ScriptedModel",
    "Session",
    "Step",
    "StepOverrides",
    "StopReason",
    "StopToken",
    "StopWhen",
    "TestModel",
    "Text",
    "TextResult",
    "TextStream",
    "Timeouts",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
    "UntilToolSeen",
    "Usage",
    "UserError",
    "__version__",
    "all_of",
    "any_of",
    "approve",
    "assistant",
    "control",
    "durable",
    "engine",
    "errors",
    "fork",
    "fork_sync",
    "generate_object",
    "generate_object_sync",
    "generate_text",
    "generate_text_sync",
    "limits",
    "models",
    "observe",
    "providers",
    "register_provider",
    "reject",
    "resilience",
    "resolve_model",
    "resume",
    "resume_sync",
    "stop",
    "store",
    "stream_object",
    "stream_text",
    "system",
    "tool",
    "tools",
    "tune_gc",
    "types",
    "user",
    "workflows",
]

# No NullHandler on the "gai" logger, on purpose: in a program that configured no
# logging, Python's last-resort handler then shows gai's warnings (a retry, a degraded
# run) on stderr, as it shows `warnings`; INFO and DEBUG stay silent. A program that
# configures logging decides for itself, as with any library.

# Subsystems most programs never touch load on first use, so `import gai` stays fast.
_LAZY: dict[str, str] = {
    "RunEvent": "gai.types.events",
    "ObjectResult": "gai.engine.structured",
    "ObjectStream": "gai.engine.structured",
    "generate_object": "gai.engine.structured",
    "generate_object_sync": "gai.engine.structured",
    "stream_object": "gai.engine.structured",
    "Budget": "gai.control",
    "CircuitBreaker": "gai.resilience",
    "ContinueWhen": "gai.control",
    "FallbackModel": "gai.resilience",
    "RateLimiter": "gai.resilience",
    "Recovery": "gai.resilience.recovery",
    "ReplayModel": "gai.models.replay",
    "Session": "gai.engine.session",
    "fork": "gai.engine.forking",
    "fork_sync": "gai.engine.forking",
    "RetryPolicy": "gai.resilience",
    "StopToken": "gai.control",
    "Timeouts": "gai.resilience",
    "approve": "gai.control",
    "reject": "gai.control",
    "control": "gai.control",
    "durable": "gai.durable",
    "observe": "gai.observe",
    "resilience": "gai.resilience",
    "store": "gai.store",
    "workflows": "gai.workflows",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gai' has no attribute {name!r}")
    loaded = _importlib.import_module(module)
    value = loaded if module == f"gai.{name}" else getattr(loaded, name)
    globals()[name] = value
    return value
