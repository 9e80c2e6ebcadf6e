"""Value types shared by every layer of gai; this package imports nothing else from gai."""

from typing import TYPE_CHECKING, Any

from gai.types.chunks import (
    HostedToolChunk,
    ModelChunk,
    ReasoningChunk,
    StreamEnd,
    StreamRestart,
    TextChunk,
    ToolCallChunk,
)
from gai.types.context import ContextEdit
from gai.types.files import File, FileKind
from gai.types.messages import (
    CachePoint,
    Citation,
    HostedTool,
    ImageURL,
    Message,
    Part,
    Reasoning,
    Role,
    Text,
    ToolCallPart,
    ToolResultPart,
    assistant,
    system,
    user,
)
from gai.types.results import (
    Degradation,
    FinishReason,
    RunState,
    Step,
    StopKind,
    StopReason,
    TextResult,
    ToolCall,
    ToolResult,
    new_call_id,
)
from gai.types.tooldef import ToolDefinition
from gai.types.usage import Usage

if TYPE_CHECKING:
    from gai.types.events import (
        BudgetWarning,
        ModelCallFinished,
        ModelCallRetried,
        ModelCallStarted,
        ReasoningDelta,
        RunEvent,
        RunFailed,
        RunFinished,
        RunStarted,
        StepFinished,
        StepStarted,
        TextDelta,
        ToolCallDelta,
        ToolCallFinished,
        ToolCallStarted,
        ToolFinished,
        ToolStarted,
    )

__all__ = [
    "BudgetWarning",
    "CachePoint",
    "Citation",
    "ContextEdit",
    "Degradation",
    "File",
    "FileKind",
    "FinishReason",
    "HostedTool",
    "HostedToolChunk",
    "ImageURL",
    "Message",
    "ModelCallFinished",
    "ModelCallRetried",
    "ModelCallStarted",
    "ModelChunk",
    "Part",
    "Reasoning",
    "ReasoningChunk",
    "ReasoningDelta",
    "Role",
    "RunEvent",
    "RunFailed",
    "RunFinished",
    "RunStarted",
    "RunState",
    "Step",
    "StepFinished",
    "StepStarted",
    "StopKind",
    "StopReason",
    "StreamEnd",
    "StreamRestart",
    "Text",
    "TextChunk",
    "TextDelta",
    "TextResult",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallDelta",
    "ToolCallFinished",
    "ToolCallPart",
    "ToolCallStarted",
    "ToolDefinition",
    "ToolFinished",
    "ToolResult",
    "ToolResultPart",
    "ToolStarted",
    "Usage",
    "assistant",
    "new_call_id",
    "system",
    "user",
]


# Events load on first use: a run creates them only when someone listens (a stream, an
# observer), and their classes are a tenth of what `import gai` spends in gai itself.
_EVENTS = frozenset(
    {
        "BudgetWarning",
        "ModelCallFinished",
        "ModelCallRetried",
        "ModelCallStarted",
        "ReasoningDelta",
        "RunEvent",
        "RunFailed",
        "RunFinished",
        "RunStarted",
        "StepFinished",
        "StepStarted",
        "TextDelta",
        "ToolCallDelta",
        "ToolCallFinished",
        "ToolCallStarted",
        "ToolFinished",
        "ToolStarted",
    }
)


def __getattr__(name: str) -> Any:
    if name in _EVENTS:
        from gai.types import events

        value = getattr(events, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gai.types' has no attribute {name!r}")
