"""The delivery read model's questions, as of any time: projects and programmes, progress series, interventions,
overdue milestones, outcomes and milestones of a project; and the ``asOf`` lookup they all stand on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from services.reporting.delivery.tables import (
    INTERVENTIONS,
    MILESTONES,
    OUTCOMES,
    PROGRESS,
    PROJECTS,
    WITHDRAWALS,
)
from services.reporting.listing import Listing
from services.reporting.temporal import (
    When,
    as_of_clause,
    in_force_clause,
    in_force_day,
    in_force_table,
    recorded_moment,
    source,
    timestamp,
)
from shared.readstore import ReadStore

_OPEN_END = "9999-12-31T23:59:59.999999+00:00"
"""Later than any ``valid_to`` (the same text form), in any collation: an open row's end."""


def as_of_rows(table: str, as_of: When, where: str = "", params: Sequence[Any] = (),
           entities: str = "", entity_params: Sequence[Any] = (), columns: str = "r.*", *,
           postgres: bool = False) -> tuple[str, list[Any]]:
    """``SELECT r.* FROM table r ...``: each entity's row valid at ``as_of`` (its open row when None), ``where``
    (over ``r``) applied to it; ``entities`` (over ``e``, its open row) narrows the entities looked at first.

    Every entity of these tables has exactly one open row (a change closes a row and inserts the next at the same
    moment, so an entity's rows never overlap in time), so the entities are found through the open rows' index, and
    each one's row as of then through the ``(id, valid_from)`` index: the latest that became valid by then and is
    still valid then (of two rows that became valid at the same moment, the closed one is not). A plain
    ``valid_from <= t AND (valid_to IS NULL OR valid_to > t)`` reads every version of every entity up to then.

    On PostgreSQL (``postgres``) a lateral join reads that row in one backward index probe per entity; SQLite, which
    has no lateral join, matches it by its ``valid_from``, one probe more. The lateral's validity test is written
    with ``COALESCE``: spelt ``valid_to IS NULL OR valid_to > t``, the planner reads from the column statistics that
    at a late moment only open rows qualify, expects a long backward walk, and instead fetches and sorts every
    version of every entity (15x slower, with JIT compilation on top); it knows nothing about the expression, so it
    keeps the probe.

    On the in-force axis (an ``At``), each entity's latest version recorded by then and in force by the day
    (``temporal.in_force_clause``): from its open row, its segment recorded by then with the latest day on or before
    the day asked, one backward probe of ``(id, in_force_from)``."""
    day = in_force_day(as_of)
    if day is not None:
        return _in_force_rows(table, recorded_moment(as_of), day, where, params, entities, entity_params, columns,
                              postgres)
    as_of = recorded_moment(as_of)
    if as_of is None:
        clause = f"r.valid_to IS NULL{entities.replace('e.', 'r.')}{where}"
        return f"SELECT {columns} FROM {table} r WHERE {clause}", [*entity_params, *params]
    at = timestamp(as_of)
    if postgres:
        return (f"SELECT {columns} FROM {table} e CROSS JOIN LATERAL (SELECT * FROM {table} m WHERE m.id = e.id"
                f" AND m.valid_from <= ? AND COALESCE(m.valid_to, ?) > ? ORDER BY m.valid_from DESC LIMIT 1)"
                f" r WHERE e.valid_to IS NULL{entities}{where}", [at, _OPEN_END, at, *entity_params, *params])
    return (f"SELECT {columns} FROM {table} e JOIN {table} r ON r.id = e.id"
            f" AND r.valid_from = (SELECT MAX(m.valid_from) FROM {table} m WHERE m.id = e.id AND m.valid_from <= ?)"
            f" WHERE e.valid_to IS NULL{entities}"
            f" AND r.valid_from <= ? AND (r.valid_to IS NULL OR r.valid_to > ?){where}",
            [at, *entity_params, at, at, *params])


