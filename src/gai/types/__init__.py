"""Value types shared by every layer of gai; this package imports nothing else from gai."""

from gai.types.messages import (
    ImageURL,
    Message,
    Part,
    Role,
    Text,
    ToolCallPart,
    ToolResultPart,
    assistant,
    system,
    user,
)
from gai.types.results import (
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

__all__ = [
    "FinishReason",
    "ImageURL",
    "Message",
    "Part",
    "Role",
    "RunState",
    "Step",
    "StopKind",
    "StopReason",
    "Text",
    "TextResult",
    "ToolCall",
    "ToolCallPart",
    "ToolDefinition",
    "ToolResult",
    "ToolResultPart",
    "Usage",
    "assistant",
    "new_call_id",
    "system",
    "user",
]
