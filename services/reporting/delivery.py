"""Delivery read models (from ``projects.events``, with the targets and taskings they roll up to), as of any time.

Programmes per district with RAG counts, projects by status, progress series, interventions, overdue milestones,
and the roll-up: each outcome credits ``weight x (actual - baseline)`` to its tasking while its contribution
counts; a tasking's actual is the sum of its credits, a target's actual the sum over its live taskings.

The module keeps its own narrow copies of targets and taskings (``delivery_targets``, ``delivery_taskings``) so that
the roll-up depends on event contracts only, not on other reporting modules' tables.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.graphql_common import IsAuthenticated, read_model
from services.reporting.readmodel import Handlers, Rows, as_of_clause, decision_json, rows, sorted_json, timestamp
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import TargetRetired, TargetRevised, TargetSet
from shared.contracts.projects import (
    ContributionClosed,
    ContributionRepointed,
    InterventionRecorded,
    MilestoneAchieved,
    MilestoneAdded,
    ProgressReported,
    ProjectClosed,
    ProjectDeferred,
    ProjectOpened,
    ProjectResumed,
    RagOverridden,
    ResourcesCommitted,
)
from shared.contracts.tasking import (
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

_TEMPORAL = "valid_from TEXT NOT NULL, valid_to TEXT, PRIMARY KEY (id, version))"

DDL = [
    "CREATE TABLE IF NOT EXISTS delivery_targets (id TEXT NOT NULL, version INTEGER NOT NULL, metric TEXT NOT NULL,"
    " unit TEXT NOT NULL, target_value TEXT NOT NULL, deadline TEXT NOT NULL, status TEXT NOT NULL, " + _TEMPORAL,
    "CREATE TABLE IF NOT EXISTS delivery_taskings (id TEXT NOT NULL, version INTEGER NOT NULL,"
    " target_id TEXT NOT NULL, district TEXT NOT NULL, lead_partner TEXT NOT NULL, share TEXT NOT NULL,"
    " unit TEXT NOT NULL, deadline TEXT NOT NULL, status TEXT NOT NULL, " + _TEMPORAL,
    "CREATE TABLE IF NOT EXISTS delivery_projects (id TEXT NOT NULL, version INTEGER NOT NULL,"
    " programme_id TEXT NOT NULL, district TEXT NOT NULL, title TEXT NOT NULL, lead_partner TEXT NOT NULL,"
    " project_manager TEXT NOT NULL, status TEXT NOT NULL, rag TEXT, derived_rag TEXT, rag_override_reason TEXT,"
    " direction TEXT, shortfall_percent TEXT, last_reported_on TEXT, flagged TEXT, interventions INTEGER NOT NULL,"
    " committed_gbp TEXT NOT NULL, committed_staff_days TEXT NOT NULL, outcome_achieved TEXT, lessons TEXT,"
    " opened_at TEXT NOT NULL, " + _TEMPORAL,
    "CREATE INDEX IF NOT EXISTS delivery_projects_current ON delivery_projects (valid_to, district)",
    "CREATE TABLE IF NOT EXISTS delivery_outcomes (id TEXT NOT NULL, version INTEGER NOT NULL,"
    " project_id TEXT NOT NULL, outcome_id TEXT NOT NULL, tasking_id TEXT NOT NULL, metric TEXT NOT NULL,"
    " unit TEXT NOT NULL, baseline_value TEXT NOT NULL, baseline_date TEXT NOT NULL, target_value TEXT NOT NULL,"
    " target_date TEXT NOT NULL, weight TEXT NOT NULL, actual TEXT, counting INTEGER NOT NULL, " + _TEMPORAL,
    "CREATE INDEX IF NOT EXISTS delivery_outcomes_tasking ON delivery_outcomes (tasking_id, valid_to)",
    "CREATE INDEX IF NOT EXISTS delivery_outcomes_project ON delivery_outcomes (project_id) WHERE valid_to IS NULL",
    "CREATE TABLE IF NOT EXISTS delivery_milestones (id TEXT NOT NULL, version INTEGER NOT NULL,"
    " project_id TEXT NOT NULL, milestone_id TEXT NOT NULL, title TEXT NOT NULL, due_on TEXT NOT NULL,"
    " achieved_on TEXT, " + _TEMPORAL,
    "CREATE TABLE IF NOT EXISTS delivery_progress (project_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " reported_on TEXT NOT NULL, reported_values TEXT NOT NULL, actuals TEXT NOT NULL, narrative TEXT NOT NULL,"
    " rag TEXT NOT NULL, direction TEXT, shortfall_percent TEXT NOT NULL, correction INTEGER NOT NULL,"
    " correction_reason TEXT, reported_by TEXT NOT NULL, reported_by_organisation TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL, PRIMARY KEY (project_id, version))",
    "CREATE TABLE IF NOT EXISTS delivery_interventions (project_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " district TEXT NOT NULL, kind TEXT NOT NULL, description TEXT NOT NULL, triggers TEXT NOT NULL,"
    " decision TEXT, actor TEXT NOT NULL, actor_organisation TEXT NOT NULL, recorded_at TEXT NOT NULL,"
    " PRIMARY KEY (project_id, version))",
    # An entity's row as of any moment in one index probe (see ``_as_of``), however many versions it has.
    *(f"CREATE INDEX IF NOT EXISTS {table}_as_of ON {table} (id, valid_from)" for table in (
        "delivery_targets", "delivery_taskings", "delivery_projects", "delivery_outcomes", "delivery_milestones")),
]


# -- writing --------------------------------------------------------------------------------------------------------


def _revise(into: Rows, table: str, entity_id: str, envelope: Envelope, current: Mapping[str, Any] | None = None,
            **changes: Any) -> dict[str, Any] | None:
    """Close the entity's current row and insert its next version with ``changes`` (nothing if it is unknown).
    ``current``: its open row, when the caller has just read it."""
    if current is None:
        current = into.current(table, entity_id)
        if current is None:
            return None
    at = timestamp(envelope.time)
    into.close(table, entity_id, at)
    # An outcome's or milestone's row takes the version of the project event that changed it.
    row = {**current, **changes, "version": envelope.sequence, "valid_from": at, "valid_to": None}
    into.insert(table, row)
    return row


_OUTCOME_COLUMNS = ("id", "version", "project_id", "outcome_id", "tasking_id", "metric", "unit", "baseline_value",
                    "baseline_date", "target_value", "target_date", "weight", "actual", "counting", "valid_from",
                    "valid_to")


def _revise_outcome(into: Rows, outcome_id: str, envelope: Envelope, **changes: Any) -> None:
    """``_revise`` of an outcome without reading it first (nothing if the outcome is unknown)."""
    at = timestamp(envelope.time)
    into.carry("delivery_outcomes", _OUTCOME_COLUMNS, outcome_id, at,
               {**changes, "version": envelope.sequence, "valid_from": at})


def _target_set(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TargetSet | TargetRevised)
    into, at = rows(tx), timestamp(envelope.time)
    into.close("delivery_targets", envelope.subject, at)
    into.insert("delivery_targets", {
        "id": envelope.subject, "version": envelope.sequence, "metric": fact.metric, "unit": fact.unit,
        "target_value": str(fact.target_value), "deadline": fact.deadline.isoformat(), "status": "current",
        "valid_from": at, "valid_to": None})


def _target_retired(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    _revise(rows(tx), "delivery_targets", envelope.subject, envelope, status="retired")


def _tasking_issued(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingIssued)
    rows(tx).insert("delivery_taskings", {
        "id": envelope.subject, "version": envelope.sequence, "target_id": str(fact.target_id),
        "district": fact.district, "lead_partner": fact.lead_partner, "share": str(fact.share), "unit": fact.unit,
        "deadline": fact.deadline.isoformat(), "status": "issued", "valid_from": timestamp(envelope.time),
        "valid_to": None})


def _tasking_status(status: str) -> Any:
    def handle(tx: Tx, envelope: Envelope, fact: Fact) -> None:
        _revise(rows(tx), "delivery_taskings", envelope.subject, envelope, status=status)

    return handle


def _tasking_retasked(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, TaskingRetasked)
    _revise(rows(tx), "delivery_taskings", envelope.subject, envelope, district=fact.district,
            lead_partner=fact.lead_partner, share=str(fact.share), deadline=fact.deadline.isoformat())


def _project_opened(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ProjectOpened)
    into, at = rows(tx), timestamp(envelope.time)
    into.insert("delivery_projects", {
        "id": envelope.subject, "version": envelope.sequence, "programme_id": str(fact.programme_id),
        "district": fact.district, "title": fact.title, "lead_partner": fact.lead_partner,
        "project_manager": fact.project_manager, "status": "open", "rag": None, "derived_rag": None,
        "rag_override_reason": None, "direction": None, "shortfall_percent": None, "last_reported_on": None,
        "flagged": None, "interventions": 0,
        "committed_gbp": str(sum((r.money_gbp for r in fact.resources), Decimal(0))),
        "committed_staff_days": str(sum((r.staff_days for r in fact.resources), Decimal(0))),
        "outcome_achieved": None, "lessons": None, "opened_at": at, "valid_from": at, "valid_to": None})
    for outcome in fact.outcomes:
        into.insert("delivery_outcomes", {
            "id": f"{envelope.subject}:{outcome.id}", "version": envelope.sequence, "project_id": envelope.subject,
            "outcome_id": outcome.id, "tasking_id": str(outcome.tasking_id), "metric": outcome.metric,
            "unit": outcome.unit, "baseline_value": str(outcome.baseline_value),
            "baseline_date": outcome.baseline_date.isoformat(), "target_value": str(outcome.target_value),
            "target_date": outcome.target_date.isoformat(), "weight": str(outcome.weight), "actual": None,
            "counting": 1, "valid_from": at, "valid_to": None})
    for milestone in fact.milestones:
        _milestone_row(into, envelope, milestone.id, milestone.title, milestone.due_on)


def _milestone_row(into: Rows, envelope: Envelope, milestone_id: str, title: str, due_on: date) -> None:
    into.insert("delivery_milestones", {
        "id": f"{envelope.subject}:{milestone_id}", "version": envelope.sequence, "project_id": envelope.subject,
        "milestone_id": milestone_id, "title": title, "due_on": due_on.isoformat(), "achieved_on": None,
        "valid_from": timestamp(envelope.time), "valid_to": None})


def _progress_reported(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ProgressReported)
    into = rows(tx)
    reported_on = fact.reported_on.isoformat()
    direction = fact.direction.value if fact.direction else None
    into.insert("delivery_progress", {
        "project_id": envelope.subject, "version": envelope.sequence, "reported_on": reported_on,
        "reported_values": sorted_json({v.outcome_id: str(v.value) for v in fact.values}),
        "actuals": sorted_json({v.outcome_id: str(v.value) for v in fact.actuals}),
        "narrative": fact.narrative, "rag": fact.rag.value, "direction": direction,
        "shortfall_percent": str(fact.shortfall_percent), "correction": int(fact.correction),
        "correction_reason": fact.correction_reason, "reported_by": fact.actor.user_id,
        "reported_by_organisation": fact.actor.organisation, "recorded_at": timestamp(envelope.time)})
    project = into.current("delivery_projects", envelope.subject)
    if project is None:
        return
    last = project["last_reported_on"]
    if last is not None and reported_on < last:
        # A correction of an earlier report: the latest report still stands; any manual RAG has expired.
        _revise(into, "delivery_projects", envelope.subject, envelope, project, rag=project["derived_rag"],
                rag_override_reason=None)
        return
    _revise(into, "delivery_projects", envelope.subject, envelope, project, rag=fact.rag.value,
            derived_rag=fact.rag.value, rag_override_reason=None, direction=direction,
            shortfall_percent=str(fact.shortfall_percent), last_reported_on=reported_on)
    for value in fact.actuals:
        _revise_outcome(into, f"{envelope.subject}:{value.outcome_id}", envelope, actual=str(value.value))


def _rag_overridden(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, RagOverridden)
    _revise(rows(tx), "delivery_projects", envelope.subject, envelope, rag=fact.rag.value,
            rag_override_reason=fact.reason)


def _milestone_added(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, MilestoneAdded)
    into = rows(tx)
    _milestone_row(into, envelope, fact.milestone.id, fact.milestone.title, fact.milestone.due_on)
    _revise(into, "delivery_projects", envelope.subject, envelope)


def _milestone_achieved(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, MilestoneAchieved)
    into = rows(tx)
    _revise(into, "delivery_milestones", f"{envelope.subject}:{fact.milestone_id}", envelope,
            achieved_on=fact.achieved_on.isoformat())
    _revise(into, "delivery_projects", envelope.subject, envelope)


def _resources_committed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ResourcesCommitted)
    into = rows(tx)
    project = into.current("delivery_projects", envelope.subject)
    if project is not None:
        _revise(into, "delivery_projects", envelope.subject, envelope, project,
                committed_gbp=str(Decimal(project["committed_gbp"]) + fact.commitment.money_gbp),
                committed_staff_days=str(Decimal(project["committed_staff_days"]) + fact.commitment.staff_days))


def _intervention_recorded(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, InterventionRecorded)
    into = rows(tx)
    current = into.current("delivery_projects", envelope.subject)
    project = _revise(into, "delivery_projects", envelope.subject, envelope, current, flagged=None,
                      interventions=current["interventions"] + 1) if current is not None else None
    into.insert("delivery_interventions", {
        "project_id": envelope.subject, "version": envelope.sequence,
        "district": project["district"] if project else "", "kind": fact.kind.value,
        "description": fact.description, "triggers": json.dumps(list(fact.triggers)),
        "decision": decision_json(fact), "actor": fact.actor.user_id, "actor_organisation": fact.actor.organisation,
        "recorded_at": timestamp(envelope.time)})


def _project_status(status: str) -> Any:
    def handle(tx: Tx, envelope: Envelope, fact: Fact) -> None:
        changes: dict[str, Any] = {"status": status}
        if isinstance(fact, ProjectClosed):
            changes |= {"outcome_achieved": fact.outcome_achieved, "lessons": fact.lessons}
        _revise(rows(tx), "delivery_projects", envelope.subject, envelope, **changes)

    return handle


def _contribution_repointed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ContributionRepointed)
    into = rows(tx)
    for outcome_id in into.current_ids("delivery_outcomes", project_id=envelope.subject,
                                       tasking_id=str(fact.from_tasking_id)):
        _revise_outcome(into, outcome_id, envelope, tasking_id=str(fact.to_tasking_id), counting=1)
    _revise(into, "delivery_projects", envelope.subject, envelope,
            flagged=fact.reason if fact.upstream_version is not None else None)


def _contribution_closed(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    assert isinstance(fact, ContributionClosed)
    into = rows(tx)
    for outcome_id in into.current_ids("delivery_outcomes", project_id=envelope.subject,
                                       tasking_id=str(fact.tasking_id)):
        _revise_outcome(into, outcome_id, envelope, counting=0)
    _revise(into, "delivery_projects", envelope.subject, envelope, flagged=fact.reason)


HANDLERS: Handlers = {
    contract_type(TargetSet): _target_set,
    contract_type(TargetRevised): _target_set,
    contract_type(TargetRetired): _target_retired,
    contract_type(TaskingIssued): _tasking_issued,
    contract_type(TaskingAccepted): _tasking_status("accepted"),
    contract_type(TaskingDeliveryStarted): _tasking_status("in_delivery"),
    contract_type(TaskingDeclined): _tasking_status("declined"),
    contract_type(TaskingWithdrawn): _tasking_status("withdrawn"),
    contract_type(TaskingCompleted): _tasking_status("completed"),
    contract_type(TaskingRetasked): _tasking_retasked,
    contract_type(ProjectOpened): _project_opened,
    contract_type(ProgressReported): _progress_reported,
    contract_type(RagOverridden): _rag_overridden,
    contract_type(MilestoneAdded): _milestone_added,
    contract_type(MilestoneAchieved): _milestone_achieved,
    contract_type(ResourcesCommitted): _resources_committed,
    contract_type(InterventionRecorded): _intervention_recorded,
    contract_type(ProjectDeferred): _project_status("deferred"),
    contract_type(ProjectResumed): _project_status("open"),
    contract_type(ProjectClosed): _project_status("closed"),
    contract_type(ContributionRepointed): _contribution_repointed,
    contract_type(ContributionClosed): _contribution_closed,
}


# -- queries --------------------------------------------------------------------------------------------------------

LIVE_TASKING_STATUSES = ("issued", "accepted", "in_delivery", "completed")
"""Taskings whose share still counts towards the target (declined and withdrawn ones do not)."""


_OPEN_END = "9999-12-31T23:59:59.999999+00:00"
"""Later than any ``valid_to`` (the same text form), in any collation: an open row's end."""


