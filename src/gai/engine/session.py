"""`Session`: one conversation kept across runs, in memory or in a run store."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from gai.errors import UserError
from gai.store.base import BaseStore
from gai.store.records import SessionItem, SessionItemKind
from gai.types import Message

if TYPE_CHECKING:
    from gai.context import ContextLike, ContextPolicy

__all__ = ["Session", "SessionTurn"]

_LOCKS: weakref.WeakValueDictionary[tuple[int, int, str], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)
"""One lock per (event loop, store, session): runs on one session in one process take turns."""

_MESSAGES = Message._adapter  # validated where stored JSON comes back in


class Session:
    """A conversation that lasts across runs.

    Pass it as `session=` to `generate_text`, `stream_text` or `generate_object`: the
    run starts from the session's conversation and adds its own messages to it, step by
    step as each step completes (so a crash loses no answered step). Runs on one
    session in one process wait for each other; a run in another process that wrote to
    the session meanwhile makes the later one fail with `SessionConflictError`, never
    an interleaved conversation.

    Args:
        id: The session's name in its store (a chat id, a user id...).
        store: Where the conversation lives: a store (`gai.store.SQLiteStore(...)`,
            PostgreSQL, Redis), a store URL ("sqlite:///chat.db"), or None to keep it in
            this process's memory.
        context: A context policy (`gai.context.DropOldest(...)`...) used by every run on
            the session that gives no `context=` of its own.

    Raises:
        UserError: `id` is not a non-empty string, or `store` is not a store.
    """

    def __init__(
        self,
        id: str,
        store: BaseStore | str | None = None,
        *,
        context: ContextLike | None = None,
    ) -> None:
        if not isinstance(id, str) or not id:
            raise UserError(f"Session id must be a non-empty string, got {id!r:.40}.")
        if store is not None and not isinstance(store, BaseStore | str):
            raise UserError(
                f"Session store must be a gai store (e.g. gai.store.SQLiteStore('chat.db')), "
                f"a store URL or None, got {type(store).__name__}."
            )
        self.id = id
        self._store = store
        self.context: ContextPolicy | None = None
        if context is not None:
            from gai.context import as_policy

            self.context = as_policy(context)
        from gai.context.tokens import TokenCounter

        self.tokens = TokenCounter()
        """Counts tokens for the session's context policy, scaled by what its runs'
        providers reported."""

    def __repr__(self) -> str:
        return f"Session({self.id!r})"

    async def store(self) -> BaseStore:
        """The store the session lives in (opened from its URL on first use)."""
        store = self._store
        if isinstance(store, BaseStore):
            return store
        if store is None:
            from gai.store.memory import MemoryStore

            opened: BaseStore = MemoryStore()
        else:
            from gai.store import open_store

            opened = await open_store(store)
        self._store = opened
        return opened

    async def items(self) -> list[SessionItem]:
        """The session's whole log, resets included (what `gai sessions export` writes)."""
        return await (await self.store())._session_items(self.id)

    async def messages(self) -> list[Message]:
        """The conversation as the next run will start from it."""
        return live_messages(await self.items())

    async def add(self, messages: Sequence[Message]) -> None:
        """Add messages as a turn of their own (a greeting, an imported history).

        Raises:
            UserError: An element is not a `gai.Message`.
        """
        for index, message in enumerate(messages):
            if not isinstance(message, Message):
                raise UserError(
                    f"messages[{index}] must be a gai.Message, got {type(message).__name__}."
                )
        async with self.turn(None) as turn:
            await turn.write(list(messages), reset=False)

    async def pop(self) -> list[Message]:
        """Undo the last turn and return the messages it added.

        What the turn added goes, and so does any trimming its context policy did.
        """
        store = await self.store()
        async with self._lock(store):
            items = await store._session_items(self.id)
            if not items:
                return []
            last = items[-1].turn
            first = next(i for i in items if i.turn == last)
            await store._session_truncate(self.id, first.seq)
            return [m for i in items[first.seq - 1 :] if i.kind == "message" for m in _decode(i)]

    async def clear(self) -> None:
        """Forget the whole conversation."""
        store = await self.store()
        async with self._lock(store):
            await store.delete_session(self.id)

    def _lock(self, store: BaseStore) -> asyncio.Lock:
        key = (id(asyncio.get_running_loop()), id(store), self.id)
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = asyncio.Lock()
        return lock

    def turn(self, run_id: str | None) -> SessionTurn:
        """A turn on the session: `async with session.turn(run_id) as turn` (for the engine)."""
        return SessionTurn(self, run_id)


