"""Prompt search that stays fast on a big gallery.

Search is a case-insensitive substring match (`icontains`). Without an index that is a scan,
so each database gets a trigram index that can answer "contains" queries:

- PostgreSQL: a GIN `pg_trgm` index on `UPPER(prompt)`, the expression Django's `icontains`
  compares, so the planner uses it with no change to the query.
- SQLite: an FTS5 table with the trigram tokenizer, kept in step with the generations table
  by triggers. The query narrows to its matches first and still applies `icontains`, so the
  results are exactly those of a plain scan.

Both are optional: when the extension or FTS5 is missing, search falls back to the scan.
`install` is idempotent and runs after every `migrate` (a post_migrate handler), which also
repairs SQLite's triggers: SQLite drops them when a migration remakes the table.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

log = logging.getLogger("studio.search")

FTS_TABLE = "studio_generation_search"
PG_INDEX = "studio_generation_prompt_trgm"
MIN_TRIGRAM = 3  # shorter text cannot use a trigram index

_SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_ai": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON studio_generation BEGIN
        INSERT INTO {FTS_TABLE}(rowid, prompt) VALUES (new.id, new.prompt); END""",
    f"{FTS_TABLE}_ad": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON studio_generation BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt) VALUES ('delete', old.id, old.prompt); END""",
    f"{FTS_TABLE}_au": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF prompt ON studio_generation BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt) VALUES ('delete', old.id, old.prompt);
        INSERT INTO {FTS_TABLE}(rowid, prompt) VALUES (new.id, new.prompt); END""",
}

_fts_ready: dict[str, bool] = {}  # per database alias: does the SQLite FTS table exist?


def install(conn=connection) -> bool:
    """Create the trigram index for `conn`'s database if it can; True if search is indexed."""
    try:
        with transaction.atomic(using=conn.alias):
            if conn.vendor == "postgresql":
                return _install_postgresql(conn)
            if conn.vendor == "sqlite":
                return _install_sqlite(conn)
    except DatabaseError as exc:  # no pg_trgm / no FTS5: search still works, by scanning
        log.warning("prompt search index not created (%s); search will scan", exc)
    finally:
        _fts_ready.pop(conn.alias, None)
    return False


def _install_postgresql(conn) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
        if cursor.fetchone():
            return True
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON studio_generation USING gin (UPPER(prompt) gin_trgm_ops)")
    return True


def _install_sqlite(conn) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [f"{FTS_TABLE}_%"])
        present = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "prompt, content='studio_generation', content_rowid='id', tokenize='trigram')"
        )
        for sql in _SQLITE_TRIGGERS.values():
            cursor.execute(sql)
        if present != set(_SQLITE_TRIGGERS):  # new, or triggers lost to a table remake
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return True


def uninstall(conn=connection) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif conn.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    _fts_ready.pop(conn.alias, None)


def _sqlite_fts(conn) -> bool:
    if conn.alias not in _fts_ready:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
            _fts_ready[conn.alias] = cursor.fetchone() is not None
    return _fts_ready[conn.alias]


def prompt_contains(text: str, conn=connection) -> Q:
    """Generations whose prompt contains `text`, ignoring case, using the index where it helps."""
    cond = Q(prompt__icontains=text)
    if conn.vendor == "sqlite" and len(text) >= MIN_TRIGRAM and _sqlite_fts(conn):
        phrase = '"' + text.replace('"', '""') + '"'  # one FTS5 string: a substring, not syntax
        cond &= Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase]))
    return cond


def refresh_statistics(conn=connection) -> None:
    """Give SQLite's planner its row counts (PostgreSQL's autovacuum keeps its own). Without
    them SQLite walks the whole gallery index for a rare search term instead of starting
    from the search index's few matches. Runs hourly (schedule `studio-statistics`)."""
    if conn.vendor == "sqlite":
        with conn.cursor() as cursor:
            cursor.execute("ANALYZE")


def ensure_schedule() -> None:
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="studio-statistics",
        defaults={"func": "studio.search.refresh_statistics", "schedule_type": Schedule.HOURLY},
    )