def _in_force_rows(table: str, as_of: datetime | None, day: date, where: str, params: Sequence[Any],
                   entities: str, entity_params: Sequence[Any], columns: str, postgres: bool) -> tuple[str, list[Any]]:
    """``as_of_rows`` on the in-force axis: per entity (its open row ``e``), its segment recorded at ``as_of`` (now
    when None) with the latest ``in_force_from`` on or before ``day`` (``temporal.in_force_clause``)."""
    segments = in_force_table(table)
    if as_of is None:
        recorded, recorded_params = "m.valid_to IS NULL", []
    else:
        at = timestamp(as_of)
        recorded, recorded_params = "m.valid_from <= ? AND COALESCE(m.valid_to, ?) > ?", [at, _OPEN_END, at]
    segment = f"m.id = e.id AND {recorded} AND m.in_force_from <= ?"
    segment_params = [*recorded_params, day.isoformat()]
    if postgres:
        return (f"SELECT {columns} FROM {table} e CROSS JOIN LATERAL (SELECT * FROM {segments} m WHERE {segment}"
                f" ORDER BY m.in_force_from DESC LIMIT 1) r WHERE e.valid_to IS NULL{entities}{where}",
                [*segment_params, *entity_params, *params])
    return (f"SELECT {columns} FROM {table} e JOIN {segments} r ON r.id = e.id AND {recorded.replace('m.', 'r.')}"
            f" AND r.in_force_from = (SELECT MAX(m.in_force_from) FROM {segments} m WHERE {segment})"
            f" WHERE e.valid_to IS NULL{entities}{where}",
            [*recorded_params, *segment_params, *entity_params, *params])


def _projects(postgres: bool, as_of: When, district: str | None, status: str | None) -> tuple[str, list[Any]]:
    where, params = "", []
    for column, value in (("district", district), ("status", status)):
        if value is not None:
            where += f" AND r.{column} = ?"
            params.append(value)
    # A project's district never changes (no event moves it), so its open row says which entities to look at.
    entities, entity_params = (" AND e.district = ?", [district]) if district is not None and as_of else ("", [])
    return as_of_rows(PROJECTS.name, as_of, where, params, entities, entity_params, postgres=postgres)


def projects(store: ReadStore, as_of: When = None, district: str | None = None,
             status: str | None = None) -> list[dict[str, Any]]:
    query, values = _projects(store.postgres, as_of, district, status)
    return store.query(f"{query} ORDER BY r.district, r.opened_at, r.id", values)


def projects_listing(postgres: bool, as_of: When = None, district: str | None = None, status: str | None = None,
                     rag: str | None = None) -> Listing:
    """``projects`` (with a RAG) as a list a page of which is read in the database."""
    query, values = _projects(postgres, as_of, district, status)
    where, params = ("rag = ?", [rag]) if rag is not None else ("1 = 1", [])
    return Listing(f"({query}) listed", where, (*values, *params), ("district", "opened_at", "id"))


def programmes(store: ReadStore, as_of: When = None,
               district: str | None = None) -> list[dict[str, Any]]:
    """Per district: how many projects, by status and by RAG (open projects), flagged, interventions."""
    summary: dict[str, dict[str, Any]] = {}
    for row in projects(store, as_of, district):
        entry = summary.setdefault(row["district"], {
            "district": row["district"], "programme_id": row["programme_id"], "projects": 0, "open": 0,
            "deferred": 0, "closed": 0, "green": 0, "amber": 0, "red": 0, "not_reported": 0, "flagged": 0,
            "interventions": 0})
        entry["projects"] += 1
        entry[row["status"]] += 1
        entry["interventions"] += row["interventions"]
        if row["flagged"]:
            entry["flagged"] += 1
        if row["status"] == "open":
            entry[row["rag"] or "not_reported"] += 1
    return [summary[d] for d in sorted(summary)]


def _standing(when: When) -> tuple[str, list[str]]:
    """The condition that a progress row ``p`` still stands at ``as_of`` (no withdrawal or correction of its date
    recorded after it, by then)."""
    as_of = recorded_moment(when)
    clause, params = ("", []) if as_of is None else (" AND w.recorded_at <= ?", [timestamp(as_of)])
    return (f" AND NOT EXISTS (SELECT 1 FROM {WITHDRAWALS.name} w WHERE w.project_id = p.project_id"
            f" AND w.reported_on = p.reported_on AND w.version > p.version{clause})", params)


def progress_series(store: ReadStore, project_id: str, when: When = None) -> list[dict[str, Any]]:
    """The project's reports that stand (at ``as_of``), by date (on the in-force axis: those dated by the day)."""
    as_of, day = recorded_moment(when), in_force_day(when)
    clause, params = ("", []) if as_of is None else (" AND p.recorded_at <= ?", [timestamp(as_of)])
    if day is not None:
        clause, params = clause + " AND p.reported_on <= ?", [*params, day.isoformat()]
    standing, standing_params = _standing(as_of)
    return store.query(f"SELECT p.* FROM {PROGRESS.name} p WHERE p.project_id = ?{clause}{standing}"
                       " ORDER BY p.reported_on, p.version", [project_id, *params, *standing_params])


