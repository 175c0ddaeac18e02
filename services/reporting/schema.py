"""The reporting store's record of the DDL it was made with, one fingerprint per table.

Read-model DDL is ``CREATE ... IF NOT EXISTS``: run against a store made by an earlier release, it leaves the old
tables as they were, and the first handler that writes a new column fails far from the cause. So a store records
the fingerprint of each table's statements when it is made (or rebuilt), and a process that finds them differ
refuses to start, naming the tables and the command that rebuilds the store from the topics.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

from shared.readstore import ReadStore, Tx, schema_setup

SCHEMA_DDL = "CREATE TABLE IF NOT EXISTS read_model_schema (part TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)"

_TABLE = re.compile(r"^CREATE (?:UNIQUE )?(?:TABLE|INDEX) IF NOT EXISTS (\w+)(?: ON (\w+))?")


class ReadStoreOutdated(RuntimeError):
    """The store's tables were made by other DDL than this code declares."""


def fingerprints(ddl: Sequence[str]) -> dict[str, str]:
    """Per table, a digest of the statements that make it and its indexes."""
    by_table: dict[str, list[str]] = defaultdict(list)
    for statement in ddl:
        found = _TABLE.match(statement)
        if found is None:
            raise ValueError(f"not a read-model DDL statement: {statement[:60]}")
        by_table[found.group(2) or found.group(1)].append(" ".join(statement.split()))
    return {table: hashlib.sha256("\n".join(statements).encode()).hexdigest()
            for table, statements in sorted(by_table.items())}


def record(tx: Tx, ddl: Sequence[str]) -> None:
    """Record the DDL the store's tables were just made with (``SCHEMA_DDL`` exists)."""
    tx.execute("DELETE FROM read_model_schema")
    tx.executemany("INSERT INTO read_model_schema (part, fingerprint) VALUES (?, ?)",
                   list(fingerprints(ddl).items()))


def _has_table(tx: Tx, store: ReadStore, table: str) -> bool:
    if store.postgres:  # the transaction's search_path is the store's schema
        return bool(tx.query("SELECT to_regclass(?) IS NOT NULL AS found", [table])[0]["found"])
    return bool(tx.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [table]))


def migrate(store: ReadStore, ddl: Sequence[str]) -> None:
    """Make the store's tables from ``ddl``, or check that it was made from the same; ReadStoreOutdated if not.

    Under the store's setup lock: a service's processes start together, and one of them makes the tables."""
    wanted = fingerprints(ddl)
    with schema_setup(store.settings, store.name), store.transaction() as tx:
        if _has_table(tx, store, "event_log"):
            recorded = ({row["part"]: row["fingerprint"] for row in tx.query("SELECT * FROM read_model_schema")}
                        if _has_table(tx, store, "read_model_schema") else {})
            changed = sorted(t for t in wanted.keys() | recorded.keys() if wanted.get(t) != recorded.get(t))
            if changed:
                which = (f"its tables {', '.join(changed)} differ from this code's" if recorded else
                         "it records no fingerprint of its tables (it was made before they were recorded)")
                raise ReadStoreOutdated(
                    f"The reporting store '{store.name}' was made by another release: {which}. Rebuild it from "
                    f"the topics before starting: `partnership readmodel rebuild --into {store.name}`.")
            return
        for statement in [*ddl, SCHEMA_DDL]:
            tx.execute(statement)
        record(tx, ddl)
