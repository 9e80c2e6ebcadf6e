"""`RedisStore`: runs and state in Redis, shared by many processes (extra: redis)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from gai.errors import (
    MissingExtraError,
    RunExistsError,
    RunNotFoundError,
    SchemaVersionError,
    SessionConflictError,
    StoreError,
)
from gai.store import _rows
from gai.store.base import BaseStore, prepare_serializers, result_json, snapshot_json
from gai.store.entries import Entry, LogEntry, NewRun, StatusChange
from gai.store.records import (
    SCHEMA_VERSION,
    Checkpoint,
    RunRecord,
    RunSnapshot,
    RunStatus,
    RunSummary,
    SessionItem,
    SessionSummary,
    utcnow,
)
from gai.types import TextResult

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("redis", "redis") from exc

__all__ = ["RedisStore"]

# Creating a run must fail if the id exists, and index it, in one step.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[3])
return 1
"""
# Appending must not recreate a deleted run, nor take a number another writer took.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[3]) - 1 then return -1 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
return redis.call('RPUSH', KEYS[2], ARGV[1])
"""

# A session's items go on its list only if the first one's number is the next one.
_SESSION_APPEND = """
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_version(found: Any) -> None:
    version = int(found) if found is not None else 0
    if version > SCHEMA_VERSION:
        raise SchemaVersionError("Redis store", version, SCHEMA_VERSION)