def progress_withdrawals(store: ReadStore, project_id: str | None = None,
                         when: When = None) -> list[dict[str, Any]]:
    """The reports withdrawn or corrected as mistakes (of one project, or every one), recorded by ``as_of``."""
    as_of = recorded_moment(when)
    clause, params = "1 = 1", list[str]()
    if project_id is not None:
        clause, params = clause + " AND project_id = ?", [*params, project_id]
    if as_of is not None:
        clause, params = clause + " AND recorded_at <= ?", [*params, timestamp(as_of)]
    return store.query(f"SELECT * FROM {WITHDRAWALS.name} WHERE {clause} ORDER BY recorded_at, project_id, version",
                       params)


def interventions(store: ReadStore, when: When = None, district: str | None = None,
                  project_id: str | None = None) -> list[dict[str, Any]]:
    as_of = recorded_moment(when)
    clause, params = "1 = 1", []
    if as_of is not None:
        clause += " AND recorded_at <= ?"
        params.append(timestamp(as_of))
    for column, value in (("district", district), ("project_id", project_id)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    return store.query(f"SELECT * FROM {INTERVENTIONS.name} WHERE {clause} ORDER BY recorded_at, project_id",
                       params)


def overdue_milestones(store: ReadStore, on: date, as_of: When = None,
                       district: str | None = None) -> list[dict[str, Any]]:
    """Milestones due before ``on`` and not achieved, of projects that are open."""
    day = in_force_day(as_of)
    if day is not None:
        milestone_clause, params = in_force_clause(MILESTONES.name, recorded_moment(as_of), day, alias="m")
        project_clause, project_params = in_force_clause(PROJECTS.name, recorded_moment(as_of), day, alias="p")
    else:
        milestone_clause, params = as_of_clause(as_of)
        project_clause, project_params = as_of_clause(as_of)
        project_clause = project_clause.replace("valid_", "p.valid_")
        milestone_clause = milestone_clause.replace("valid_", "m.valid_")
    milestones_from, projects_from = source(MILESTONES.name, as_of, alias="m"), source(PROJECTS.name, as_of, alias="p")
    query = (
        f"SELECT m.*, p.title AS project_title, p.district, p.lead_partner FROM {milestones_from}"
        f" JOIN {projects_from} ON p.id = m.project_id"
        f" WHERE {milestone_clause} AND {project_clause} AND m.achieved_on IS NULL AND m.due_on < ?"
        " AND p.status = 'open'")
    values: list[Any] = [*params, *project_params, on.isoformat()]
    if district is not None:
        query += " AND p.district = ?"
        values.append(district)
    return store.query(query + " ORDER BY m.due_on, p.title", values)


def outcomes(store: ReadStore, project_id: str, as_of: When = None) -> list[dict[str, Any]]:
    # An outcome's project never changes, so its open row names the project it had at any time.
    query, values = as_of_rows(OUTCOMES.name, as_of, entities=" AND e.project_id = ?", entity_params=[project_id],
                           postgres=store.postgres)
    return store.query(f"{query} ORDER BY r.outcome_id", values)


def milestones(store: ReadStore, project_id: str, as_of: When = None) -> list[dict[str, Any]]:
    query, values = as_of_rows(MILESTONES.name, as_of, entities=" AND e.project_id = ?",
                           entity_params=[project_id], postgres=store.postgres)
    return store.query(f"{query} ORDER BY r.due_on", values)


def project(store: ReadStore, project_id: str, as_of: When = None) -> dict[str, Any] | None:
    query, values = as_of_rows(PROJECTS.name, as_of, entities=" AND e.id = ?", entity_params=[project_id],
                               postgres=store.postgres)
    rows = store.query(query, values)
    return rows[0] if rows else None


def outcomes_at(store: ReadStore, as_of: When) -> list[dict[str, Any]]:
    """Every outcome as it stood at ``as_of``."""
    clause, params = as_of_clause(as_of, table=OUTCOMES.name)
    return store.query(f"SELECT * FROM {source(OUTCOMES.name, as_of)} WHERE {clause}", params)


def progress_reports(store: ReadStore, when: When, up_to: date) -> list[dict[str, Any]]:
    """The progress reports recorded by ``as_of`` and dated up to ``up_to``, by reported date."""
    as_of = recorded_moment(when) or datetime.now(UTC)
    standing, params = _standing(as_of)
    return store.query(f"SELECT p.project_id, p.reported_on, p.actuals, p.parts FROM {PROGRESS.name} p"
                       " WHERE p.recorded_at <= ?"
                       f" AND p.reported_on <= ?{standing} ORDER BY p.reported_on, p.recorded_at",
                       [timestamp(as_of), up_to.isoformat(), *params])