def _as_of(table: str, as_of: datetime | None, where: str = "", params: Sequence[Any] = (),
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
    keeps the probe."""
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


def projects(store: ReadStore, as_of: datetime | None = None, district: str | None = None,
             status: str | None = None) -> list[dict[str, Any]]:
    where, params = "", []
    for column, value in (("district", district), ("status", status)):
        if value is not None:
            where += f" AND r.{column} = ?"
            params.append(value)
    # A project's district never changes (no event moves it), so its open row says which entities to look at.
    entities, entity_params = (" AND e.district = ?", [district]) if district is not None and as_of else ("", [])
    query, values = _as_of("delivery_projects", as_of, where, params, entities, entity_params, postgres=store.postgres)
    return store.query(f"{query} ORDER BY r.district, r.opened_at, r.id", values)


def programmes(store: ReadStore, as_of: datetime | None = None,
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


def progress_series(store: ReadStore, project_id: str, as_of: datetime | None = None) -> list[dict[str, Any]]:
    clause, params = ("", []) if as_of is None else (" AND recorded_at <= ?", [timestamp(as_of)])
    return store.query(f"SELECT * FROM delivery_progress WHERE project_id = ?{clause} ORDER BY reported_on, version",
                       [project_id, *params])


def interventions(store: ReadStore, as_of: datetime | None = None, district: str | None = None,
                  project_id: str | None = None) -> list[dict[str, Any]]:
    clause, params = "1 = 1", []
    if as_of is not None:
        clause += " AND recorded_at <= ?"
        params.append(timestamp(as_of))
    for column, value in (("district", district), ("project_id", project_id)):
        if value is not None:
            clause += f" AND {column} = ?"
            params.append(value)
    return store.query(f"SELECT * FROM delivery_interventions WHERE {clause} ORDER BY recorded_at, project_id",
                       params)


def overdue_milestones(store: ReadStore, on: date, as_of: datetime | None = None,
                       district: str | None = None) -> list[dict[str, Any]]:
    """Milestones due before ``on`` and not achieved, of projects that are open."""
    milestone_clause, params = as_of_clause(as_of)
    project_clause, project_params = as_of_clause(as_of)
    project_clause = project_clause.replace("valid_", "p.valid_")
    milestone_clause = milestone_clause.replace("valid_", "m.valid_")
    query = (
        "SELECT m.*, p.title AS project_title, p.district, p.lead_partner FROM delivery_milestones m"
        " JOIN delivery_projects p ON p.id = m.project_id"
        f" WHERE {milestone_clause} AND {project_clause} AND m.achieved_on IS NULL AND m.due_on < ?"
        " AND p.status = 'open'")
    values: list[Any] = [*params, *project_params, on.isoformat()]
    if district is not None:
        query += " AND p.district = ?"
        values.append(district)
    return store.query(query + " ORDER BY m.due_on, p.title", values)


def outcomes(store: ReadStore, project_id: str, as_of: datetime | None = None) -> list[dict[str, Any]]:
    # An outcome's project never changes, so its open row names the project it had at any time.
    query, values = _as_of("delivery_outcomes", as_of, entities=" AND e.project_id = ?", entity_params=[project_id],
                           postgres=store.postgres)
    return store.query(f"{query} ORDER BY r.outcome_id", values)


def milestones(store: ReadStore, project_id: str, as_of: datetime | None = None) -> list[dict[str, Any]]:
    query, values = _as_of("delivery_milestones", as_of, entities=" AND e.project_id = ?",
                           entity_params=[project_id], postgres=store.postgres)
    return store.query(f"{query} ORDER BY r.due_on", values)


def credit(outcome: dict[str, Any]) -> Decimal:
    """What an outcome credits to its tasking: weight x (actual - baseline), nothing while not counting."""
    if not outcome["counting"] or outcome["actual"] is None:
        return Decimal(0)
    return Decimal(outcome["weight"]) * (Decimal(outcome["actual"]) - Decimal(outcome["baseline_value"]))


def rollups(store: ReadStore, as_of: datetime | None = None, target_id: str | None = None, *,
            with_projects: bool = True) -> list[dict[str, Any]]:
    """Actual against target: projects -> district shares (taskings) -> county target.

    ``with_projects=False`` leaves each share's ``projects`` empty and reads no project rows: an outcome's project
    exists whenever the outcome does (both come from the project's opening and rows are never removed), so the
    actuals are the same."""
    with store.transaction(commit=False) as tx:  # its four queries in one transaction: fewer round trips
        return _rollups(tx, as_of, target_id, with_projects, store.postgres)


def _rollups(store: Tx, as_of: datetime | None, target_id: str | None,
             with_projects: bool, postgres: bool) -> list[dict[str, Any]]:
    query, values = _as_of("delivery_targets", as_of, entities=" AND e.id = ?" if target_id else "",
                           entity_params=[target_id] if target_id else [], postgres=postgres)
    target_rows = store.query(f"{query} ORDER BY r.id", values)
    if not target_rows:
        return []
    wanted = ", ".join("?" for _ in target_rows)
    query, values = _as_of("delivery_taskings", as_of, f" AND r.target_id IN ({wanted})",
                           [t["id"] for t in target_rows], postgres=postgres)
    tasking_rows = store.query(f"{query} ORDER BY r.district, r.id", values)
    project_rows: dict[str, dict[str, Any]] = {}
    if with_projects:
        query, values = _as_of("delivery_projects", as_of, postgres=postgres,
                               columns="r.id, r.title, r.rag, r.status, r.lead_partner, r.district, r.opened_at")
        # Ordered here rather than by the database: the same order on any collation, and cheaper.
        found = sorted(store.query(query, values), key=lambda p: (p["district"], p["opened_at"], p["id"]))
        project_rows = {p["id"]: p for p in found}
    rank = {project_id: n for n, project_id in enumerate(project_rows)}  # a share's projects in opening order
    query, values = _as_of("delivery_outcomes", as_of, columns="r.project_id, r.tasking_id, r.counting, r.actual,"
                           " r.weight, r.baseline_value", postgres=postgres)
    outcome_rows = store.query(query, values)
    by_tasking: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcome_rows:
        by_tasking[outcome["tasking_id"]].append(outcome)
    shares_by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tasking in tasking_rows:
        contributions: dict[str, dict[str, Any]] = {}
        for outcome in by_tasking.get(tasking["id"], []):
            if not outcome["counting"]:
                continue
            entry = contributions.get(outcome["project_id"])
            if entry is None:
                if with_projects:
                    project = project_rows.get(outcome["project_id"])
                    if project is None:
                        continue
                    entry = {"project_id": project["id"], "title": project["title"], "rag": project["rag"],
                             "status": project["status"], "lead_partner": project["lead_partner"]}
                else:
                    entry = {"project_id": outcome["project_id"]}
                entry["contribution"] = Decimal(0)
                contributions[outcome["project_id"]] = entry
            entry["contribution"] += credit(outcome)
        actual = sum((c["contribution"] for c in contributions.values()), Decimal(0))
        share = Decimal(tasking["share"])
        shares_by_target[tasking["target_id"]].append({
            "tasking_id": tasking["id"], "district": tasking["district"], "lead_partner": tasking["lead_partner"],
            "status": tasking["status"], "share": share, "deadline": tasking["deadline"], "actual": actual,
            "percent_of_share": _percent(actual, share),
            "projects": sorted(contributions.values(), key=lambda c: rank[c["project_id"]]) if with_projects else []})
    result = []
    for target in target_rows:
        shares = shares_by_target.get(target["id"], [])
        live = [s for s in shares if s["status"] in LIVE_TASKING_STATUSES]
        value = Decimal(target["target_value"])
        actual = sum((s["actual"] for s in live), Decimal(0))
        result.append({
            "target_id": target["id"], "metric": target["metric"], "unit": target["unit"], "target_value": value,
            "deadline": target["deadline"], "status": target["status"],
            "tasked": sum((s["share"] for s in live), Decimal(0)), "actual": actual,
            "percent_of_target": _percent(actual, value), "shares": shares})
    return result


def _percent(actual: Decimal, of: Decimal) -> Decimal | None:
    return None if of == 0 else (actual / of * 100).quantize(Decimal("0.1"))


# -- GraphQL --------------------------------------------------------------------------------------------------------


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


@strawberry.type
class ProgrammeSummary:
    """A district's programme: its projects by status and, for open ones, by RAG."""

    district: str
    programme_id: strawberry.ID
    projects: int
    open: int
    deferred: int
    closed: int
    green: int
    amber: int
    red: int
    not_reported: int
    flagged: int
    interventions: int


@strawberry.type
class DeliveryOutcome:
    outcome_id: str
    tasking_id: strawberry.ID
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    target_date: date
    weight: Decimal
    actual: Decimal | None
    counting: bool
    credit: Decimal


@strawberry.type
class DeliveryMilestone:
    milestone_id: str
    title: str
    due_on: date
    achieved_on: date | None


@strawberry.type
class ProgressPoint:
    version: int
    reported_on: date
    actuals: JSON
    reported_values: JSON
    narrative: str
    rag: str
    direction: str | None
    shortfall_percent: Decimal
    correction: bool
    correction_reason: str | None
    reported_by: str
    reported_by_organisation: str
    recorded_at: datetime

    @staticmethod
    def from_row(row: dict[str, Any]) -> ProgressPoint:
        return ProgressPoint(
            version=row["version"], reported_on=date.fromisoformat(row["reported_on"]),
            actuals=json.loads(row["actuals"]), reported_values=json.loads(row["reported_values"]),
            narrative=row["narrative"], rag=row["rag"], direction=row["direction"],
            shortfall_percent=Decimal(row["shortfall_percent"]), correction=bool(row["correction"]),
            correction_reason=row["correction_reason"], reported_by=row["reported_by"],
            reported_by_organisation=row["reported_by_organisation"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]))


@strawberry.type
class InterventionEntry:
    project_id: strawberry.ID
    version: int
    district: str
    kind: str
    description: str
    triggers: list[str]
    decision: JSON | None
    actor: str
    actor_organisation: str
    recorded_at: datetime

    @staticmethod
    def from_row(row: dict[str, Any]) -> InterventionEntry:
        return InterventionEntry(
            project_id=strawberry.ID(row["project_id"]), version=row["version"], district=row["district"],
            kind=row["kind"], description=row["description"], triggers=json.loads(row["triggers"]),
            decision=json.loads(row["decision"]) if row["decision"] else None, actor=row["actor"],
            actor_organisation=row["actor_organisation"], recorded_at=datetime.fromisoformat(row["recorded_at"]))


@strawberry.type
class DeliveryProject:
    """A project as it stood: status, RAG (manual override shown with its reason), direction of travel."""

    id: strawberry.ID
    version: int
    programme_id: strawberry.ID
    district: str
    title: str
    lead_partner: str
    project_manager: str
    status: str
    rag: str | None
    derived_rag: str | None
    rag_override_reason: str | None
    direction: str | None
    shortfall_percent: Decimal | None
    last_reported_on: date | None
    flagged: str | None
    interventions_count: int
    committed_gbp: Decimal
    committed_staff_days: Decimal
    outcome_achieved: str | None
    lessons: str | None
    valid_from: datetime
    as_of: strawberry.Private[datetime | None]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: datetime | None) -> DeliveryProject:
        return DeliveryProject(
            id=strawberry.ID(row["id"]), version=row["version"], programme_id=strawberry.ID(row["programme_id"]),
            district=row["district"], title=row["title"], lead_partner=row["lead_partner"],
            project_manager=row["project_manager"], status=row["status"], rag=row["rag"],
            derived_rag=row["derived_rag"], rag_override_reason=row["rag_override_reason"],
            direction=row["direction"],
            shortfall_percent=Decimal(row["shortfall_percent"]) if row["shortfall_percent"] else None,
            last_reported_on=_day(row["last_reported_on"]), flagged=row["flagged"],
            interventions_count=row["interventions"], committed_gbp=Decimal(row["committed_gbp"]),
            committed_staff_days=Decimal(row["committed_staff_days"]), outcome_achieved=row["outcome_achieved"],
            lessons=row["lessons"], valid_from=datetime.fromisoformat(row["valid_from"]), as_of=as_of)

    @strawberry.field
    def outcomes(self, info: Info) -> list[DeliveryOutcome]:
        return [DeliveryOutcome(
            outcome_id=r["outcome_id"], tasking_id=strawberry.ID(r["tasking_id"]), metric=r["metric"], unit=r["unit"],
            baseline_value=Decimal(r["baseline_value"]), baseline_date=date.fromisoformat(r["baseline_date"]),
            target_value=Decimal(r["target_value"]), target_date=date.fromisoformat(r["target_date"]),
            weight=Decimal(r["weight"]), actual=Decimal(r["actual"]) if r["actual"] is not None else None,
            counting=bool(r["counting"]), credit=credit(r),
        ) for r in outcomes(read_model(info).store, str(self.id), self.as_of)]

    @strawberry.field
    def milestones(self, info: Info) -> list[DeliveryMilestone]:
        return [DeliveryMilestone(milestone_id=r["milestone_id"], title=r["title"],
                                  due_on=date.fromisoformat(r["due_on"]), achieved_on=_day(r["achieved_on"]))
                for r in milestones(read_model(info).store, str(self.id), self.as_of)]

    @strawberry.field
    def progress(self, info: Info) -> list[ProgressPoint]:
        return [ProgressPoint.from_row(r) for r in progress_series(read_model(info).store, str(self.id), self.as_of)]

    @strawberry.field
    def interventions(self, info: Info) -> list[InterventionEntry]:
        return [InterventionEntry.from_row(r)
                for r in interventions(read_model(info).store, self.as_of, project_id=str(self.id))]


