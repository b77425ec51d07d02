"""Plain numbered migrations: `migrations/<dialect>/NNNN_name.sql`, applied in order, once.

Each file runs in its own transaction together with the row recording it in
`schema_version`, so a database is always at exactly one version. Files are read with
importlib.resources, so they also work from a wheel.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_\w+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: str) -> list[Migration]:
    """The migrations of `dialect` ("sqlite", ...), by version."""
    folder = resources.files("podium.store").joinpath("migrations", dialect)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{dialect} migrations must be numbered 1..n without gaps, not {versions}")
    return found


def statements(sql: str) -> list[str]:
    """Split a script into statements, respecting semicolons inside strings and triggers."""
    out: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip() and not _only_comments(pending):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")
    return [statement for statement in out if not _only_comments(statement)]


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema; returns its version. `conn` must be in autocommit mode.

    Several processes may open a new file at once: the version is read again under the write
    lock (BEGIN IMMEDIATE), so each migration is applied by exactly one of them.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version"
        " (version INTEGER NOT NULL PRIMARY KEY, applied_ms BIGINT NOT NULL)"
    )
    current = 0
    for migration in migrations("sqlite"):
        conn.execute("BEGIN IMMEDIATE")
        try:
            (current,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            if current >= migration.version:
                conn.execute("COMMIT")
                continue
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)",
                (migration.version, int(time.time() * 1000)),
            )
            conn.execute("COMMIT")
            current = migration.version
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current
