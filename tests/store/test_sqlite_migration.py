"""A SQLite file written by schema version 1 is migrated in place, runs and logs intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import gai
from gai.store import NewRun, SQLiteStore
from gai.store._migrations import MIGRATIONS, SQLITE_MIGRATIONS
from gai.store.records import RunSnapshot
from tests.store.conftest import log


def write_v1(path: Path) -> None:
    """Build a version-1 file the way gai 0.x wrote it: checkpoints keyed by run id."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE gai_meta (key TEXT PRIMARY KEY, value TEXT)")
    for sql in MIGRATIONS[0]:
        conn.execute(sql)
    conn.execute("INSERT INTO gai_meta VALUES ('schema_version', '1')")
    snapshot = RunSnapshot(messages=[gai.user("hi")]).model_dump_json()
    for n, run_id in enumerate(("old-b", "old-a")):
        conn.execute(
            "INSERT INTO gai_runs VALUES (?, 'running', 'm', ?, ?, ?, NULL, NULL)",
            (
                run_id,
                f"2026-01-0{n + 1}T00:00:00+00:00",
                f"2026-01-0{n + 1}T00:00:00+00:00",
                snapshot,
            ),
        )
        for seq in (1, 2):
            conn.execute(
                "INSERT INTO gai_checkpoints VALUES (?, ?, 'tools_started', 1, ?)",
                (run_id, seq, f'{{"call_ids": ["{run_id}-{seq}"]}}'),
            )
    conn.commit()
    conn.close()


async def test_a_version_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    write_v1(path)
    store = SQLiteStore(path)
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM gai_meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(len(SQLITE_MIGRATIONS)),)
        keys = conn.execute("SELECT run_id, run_key FROM gai_runs ORDER BY run_key").fetchall()
    assert keys == [("old-b", 1), ("old-a", 2)]  # keys follow creation order
    for run_id in ("old-a", "old-b"):
        record = await store.load_run(run_id)
        assert [c.seq for c in record.checkpoints] == [1, 2]
        assert record.pending is not None
        assert record.pending.started == [f"{run_id}-1", f"{run_id}-2"]
    # The migrated runs keep growing, and new runs get new keys.
    await store.write([log("old-a", 3, "tools_started", 2, {"call_ids": ["x"]})])
    assert [c.seq for c in (await store.load_run("old-a")).checkpoints] == [1, 2, 3]
    await store.write(
        [
            NewRun("new", "m", RunSnapshot(messages=[gai.user("hi")])),
            log("new", 1, "tools_started", 1, {"call_ids": ["y"]}),
        ]
    )
    assert [c.seq for c in (await store.load_run("new")).checkpoints] == [1]
    assert {s.run_id for s in await store.list_runs()} == {"old-a", "old-b", "new"}
    await store.delete_run("old-b")
    assert {s.run_id for s in await store.list_runs()} == {"old-a", "new"}
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM gai_checkpoints").fetchone() == (4,)
    await store.aclose()
    SQLiteStore(path)  # opening again migrates nothing