@strawberry.type
class StatusCount:
    status: str
    count: int


@strawberry.type
class OverdueMilestone:
    project_id: strawberry.ID
    project_title: str
    district: str
    lead_partner: str
    milestone_id: str
    title: str
    due_on: date


@strawberry.type
class ProjectContribution:
    project_id: strawberry.ID
    title: str
    lead_partner: str
    status: str
    rag: str | None
    contribution: Decimal


@strawberry.type
class ShareRollup:
    """A district's share of the target (its tasking): actual delivered by its projects against the share."""

    tasking_id: strawberry.ID
    district: str
    lead_partner: str
    status: str
    share: Decimal
    deadline: date
    actual: Decimal
    percent_of_share: Decimal | None
    projects: list[ProjectContribution]


@strawberry.type
class TargetRollup:
    """A county target: actual (summed over live district shares) against the target value."""

    target_id: strawberry.ID
    metric: str
    unit: str
    target_value: Decimal
    deadline: date
    status: str
    tasked: Decimal
    actual: Decimal
    percent_of_target: Decimal | None
    shares: list[ShareRollup]

    @staticmethod
    def from_dict(row: dict[str, Any]) -> TargetRollup:
        return TargetRollup(
            target_id=strawberry.ID(row["target_id"]), metric=row["metric"], unit=row["unit"],
            target_value=row["target_value"], deadline=date.fromisoformat(row["deadline"]), status=row["status"],
            tasked=row["tasked"], actual=row["actual"], percent_of_target=row["percent_of_target"],
            shares=[ShareRollup(
                tasking_id=strawberry.ID(s["tasking_id"]), district=s["district"], lead_partner=s["lead_partner"],
                status=s["status"], share=s["share"], deadline=date.fromisoformat(s["deadline"]), actual=s["actual"],
                percent_of_share=s["percent_of_share"],
                projects=[ProjectContribution(project_id=strawberry.ID(p["project_id"]), title=p["title"],
                                              lead_partner=p["lead_partner"], status=p["status"], rag=p["rag"],
                                              contribution=p["contribution"]) for p in s["projects"]],
            ) for s in row["shares"]])


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Each district's programme with its projects by status and RAG.")
    def programmes(self, info: Info, as_of: datetime | None = None,
                   district: str | None = None) -> list[ProgrammeSummary]:
        return [ProgrammeSummary(**{**r, "programme_id": strawberry.ID(r["programme_id"])})
                for r in programmes(read_model(info).store, as_of, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Projects, by district and status (open, deferred, closed), as of a time.")
    def delivery_projects(self, info: Info, as_of: datetime | None = None, district: str | None = None,
                          status: str | None = None, rag: str | None = None) -> list[DeliveryProject]:
        rows = projects(read_model(info).store, as_of, district, status)
        return [DeliveryProject.from_row(r, as_of) for r in rows if rag is None or r["rag"] == rag]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def delivery_project(self, info: Info, id: strawberry.ID,
                         as_of: datetime | None = None) -> DeliveryProject | None:
        store = read_model(info).store
        query, values = _as_of("delivery_projects", as_of, entities=" AND e.id = ?", entity_params=[str(id)],
                               postgres=store.postgres)
        rows = store.query(query, values)
        return DeliveryProject.from_row(rows[0], as_of) if rows else None

    @strawberry.field(permission_classes=[IsAuthenticated], description="How many projects in each status.")
    def projects_by_status(self, info: Info, as_of: datetime | None = None,
                           district: str | None = None) -> list[StatusCount]:
        counts: dict[str, int] = defaultdict(int)
        for row in projects(read_model(info).store, as_of, district):
            counts[row["status"]] += 1
        return [StatusCount(status=s, count=n) for s, n in sorted(counts.items())]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A project's progress reports by date, with RAG and direction of travel.")
    def progress_series(self, info: Info, project_id: strawberry.ID,
                        as_of: datetime | None = None) -> list[ProgressPoint]:
        return [ProgressPoint.from_row(r) for r in progress_series(read_model(info).store, str(project_id), as_of)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Interventions by programme managers, with their decisions.")
    def interventions(self, info: Info, as_of: datetime | None = None,
                      district: str | None = None) -> list[InterventionEntry]:
        return [InterventionEntry.from_row(r) for r in interventions(read_model(info).store, as_of, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Milestones of open projects due before `on` (default: today) and not achieved.")
    def overdue_milestones(self, info: Info, on: date | None = None, as_of: datetime | None = None,
                           district: str | None = None) -> list[OverdueMilestone]:
        day = on or (as_of or datetime.now(UTC)).date()
        return [OverdueMilestone(project_id=strawberry.ID(r["project_id"]), project_title=r["project_title"],
                                 district=r["district"], lead_partner=r["lead_partner"],
                                 milestone_id=r["milestone_id"], title=r["title"],
                                 due_on=date.fromisoformat(r["due_on"]))
                for r in overdue_milestones(read_model(info).store, day, as_of, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Actual against target: projects -> district shares -> county target.")
    def delivery_rollups(self, info: Info, as_of: datetime | None = None,
                         target_id: strawberry.ID | None = None) -> list[TargetRollup]:
        rows = rollups(read_model(info).store, as_of, str(target_id) if target_id else None,
                       with_projects=_selects(info.selected_fields, "projects"))
        return [TargetRollup.from_dict(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def delivery_rollup(self, info: Info, target_id: strawberry.ID,
                        as_of: datetime | None = None) -> TargetRollup | None:
        rows = rollups(read_model(info).store, as_of, str(target_id),
                       with_projects=_selects(info.selected_fields, "projects"))
        return TargetRollup.from_dict(rows[0]) if rows else None


def _selects(selections: Sequence[Any], name: str) -> bool:
    """Whether the query asks for a field called ``name`` anywhere below (through fragments too)."""
    return any(getattr(s, "name", None) == name or _selects(getattr(s, "selections", ()), name)
               for s in selections)
