"""The strategy read model's questions, as of any time (and in force on any day: an ``At``): objectives and their
tree, targets, district chapters and priorities, evidence, SCS reviews."""

from __future__ import annotations

import json
from typing import Any

from services.reporting.listing import Listing
from services.reporting.strategy.tables import (
    DISTRICT_CHAPTERS,
    DISTRICT_PRIORITIES,
    EVIDENCE,
    OBJECTIVES,
    SCS_REVIEWS,
    TARGETS,
)
from services.reporting.temporal import When, as_of_clause, source
from shared.readstore import ReadStore


def listing(table: str, as_of: When, **equal: Any) -> Listing:
    """The rows of ``table`` at ``as_of`` whose columns equal the values given (None: any; "NULL": none), in the
    order lists show them (added, then id)."""
    clause, params = as_of_clause(as_of, table=table)
    for column, value in equal.items():
        if value is None:
            continue
        if value == "NULL":
            clause += f" AND {column} IS NULL"
        else:
            clause += f" AND {column} = ?"
            params.append(value)
    return Listing(source(table, as_of), clause, tuple(params), ("added_at", "id"))


def _rows(store: ReadStore, table: str, as_of: When, **equal: Any) -> list[dict[str, Any]]:
    found = listing(table, as_of, **equal)
    return store.query(f"SELECT * FROM {found.source} WHERE {found.where} ORDER BY {', '.join(found.key)}",
                       found.params)


def objectives_listing(as_of: When = None, level: str | None = None) -> Listing:
    return listing(OBJECTIVES.name, as_of, level=level)


def objectives(store: ReadStore, as_of: When = None, level: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, OBJECTIVES.name, as_of, level=level)


def objective(store: ReadStore, objective_id: str, as_of: When = None) -> dict[str, Any] | None:
    rows = _rows(store, OBJECTIVES.name, as_of, id=objective_id)
    return rows[0] if rows else None


def objective_children(store: ReadStore, parent_id: str | None, as_of: When = None
                       ) -> list[dict[str, Any]]:
    return _rows(store, OBJECTIVES.name, as_of, parent_id="NULL" if parent_id is None else parent_id)


def targets_listing(as_of: When = None, objective_id: str | None = None, status: str | None = None) -> Listing:
    return listing(TARGETS.name, as_of, objective_id=objective_id, status=status)


def targets(store: ReadStore, as_of: When = None, objective_id: str | None = None,
            status: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, TARGETS.name, as_of, objective_id=objective_id, status=status)


def target(store: ReadStore, target_id: str, as_of: When = None) -> dict[str, Any] | None:
    rows = _rows(store, TARGETS.name, as_of, id=target_id)
    return rows[0] if rows else None


def district_priorities_listing(as_of: When = None, district: str | None = None, status: str | None = None,
                                objective_id: str | None = None) -> Listing:
    return listing(DISTRICT_PRIORITIES.name, as_of, district=district, status=status, objective_id=objective_id)


def district_priorities(store: ReadStore, as_of: When = None, district: str | None = None,
                        status: str | None = None, objective_id: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, DISTRICT_PRIORITIES.name, as_of, district=district, status=status, objective_id=objective_id)


def district_chapters(store: ReadStore, as_of: When = None, district: str | None = None
                      ) -> list[dict[str, Any]]:
    return _rows(store, DISTRICT_CHAPTERS.name, as_of, district=district)


def evidence(store: ReadStore, as_of: When = None, district: str | None = None,
             status: str | None = None, objective_id: str | None = None,
             priority_id: str | None = None) -> list[dict[str, Any]]:
    rows = _rows(store, EVIDENCE.name, as_of, district=district, status=status)
    if objective_id is not None:
        rows = [r for r in rows if objective_id in json.loads(r["objective_ids"])]
    if priority_id is not None:
        rows = [r for r in rows if priority_id in json.loads(r["priority_ids"])]
    return rows


def scs_reviews(store: ReadStore, as_of: When = None) -> list[dict[str, Any]]:
    return _rows(store, SCS_REVIEWS.name, as_of)


def _grouped(store: ReadStore, table: str, column: str, keys: list[tuple[Any, ...]]) -> list[list[dict[str, Any]]]:
    """Rows of ``table`` whose ``column`` is the first part of each key ``(value, as_of, status?)``: one query per
    distinct (as_of, status) among the keys, so a nested field costs one query per level, not one per parent."""
    found: dict[tuple[Any, ...], list[dict[str, Any]]] = {key: [] for key in keys}
    variants: dict[tuple[Any, ...], set[Any]] = {}
    for key in keys:
        variants.setdefault(key[1:], set()).add(key[0])
    for variant, values in variants.items():
        clause, params = as_of_clause(variant[0], table=table)
        if len(variant) > 1 and variant[1] is not None:
            clause += " AND status = ?"
            params.append(variant[1])
        marks = ", ".join("?" for _ in values)
        rows_from = source(table, variant[0])
        rows = store.query(f"SELECT * FROM {rows_from} WHERE {clause} AND {column} IN ({marks}) ORDER BY added_at, id",
                           [*params, *values])
        for row in rows:
            found[(row[column], *variant)].append(row)
    return [found[key] for key in keys]


def children_of(store: ReadStore, keys: list[tuple[str, When]]) -> list[list[dict[str, Any]]]:
    """For each (objective id, as of): the objectives directly under it (a dataloader's batch)."""
    return _grouped(store, OBJECTIVES.name, "parent_id", list(keys))


def targets_of(store: ReadStore, keys: list[tuple[str, When, str | None]]) -> list[list[dict[str, Any]]]:
    """For each (objective id, as of, status): its targets (a dataloader's batch)."""
    return _grouped(store, TARGETS.name, "objective_id", list(keys))


def priorities_of(store: ReadStore, keys: list[tuple[str, When, str | None]]
                  ) -> list[list[dict[str, Any]]]:
    """For each (district, as of, status): its priorities (a dataloader's batch)."""
    return _grouped(store, DISTRICT_PRIORITIES.name, "district", list(keys))
