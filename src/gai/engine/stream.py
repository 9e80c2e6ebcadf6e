"""`stream_text`: a multi-step run whose events arrive while it happens."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

from gai.engine._loop import run_loop
from gai.engine._recovery import run_with_recovery
from gai.engine.request import Request
from gai.errors import UserError
from gai.providers.base import Model
from gai.types import TextResult

if TYPE_CHECKING:
    from gai.types import RunEvent

__all__ = ["TextStream"]

_END = object()


class TextStream:
    """The events of one run, as an async iterator; made by `gai.stream_text(...)`.

    Iterate it once, with `async for event in stream`, or over `stream.text_stream` for
    only the text. After iteration `stream.result` is the same `TextResult`
    `generate_text` would have returned. Use it as `async with gai.stream_text(...) as
    stream:` so that leaving the block early stops the run and closes the HTTP stream
    at once; a plain `break` does the same when the iterator is garbage-collected.
    """

    def __init__(self, model: Model | str, request: Request) -> None:
        self._model = model
        self._request = request
        # A deque and one waiter instead of asyncio.Queue: the run emits dozens of events
        # per model call, and Queue's bookkeeping per event showed in the benchmark.
        self._pending: deque[object] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[TextResult] | None = None
        self._result: TextResult | None = None
        self._consumed = False

    async def __aenter__(self) -> TextStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[RunEvent]:
        if self._consumed:
            raise UserError("A TextStream can be iterated only once; start another run.")
        self._consumed = True
        return self._events()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Only the text deltas, across all steps."""
        return self._texts()

    @property
    def result(self) -> TextResult:
        """The run's result, once iteration has finished.

        Raises:
            UserError: The run has not finished yet.
        """
        if self._result is None:
            raise UserError("The stream has not finished; iterate it to the end first.")
        return self._result

    async def aclose(self) -> None:
        """Stop the run if it is still going (cancelling its tools and HTTP stream)."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            except Exception:  # the run's own failure was already delivered or is moot
                return

    def _emit(self, event: object) -> None:
        self._pending.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> TextResult:
        try:
            if self._request.recovery is not None:
                return await run_with_recovery(
                    self._model, self._request, emit=self._emit, stream=True
                )
            return await run_loop(self._model, self._request, emit=self._emit, stream=True)
        finally:
            self._emit(_END)

    async def _events(self) -> AsyncIterator[RunEvent]:
        self._task = asyncio.create_task(self._run())
        pending = self._pending
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not pending:
                    self._waiter = loop.create_future()
                    await self._waiter
                    continue
                event = pending.popleft()
                if event is _END:
                    break
                yield event  # type: ignore[misc]
            self._result = await self._task
        finally:
            await self.aclose()

    async def _texts(self) -> AsyncIterator[str]:
        async for event in self:
            if event.kind == "text_delta":
                yield event.text
