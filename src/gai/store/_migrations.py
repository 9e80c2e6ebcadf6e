"""Versioned SQL schema shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SQLITE_MIGRATIONS"]

# MIGRATIONS[n] brings a schema at version n to version n + 1. JSON is stored as text
# in SQLite and as jsonb-compatible text in PostgreSQL (same statements work in both).
_V1 = [
    """CREATE TABLE IF NOT EXISTS gai_runs (
            run_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            result TEXT,
            error TEXT
        )""",
    "CREATE INDEX IF NOT EXISTS gai_runs_status ON gai_runs (status, created_at)",
    """CREATE TABLE IF NOT EXISTS gai_checkpoints (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            step_number INTEGER NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        )""",
    """CREATE TABLE IF NOT EXISTS gai_state (
            key TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
]

_SESSIONS = [
    # gai.Session's conversations: an append-only log per session (see SessionItem).
    """CREATE TABLE IF NOT EXISTS gai_session_items (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        turn INTEGER NOT NULL,
        kind TEXT NOT NULL,
        run_id TEXT,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
]

_CREATED_INDEX = [
    # `list_runs` pages newest first by (created_at, run_id): `gai ui` on 100,000 runs.
    "CREATE INDEX IF NOT EXISTS gai_runs_created ON gai_runs (created_at, run_id)",
]

MIGRATIONS: list[list[str]] = [_V1, _SESSIONS, _CREATED_INDEX]
"""PostgreSQL's schema history."""

SQLITE_MIGRATIONS: list[list[str]] = [
    _V1,
    # v2: checkpoints keyed by an integer run key instead of the run id. Concurrent runs
    # insert all over the checkpoint index; integer keys make it a fifth of the size, so
    # each group commit writes fewer pages. SQLite cannot change a primary key in place:
    # the tables are rebuilt (runs keep their order, so keys follow creation). Runs also
    # get `derived_messages`: 1 when the result was kept without its conversation.
    [
        """CREATE TABLE gai_runs_v2 (
            run_key INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            result TEXT,
            error TEXT,
            derived_messages INTEGER NOT NULL DEFAULT 0
        )""",
        "INSERT INTO gai_runs_v2 (run_id, status, model, created_at, updated_at, snapshot,"
        " result, error) SELECT run_id, status, model, created_at, updated_at, snapshot,"
        " result, error FROM gai_runs ORDER BY created_at, rowid",
        """CREATE TABLE gai_checkpoints_v2 (
            run_key INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            step_number INTEGER NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (run_key, seq)
        )""",
        "INSERT INTO gai_checkpoints_v2 (run_key, seq, kind, step_number, payload)"
        " SELECT r.run_key, c.seq, c.kind, c.step_number, c.payload"
        " FROM gai_checkpoints c JOIN gai_runs_v2 r ON r.run_id = c.run_id",
        "DROP TABLE gai_checkpoints",
        "DROP TABLE gai_runs",
        "ALTER TABLE gai_runs_v2 RENAME TO gai_runs",
        "ALTER TABLE gai_checkpoints_v2 RENAME TO gai_checkpoints",
        "CREATE INDEX IF NOT EXISTS gai_runs_status ON gai_runs (status, created_at)",
    ],
    _SESSIONS,
    _CREATED_INDEX,
]
"""The SQLite schema's history: the shared one, then SQLite's own steps."""
