"""gai runs for web front-ends: the Vercel AI SDK UI message stream and AG-UI.

    from gai.ui import vercel_stream, vercel_messages

A chat endpoint turns the messages a `useChat` client posts into gai messages, runs
`stream_text`, and answers with `vercel_stream(stream)` as server-sent events.
"""

from gai.ui._json import json_safe
from gai.ui.vercel import (
    VERCEL_STREAM_HEADERS,
    VercelRequestError,
    vercel_chunks,
    vercel_messages,
    vercel_stream,
)

__all__ = [
    "VERCEL_STREAM_HEADERS",
    "VercelRequestError",
    "json_safe",
    "vercel_chunks",
    "vercel_messages",
    "vercel_stream",
]