def live_messages(items: Sequence[SessionItem]) -> list[Message]:
    """The conversation a log makes: the last reset's messages, then the messages after."""
    out: list[Message] = []
    for item in items:
        if item.kind == "reset":
            out = _decode(item)
        else:
            out.extend(_decode(item))
    return out


def _decode(item: SessionItem) -> list[Message]:
    data = orjson.loads(item.data)
    if item.kind == "reset":
        return [_MESSAGES().validate_python(m) for m in data]
    return [_MESSAGES().validate_python(data)]


class SessionTurn:
    """One run's (or `Session.add`'s) hold on a session, and its writes to it.

    The session's conversation is kept equal to the run's: after each step the run's
    new messages are appended, or, when the run's context policy rewrote the
    conversation, a reset holding the whole of it is written.
    """

    def __init__(self, session: Session, run_id: str | None) -> None:
        self.session = session
        self.run_id = run_id
        self.history: list[Message] = []
        self._store: BaseStore | None = None
        self._lock: asyncio.Lock | None = None
        self._next_seq = 1
        self._turn = 1
        self._synced: int | None = 0
        """How many of the run's messages the session's conversation already holds (None:
        it holds something else, so the next write is a reset)."""

    async def __aenter__(self) -> SessionTurn:
        store = self._store = await self.session.store()
        lock = self.session._lock(store)
        await lock.acquire()
        self._lock = lock
        try:
            items = await store._session_items(self.session.id)
        except BaseException:
            self.release()
            raise
        self.history = live_messages(items)
        self._synced = len(self.history)
        self._next_seq = items[-1].seq + 1 if items else 1
        own = [i.turn for i in items if self.run_id is not None and i.run_id == self.run_id]
        # A resumed run goes on with its own turn; anything else starts a new one.
        self._turn = own[-1] if own else (items[-1].turn + 1 if items else 1)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Let the next run on the session go (later calls do nothing)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def follow(self, messages: Sequence[Message]) -> None:
        """Take `messages` as the run's conversation (a resumed run's, rebuilt from its log).

        The next write adds only what the session lacks, or all of it if the two differ.
        """
        have = self.history
        same = len(have) <= len(messages) and list(messages[: len(have)]) == have
        self._synced = len(have) if same else None

    async def write(self, messages: Sequence[Message], *, reset: bool) -> None:
        """Bring the session up to `messages`, the run's whole conversation now.

        `reset`: the conversation was rewritten (by a context policy), so it replaces
        what the session holds rather than extending it.
        """
        assert self._store is not None, "write() inside `async with session.turn(...)`"
        synced = None if reset else self._synced
        data: list[tuple[SessionItemKind, bytes]]
        if synced is None:
            data = [("reset", orjson.dumps(list(messages)))]
        else:
            data = [("message", orjson.dumps(m)) for m in messages[synced:]]
        items = [
            SessionItem(
                seq=self._next_seq + offset,
                turn=self._turn,
                kind=kind,
                data=encoded.decode(),
                run_id=self.run_id,
            )
            for offset, (kind, encoded) in enumerate(data)
        ]
        if items:
            await self._store._session_append(self.session.id, items)
            self._next_seq += len(items)
        self._synced = len(messages)
        self.history = list(messages)