class RedisStore(BaseStore):
    """Runs and state in Redis (hashes for runs, a list per run for checkpoints).

    Durability is Redis's: enable AOF (`appendonly yes`) if checkpoints must survive a
    Redis restart. Use `await RedisStore.open(url)`.

    Args:
        client: A `redis.asyncio.Redis` client.
        prefix: Key prefix, so several apps can share one database.
    """

    kind = "redis"

    def __init__(self, client: aioredis.Redis, *, prefix: str = "gai") -> None:
        prepare_serializers()
        self._redis = client
        self._prefix = prefix
        self._create = client.register_script(_CREATE)
        self._append = client.register_script(_APPEND)
        self._session_push = client.register_script(_SESSION_APPEND)

    @classmethod
    async def open(cls, url: str, *, prefix: str = "gai") -> RedisStore:
        """Connect and check the schema version.

        Raises:
            SchemaVersionError: The data was written by a newer gai.
            StoreError: Redis cannot be reached.
        """
        client = aioredis.from_url(url)
        store = cls(client, prefix=prefix)
        try:
            key = f"{prefix}:meta"
            _check_version(await client.hget(key, "schema_version"))
            await client.hset(key, "schema_version", str(SCHEMA_VERSION))
        except RedisError as exc:
            await client.aclose()
            raise StoreError(f"Cannot use Redis at {url} ({exc}).") from exc
        except BaseException:
            await client.aclose()
            raise
        return store

    def _run_key(self, run_id: str) -> str:
        return f"{self._prefix}:run:{run_id}"

    async def write(self, entries: Sequence[Entry]) -> None:
        """Apply `entries` in order, one at a time; the first that fails stops the rest."""
        for entry in entries:
            if isinstance(entry, NewRun):
                await self._create_run(entry)
            elif isinstance(entry, LogEntry):
                await self._append_entry(entry)
            else:
                await self._set_status(entry)

    async def _create_run(self, entry: NewRun) -> None:
        now = utcnow()
        stamp = now.isoformat()
        created = await self._create(
            keys=[self._run_key(entry.run_id), f"{self._prefix}:runs", entry.run_id],
            args=[
                now.timestamp(),
                "status", "running",
                "model", entry.model,
                "created_at", stamp,
                "updated_at", stamp,
                "snapshot", snapshot_json(entry.snapshot),
            ],
        )  # fmt: skip
        if not created:
            raise RunExistsError(
                f"Run {entry.run_id!r} already exists; resume it or use another run_id."
            )

    async def _append_entry(self, entry: LogEntry) -> None:
        head = orjson.dumps({"kind": entry.kind, "step_number": entry.step_number}).decode()
        data = f'{head[:-1]},"payload":{entry.data}}}'
        key = self._run_key(entry.run_id)
        args: list[str | int] = [data, utcnow().isoformat(), entry.seq]
        length = await self._append(keys=[key, f"{key}:cp"], args=args)
        if not length:
            raise RunNotFoundError(f"No run {entry.run_id!r} in the Redis store.")
        if length == -1:
            raise StoreError(
                f"Checkpoint {entry.seq} of run {entry.run_id!r} is already in the Redis "
                f"store: another process is writing this run. Run each run in one place."
            )

    async def _set_status(self, entry: StatusChange) -> None:
        key = self._run_key(entry.run_id)
        if not await self._redis.exists(key):
            raise RunNotFoundError(f"No run {entry.run_id!r} in the Redis store.")
        items = [
            "status", entry.status,
            "updated_at", utcnow().isoformat(),
            "result", result_json(entry.status, entry.result) or "",
            "error", entry.error or "",
        ]  # fmt: skip
        await self._redis.hset(key, items=items)

    async def _load_row(self, run_id: str) -> RunRecord | None:
        raw = await self._redis.hgetall(self._run_key(run_id))
        if not raw:
            return None
        row = {_text(k): _text(v) for k, v in raw.items()}
        return RunRecord(
            run_id=run_id,
            status=row["status"],
            model=row["model"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            updated_at=dt.datetime.fromisoformat(row["updated_at"]),
            snapshot=RunSnapshot.model_validate_json(row["snapshot"]),
            result=TextResult.model_validate_json(row["result"]) if row.get("result") else None,
            error=row.get("error") or None,
        )

    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        entries = await self._redis.lrange(f"{self._run_key(run_id)}:cp", 0, -1)
        out = []
        for seq, entry in enumerate(entries, start=1):
            data = orjson.loads(entry)
            out.append(Checkpoint(seq=seq, **data))
        return out

    async def list_runs(
        self,
        status: RunStatus | None = None,
        limit: int = 100,
        *,
        model: str | None = None,
        search: str | None = None,
        before: RunSummary | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first."""
        summaries: list[RunSummary] = []
        start = 0
        while len(summaries) < limit:
            ids = await self._redis.zrevrange(f"{self._prefix}:runs", start, start + 199)
            if not ids:
                break
            start += len(ids)
            for raw_id in ids:
                run_id = _text(raw_id)
                record = await self._load_row(run_id)
                if record is None or (status is not None and record.status != status):
                    continue
                if model is not None and record.model != model:
                    continue
                entries = await self._redis.lrange(f"{self._run_key(run_id)}:cp", 0, -1)
                steps = sum(1 for e in entries if orjson.loads(e)["kind"] == "step_finished")
                summary = RunSummary(
                    run_id=run_id,
                    status=record.status,
                    model=record.model,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                    steps=steps,
                    error=record.error,
                )
                if _rows.matches(summary, status, model, search, before, since, until):
                    summaries.append(summary)
                if len(summaries) >= limit:
                    break
        return summaries

    async def delete_run(self, run_id: str) -> None:
        """Forget a run."""
        key = self._run_key(run_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key, f"{key}:cp")
            pipe.zrem(f"{self._prefix}:runs", run_id)
            await pipe.execute()

    async def _save_state(self, key: str, data: str) -> None:
        await self._redis.hset(f"{self._prefix}:state", key, data)

    async def _load_state(self, key: str) -> str | None:
        value = await self._redis.hget(f"{self._prefix}:state", key)
        return None if value is None else _text(value)

    async def delete(self, key: str) -> None:
        """Remove a state key."""
        await self._redis.hdel(f"{self._prefix}:state", key)

    async def list(self, prefix: str = "") -> list[str]:
        """State keys with `prefix`."""
        keys = await self._redis.hkeys(f"{self._prefix}:state")
        return sorted(k for k in map(_text, keys) if k.startswith(prefix))

    def _session_key(self, session_id: str) -> str:
        return f"{self._prefix}:session:{session_id}"

    async def _session_items(self, session_id: str) -> builtins.list[SessionItem]:
        raw = await self._redis.lrange(self._session_key(session_id), 0, -1)
        return [SessionItem.model_validate_json(item) for item in raw]

    async def _session_append(self, session_id: str, items: Sequence[SessionItem]) -> None:
        now = utcnow()
        stamped = [item.model_copy(update={"created_at": now}).model_dump_json() for item in items]
        pushed = await self._session_push(
            keys=[self._session_key(session_id), f"{self._prefix}:sessions"],
            args=[items[0].seq, now.timestamp(), session_id, *stamped],
        )
        if not pushed:
            raise SessionConflictError(
                f"Item {items[0].seq} of session {session_id!r} is taken: another run wrote "
                f"to the session meanwhile. Run the turn again; it starts from the "
                f"conversation as it now is."
            )

    async def _session_truncate(self, session_id: str, from_seq: int) -> None:
        key = self._session_key(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            if from_seq <= 1:
                pipe.delete(key)
                pipe.zrem(f"{self._prefix}:sessions", session_id)
            else:
                pipe.ltrim(key, 0, from_seq - 2)
            await pipe.execute()

    async def list_sessions(self, limit: int = 100) -> builtins.list[SessionSummary]:
        """Sessions, most recently written first."""
        found: Any = await self._redis.zrevrange(
            f"{self._prefix}:sessions", 0, limit - 1, withscores=True
        )
        out: builtins.list[SessionSummary] = []
        for raw_id, score in found:  # (member, score) pairs
            session_id = _text(raw_id)
            key = self._session_key(session_id)
            count = await self._redis.llen(key)
            last = await self._redis.lindex(key, -1)
            if not count or last is None:
                continue
            out.append(
                SessionSummary(
                    session_id=session_id,
                    items=count,
                    turns=SessionItem.model_validate_json(last).turn,
                    updated_at=dt.datetime.fromtimestamp(float(score), dt.UTC),
                )
            )
        return out

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
