"""Versioned SQL schema shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

# MIGRATIONS[n] brings a schema at version n to version n + 1. JSON is stored as text
# in SQLite and as jsonb-compatible text in PostgreSQL (same statements work in both).
MIGRATIONS: list[list[str]] = [
    [
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
    ],
]
