"""Compare two reporting stores (the live one and a rebuilt one), every read-model table row for row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.reporting.projections import every_ddl
from shared.readstore import ReadStore

CONSUMER = "reporting"  # the live consumer's name: its seen_events rows are compared


@dataclass
class TableDifference:
    table: str
    only_live: int
    only_rebuilt: int
    examples: list[str]


def compare(live: ReadStore, rebuilt: ReadStore, *, examples: int = 3) -> list[TableDifference]:
    """Every read-model table, row for row (as multisets): what only one of the two stores holds."""
    tables = [*_table_names(every_ddl()), "seen_events"]
    differences = []
    for table in tables:
        rows = {}
        for side, store in (("live", live), ("rebuilt", rebuilt)):
            found = store.query_stored(f"SELECT * FROM {table}")
            if table == "seen_events":
                found = [r for r in found if r["consumer"] == CONSUMER]
            rows[side] = Counter(tuple(sorted(r.items())) for r in found)
        only_live, only_rebuilt = rows["live"] - rows["rebuilt"], rows["rebuilt"] - rows["live"]
        if only_live or only_rebuilt:
            shown = [f"only live: {dict(r)}" for r in list(only_live)[:examples]]
            shown += [f"only rebuilt: {dict(r)}" for r in list(only_rebuilt)[:examples]]
            differences.append(TableDifference(table, sum(only_live.values()), sum(only_rebuilt.values()), shown))
    return differences


def _table_names(ddl: Sequence[str]) -> list[str]:
    names = []
    for statement in ddl:
        words = statement.split()
        if words[:2] == ["CREATE", "TABLE"]:
            names.append(words[5] if words[2:5] == ["IF", "NOT", "EXISTS"] else words[2])
    return [n.split("(")[0] for n in names]
