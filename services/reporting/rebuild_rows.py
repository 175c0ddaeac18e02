"""The rebuild's ``Rows``: what the projection's handlers write, kept as Python dicts instead of statements."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from services.reporting.rows import Rows, Version
from services.reporting.temporal import in_force_table


class MemoryRows(Rows):
    """The rebuild's ``Rows``: every table the handlers write through ``Rows`` kept as Python dicts.

    A row that can no longer change (any row of a log table, a closed version of a temporal one) goes to
    ``final``; an entity's current rows (and open in-force segments) stay in ``open`` until a later version closes
    them. Each entity's versions are kept as the fold of its segments needs them (``Version``; the live consumer
    reads them back from its table). What one event did is journalled, so that an event the live consumer would
    dead-letter can be taken back."""

    def __init__(self, columns: dict[str, list[str]]) -> None:
        self.columns = columns
        self.final: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.open: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
        self.counters: dict[str, dict[str, int]] = defaultdict(dict)
        self.touched: set[str] = set()
        self.pending = 0  # rows in final
        self._temporal = {table for table, names in columns.items() if "valid_to" in names}
        self._segments = {in_force_table(table) for table in self._temporal} & self._temporal
        self._versions: dict[str, dict[str, list[Version]]] = defaultdict(dict)
        self._journal: list[tuple[Any, ...]] = []
        # The ids of current rows by a column's value, for ``current_ids`` (built when first asked; an id whose row
        # was closed or changed since stays listed, so every match is checked against the row itself).
        self._indexes: dict[str, list[tuple[str, dict[Any, set[str]]]]] = {}

    def _complete(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row with every column of its table (as an INSERT leaves the others NULL)."""
        names = self.columns[table]
        unknown = set(row) - set(names)
        if unknown:
            raise ValueError(f"table {table} has no column(s) {', '.join(sorted(unknown))}")
        return {name: row.get(name) for name in names}

    def _insert(self, table: str, row: Mapping[str, Any]) -> None:
        self.touched.add(table)
        if len(row) != len(self.columns[table]) or not isinstance(row, dict):
            row = self._complete(table, row)
        if row.get("valid_to", True) is None and table in self._temporal:
            versions = self.open[table].setdefault(row["id"], [])
            if table in self._segments and versions and row["in_force_from"] < versions[-1]["in_force_from"]:
                # An entity's open segments stay in the order of their days (``_last_segment``).
                at = bisect_right([s["in_force_from"] for s in versions], row["in_force_from"])
                versions.insert(at, row)
                self._journal.append(("open at", table, row["id"], at))
                return
            versions.append(row)
            for column, index in self._indexes.get(table, ()):
                index.setdefault(row[column], set()).add(row["id"])
            self._journal.append(("open", table, row["id"]))
        else:
            self.final[table].append(row)
            self.pending += 1
            self._journal.append(("final", table))

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        for row in rows:
            self.insert(table, row)

    def current(self, table: str, entity_id: str) -> Mapping[str, Any] | None:
        self.touched.add(table)
        found = self.open[table].get(entity_id)
        return found[0] if found else None

    def current_ids(self, table: str, **equal: Any) -> list[str]:
        self.touched.add(table)
        entities = self.open[table]
        if not equal:
            return [row["id"] for versions in entities.values() for row in versions]
        column, value = next(iter(equal.items()))
        index = next((index for indexed, index in self._indexes.get(table, ()) if indexed == column), None)
        if index is None:
            index = {}
            for entity_id, versions in entities.items():
                for row in versions:
                    index.setdefault(row[column], set()).add(entity_id)
            self._indexes.setdefault(table, []).append((column, index))
        return [row["id"] for entity_id in sorted(index.get(value, ())) for row in entities.get(entity_id, ())
                if all(row[c] == v for c, v in equal.items())]

    def close(self, table: str, entity_id: str, at: str) -> None:
        self._close(table, entity_id, at)
        self._close(in_force_table(table), entity_id, at)

    def _close_version(self, table: str, entity_id: str, at: str) -> None:
        self._close(table, entity_id, at)

    def _keep(self, table: str, entity_id: str, change: Version) -> None:
        self._versions[table].setdefault(entity_id, []).append(change)
        self._journal.append(("version", table, entity_id))

    def _open_segments(self, segments: str, entity_id: str) -> Sequence[Mapping[str, Any]]:
        return list(self.open[segments].get(entity_id, ()))

    def _last_segment(self, segments: str, entity_id: str) -> Mapping[str, Any] | None:
        # An entity's open segments are kept in the order of their days (``_insert``; a roll-back puts a segment
        # back where it was).
        found = self.open[segments].get(entity_id)
        return found[-1] if found else None

    def _versions_of(self, table: str, entity_id: str) -> list[Version]:
        return self._versions[table].get(entity_id, [])

    def _close_segment(self, segments: str, entity_id: str, day: str, at: str) -> None:
        versions = self.open[segments][entity_id]
        index = next(i for i, row in enumerate(versions) if row["in_force_from"] == day)
        row = versions.pop(index)
        self.final[segments].append({**row, "valid_to": at})
        self.pending += 1
        self._journal.append(("segment", segments, entity_id, row, index))

    def _close(self, table: str, entity_id: str, at: str) -> list[dict[str, Any]]:
        self.touched.add(table)
        versions = self.open[table].pop(entity_id, None)
        if not versions:
            return []
        closed = [{**row, "valid_to": at} for row in versions]
        self.final[table].extend(closed)
        self.pending += len(closed)
        self._journal.append(("close", table, entity_id, versions, len(closed)))
        return closed

    def carry(self, table: str, columns: Sequence[str], entity_id: str, at: str, changes: Mapping[str, Any]) -> None:
        closed = self._close(table, entity_id, at)
        if closed:
            latest = closed[0] if len(closed) == 1 else max(closed, key=lambda row: row["version"])
            self._write(table, {**latest, **changes, "valid_to": None}, changes)

    def count(self, table: str, key: str) -> None:
        self.touched.add(table)
        counter = self.counters[table]
        counter[key] = counter.get(key, 0) + 1
        self._journal.append(("count", table, key))

    # -- one event at a time

    def commit(self) -> None:
        self._journal.clear()

    def roll_back(self) -> None:
        """Take back everything since the last commit, newest first."""
        for entry in reversed(self._journal):
            kind, table = entry[0], entry[1]
            if kind == "final":
                self.final[table].pop()
                self.pending -= 1
            elif kind == "open":
                versions = self.open[table][entry[2]]
                versions.pop()
                if not versions:
                    del self.open[table][entry[2]]
            elif kind == "open at":
                versions = self.open[table][entry[2]]
                del versions[entry[3]]
                if not versions:
                    del self.open[table][entry[2]]
            elif kind == "version":
                changes = self._versions[table][entry[2]]
                changes.pop()
                if not changes:
                    del self._versions[table][entry[2]]
            elif kind == "segment":
                self.final[table].pop()
                self.pending -= 1
                self.open[table].setdefault(entry[2], []).insert(entry[4], entry[3])
            elif kind == "close":
                del self.final[table][-entry[4]:]
                self.pending -= entry[4]
                self.open[table][entry[2]] = entry[3]
            else:
                counter = self.counters[table]
                counter[entry[2]] -= 1
                if not counter[entry[2]]:
                    del counter[entry[2]]
        self._journal.clear()

    def take_final(self) -> dict[str, list[dict[str, Any]]]:
        """The rows that can no longer change, handed over (between events: the journal is empty)."""
        taken, self.final = self.final, defaultdict(list)
        self.pending = 0
        return taken

    def take_rest(self) -> dict[str, list[Any]]:
        """Once the replay is done: every row not handed over yet (current rows, counters) by table."""
        rest: dict[str, list[Any]] = dict(self.take_final())
        for table, entities in self.open.items():
            rest.setdefault(table, []).extend(row for versions in entities.values() for row in versions)
        for table, counter in self.counters.items():
            rest[table] = [{"type": key, "n": n} for key, n in counter.items()]
        self.open, self.counters = defaultdict(dict), defaultdict(dict)
        return rest
