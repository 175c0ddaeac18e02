"""Strategy read models (from ``priorities.events``), as of any time: the objectives tree with its SMART targets,
district chapters and priorities, local evidence and SCS reviews."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import (
    Actor,
    Decision,
    IsAuthenticated,
    decision_from,
    loader,
    moment,
    read_model,
)
from services.reporting.readmodel import Handlers, as_of_clause, close_current, decision_json, timestamp
from shared.contracts import Fact, contract_type
from shared.contracts.priorities import (
    ChapterPriorityAgreed,
    ChapterPriorityRetired,
    DistrictChapterOpened,
    EvidenceAccepted,
    EvidenceNoted,
    EvidenceSubmitted,
    ObjectiveAdded,
    ObjectiveRetired,
    ObjectiveReworded,
    PriorityAgreed,
    PriorityProposed,
    PriorityReconfirmed,
    PriorityRejected,
    PriorityRetired,
    ScsReviewClosed,
    ScsReviewOpened,
    ScsReviewPriorityResolved,
    TargetRetired,
    TargetRevised,
    TargetSet,
)
from shared.envelope import Envelope
from shared.readstore import ReadStore, Tx

log = logging.getLogger(__name__)

# Every table: one row per (id, version), valid from the event's time until the next version's.
_ACCOUNTABLE = (" changed_by TEXT NOT NULL, changed_by_organisation TEXT NOT NULL, changed_by_role TEXT NOT NULL,"
                " decision TEXT, added_at TEXT NOT NULL, valid_from TEXT NOT NULL, valid_to TEXT,"
                " PRIMARY KEY (id, version))")

DDL = [
    "CREATE TABLE IF NOT EXISTS objectives ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL, level TEXT NOT NULL,"
    " strategy TEXT NOT NULL, parent_id TEXT, status TEXT NOT NULL, status_reason TEXT," + _ACCOUNTABLE,
    "CREATE INDEX IF NOT EXISTS objectives_current ON objectives (valid_to, id)",
    "CREATE TABLE IF NOT EXISTS targets ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, objective_id TEXT NOT NULL, metric TEXT NOT NULL,"
    " unit TEXT NOT NULL, baseline_value TEXT NOT NULL, baseline_date TEXT NOT NULL, target_value TEXT NOT NULL,"
    " deadline TEXT NOT NULL, data_source TEXT NOT NULL, owner_organisation TEXT NOT NULL, status TEXT NOT NULL,"
    " status_reason TEXT," + _ACCOUNTABLE,
    "CREATE INDEX IF NOT EXISTS targets_current ON targets (valid_to, objective_id)",
    "CREATE TABLE IF NOT EXISTS district_chapters ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, agreed_count INTEGER NOT NULL,"
    + _ACCOUNTABLE,
    "CREATE INDEX IF NOT EXISTS district_chapters_current ON district_chapters (valid_to, district)",
    "CREATE TABLE IF NOT EXISTS district_priorities ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, title TEXT NOT NULL,"
    " rationale TEXT NOT NULL, objective_id TEXT NOT NULL, evidence_refs TEXT NOT NULL, status TEXT NOT NULL,"
    " status_reason TEXT, reconfirmed_in TEXT," + _ACCOUNTABLE,
    "CREATE INDEX IF NOT EXISTS district_priorities_current ON district_priorities (valid_to, district)",
    "CREATE TABLE IF NOT EXISTS evidence ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, district TEXT NOT NULL, title TEXT NOT NULL,"
    " summary TEXT NOT NULL, source TEXT NOT NULL, evidence_date TEXT NOT NULL, figures TEXT NOT NULL,"
    " objective_ids TEXT NOT NULL, priority_ids TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,"
    + _ACCOUNTABLE,
    "CREATE INDEX IF NOT EXISTS evidence_current ON evidence (valid_to, district)",
    "CREATE TABLE IF NOT EXISTS scs_reviews ("
    " id TEXT NOT NULL, version INTEGER NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,"
    " outstanding TEXT NOT NULL," + _ACCOUNTABLE,
]


# -- projection helpers ----------------------------------------------------------------------------------------------


def _accountable(envelope: Envelope, fact: Fact) -> dict[str, Any]:
    return {"version": envelope.sequence, "changed_by": fact.actor.user_id,
            "changed_by_organisation": fact.actor.organisation, "changed_by_role": fact.actor.role,
            "decision": decision_json(fact), "valid_from": timestamp(envelope.time), "valid_to": None}


def _insert(tx: Tx, table: str, row: dict[str, Any]) -> None:
    columns = list(row)
    tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
               [row[c] for c in columns])


def _first(tx: Tx, table: str, envelope: Envelope, fact: Fact, **values: Any) -> None:
    """The first row of an entity (its creation event)."""
    at = timestamp(envelope.time)
    close_current(tx, table, envelope.subject, at)
    _insert(tx, table, {"id": envelope.subject, **values, **_accountable(envelope, fact), "added_at": at})


def _next(tx: Tx, table: str, entity_id: str, envelope: Envelope, fact: Fact, **changes: Any) -> None:
    """A new row for an entity: its current row carried forward with ``changes``, the old one closed."""
    rows = tx.query(f"SELECT * FROM {table} WHERE id = ? AND valid_to IS NULL", [entity_id])
    if not rows:
        # Events of one aggregate arrive in order, so this means the creation event was never projected.
        log.warning("no current row to change", extra={"table": table, "id": entity_id, "type": envelope.type})
        return
    close_current(tx, table, entity_id, timestamp(envelope.time))
    _insert(tx, table, {**rows[0], **_accountable(envelope, fact), **changes})


def _handler(fn: Callable[[Tx, Envelope, Any], None]) -> Callable[[Tx, Envelope, Fact], None]:
    return fn


# -- handlers --------------------------------------------------------------------------------------------------------


def _objective_added(tx: Tx, envelope: Envelope, fact: ObjectiveAdded) -> None:
    _first(tx, "objectives", envelope, fact, title=fact.title, level=fact.level.value, strategy=fact.strategy,
           parent_id=None if fact.parent_id is None else str(fact.parent_id), status="active", status_reason=None)


def _objective_reworded(tx: Tx, envelope: Envelope, fact: ObjectiveReworded) -> None:
    _next(tx, "objectives", envelope.subject, envelope, fact, title=fact.title)


def _objective_retired(tx: Tx, envelope: Envelope, fact: ObjectiveRetired) -> None:
    _next(tx, "objectives", envelope.subject, envelope, fact, status="retired", status_reason=fact.reason)


def _terms(fact: TargetSet | TargetRevised) -> dict[str, Any]:
    return {"metric": fact.metric, "unit": fact.unit, "baseline_value": str(fact.baseline_value),
            "baseline_date": fact.baseline_date.isoformat(), "target_value": str(fact.target_value),
            "deadline": fact.deadline.isoformat(), "data_source": fact.data_source,
            "owner_organisation": fact.owner_organisation}


def _target_set(tx: Tx, envelope: Envelope, fact: TargetSet) -> None:
    _first(tx, "targets", envelope, fact, objective_id=str(fact.objective_id), **_terms(fact), status="active",
           status_reason=None)


def _target_revised(tx: Tx, envelope: Envelope, fact: TargetRevised) -> None:
    _next(tx, "targets", envelope.subject, envelope, fact, **_terms(fact))


def _target_retired(tx: Tx, envelope: Envelope, fact: TargetRetired) -> None:
    _next(tx, "targets", envelope.subject, envelope, fact, status="retired", status_reason=fact.reason)


def _chapter_opened(tx: Tx, envelope: Envelope, fact: DistrictChapterOpened) -> None:
    _first(tx, "district_chapters", envelope, fact, district=fact.district, agreed_count=0)


def _chapter_changed(delta: int) -> Callable[[Tx, Envelope, Fact], None]:
    def handle(tx: Tx, envelope: Envelope, fact: Fact) -> None:
        rows = tx.query("SELECT agreed_count FROM district_chapters WHERE id = ? AND valid_to IS NULL",
                        [envelope.subject])
        count = (rows[0]["agreed_count"] if rows else 0) + delta
        _next(tx, "district_chapters", envelope.subject, envelope, fact, agreed_count=count)

    return handle


def _priority_proposed(tx: Tx, envelope: Envelope, fact: PriorityProposed) -> None:
    _first(tx, "district_priorities", envelope, fact, district=fact.district, title=fact.title,
           rationale=fact.rationale, objective_id=str(fact.objective_id),
           evidence_refs=json.dumps(list(fact.evidence_refs)), status="proposed", status_reason=None,
           reconfirmed_in=None)


def _priority_status(status: str) -> Callable[[Tx, Envelope, Fact], None]:
    def handle(tx: Tx, envelope: Envelope, fact: Fact) -> None:
        _next(tx, "district_priorities", envelope.subject, envelope, fact, status=status,
              status_reason=getattr(fact, "reason", None))

    return handle


def _priority_reconfirmed(tx: Tx, envelope: Envelope, fact: PriorityReconfirmed) -> None:
    _next(tx, "district_priorities", envelope.subject, envelope, fact, reconfirmed_in=str(fact.review_id))


def _evidence_submitted(tx: Tx, envelope: Envelope, fact: EvidenceSubmitted) -> None:
    figures = [{"label": f.label, "value": str(f.value), "unit": f.unit} for f in fact.figures]
    _first(tx, "evidence", envelope, fact, district=fact.district, title=fact.title, summary=fact.summary,
           source=fact.source, evidence_date=fact.evidence_date.isoformat(), figures=json.dumps(figures),
           objective_ids=json.dumps([str(i) for i in fact.objective_ids]),
           priority_ids=json.dumps([str(i) for i in fact.priority_ids]), status="submitted", status_reason=None)


def _evidence_accepted(tx: Tx, envelope: Envelope, fact: EvidenceAccepted) -> None:
    _next(tx, "evidence", envelope.subject, envelope, fact, status="accepted")


def _evidence_noted(tx: Tx, envelope: Envelope, fact: EvidenceNoted) -> None:
    _next(tx, "evidence", envelope.subject, envelope, fact, status="noted", status_reason=fact.reason)


def _review_opened(tx: Tx, envelope: Envelope, fact: ScsReviewOpened) -> None:
    _first(tx, "scs_reviews", envelope, fact, number=fact.number, status="open",
           outstanding=json.dumps([str(p) for p in fact.outstanding]))


def _review_resolved(tx: Tx, envelope: Envelope, fact: ScsReviewPriorityResolved) -> None:
    rows = tx.query("SELECT outstanding FROM scs_reviews WHERE id = ? AND valid_to IS NULL", [envelope.subject])
    outstanding = [p for p in json.loads(rows[0]["outstanding"]) if p != str(fact.priority_id)] if rows else []
    _next(tx, "scs_reviews", envelope.subject, envelope, fact, outstanding=json.dumps(outstanding))


def _review_closed(tx: Tx, envelope: Envelope, fact: ScsReviewClosed) -> None:
    _next(tx, "scs_reviews", envelope.subject, envelope, fact, status="closed")


HANDLERS: Handlers = {
    contract_type(ObjectiveAdded): _handler(_objective_added),
    contract_type(ObjectiveReworded): _handler(_objective_reworded),
    contract_type(ObjectiveRetired): _handler(_objective_retired),
    contract_type(TargetSet): _handler(_target_set),
    contract_type(TargetRevised): _handler(_target_revised),
    contract_type(TargetRetired): _handler(_target_retired),
    contract_type(DistrictChapterOpened): _handler(_chapter_opened),
    contract_type(ChapterPriorityAgreed): _chapter_changed(+1),
    contract_type(ChapterPriorityRetired): _chapter_changed(-1),
    contract_type(PriorityProposed): _handler(_priority_proposed),
    contract_type(PriorityAgreed): _priority_status("agreed"),
    contract_type(PriorityRejected): _priority_status("rejected"),
    contract_type(PriorityRetired): _priority_status("retired"),
    contract_type(PriorityReconfirmed): _handler(_priority_reconfirmed),
    contract_type(EvidenceSubmitted): _handler(_evidence_submitted),
    contract_type(EvidenceAccepted): _handler(_evidence_accepted),
    contract_type(EvidenceNoted): _handler(_evidence_noted),
    contract_type(ScsReviewOpened): _handler(_review_opened),
    contract_type(ScsReviewPriorityResolved): _handler(_review_resolved),
    contract_type(ScsReviewClosed): _handler(_review_closed),
}


# -- queries ---------------------------------------------------------------------------------------------------------


def _rows(store: ReadStore, table: str, as_of: datetime | None, **equal: Any) -> list[dict[str, Any]]:
    clause, params = as_of_clause(as_of)
    for column, value in equal.items():
        if value is None:
            continue
        if value == "NULL":
            clause += f" AND {column} IS NULL"
        else:
            clause += f" AND {column} = ?"
            params.append(value)
    return store.query(f"SELECT * FROM {table} WHERE {clause} ORDER BY added_at, id", params)


def objectives(store: ReadStore, as_of: datetime | None = None, level: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, "objectives", as_of, level=level)


def objective(store: ReadStore, objective_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
    rows = _rows(store, "objectives", as_of, id=objective_id)
    return rows[0] if rows else None


def objective_children(store: ReadStore, parent_id: str | None, as_of: datetime | None = None
                       ) -> list[dict[str, Any]]:
    return _rows(store, "objectives", as_of, parent_id="NULL" if parent_id is None else parent_id)


def targets(store: ReadStore, as_of: datetime | None = None, objective_id: str | None = None,
            status: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, "targets", as_of, objective_id=objective_id, status=status)


def target(store: ReadStore, target_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
    rows = _rows(store, "targets", as_of, id=target_id)
    return rows[0] if rows else None


def district_priorities(store: ReadStore, as_of: datetime | None = None, district: str | None = None,
                        status: str | None = None, objective_id: str | None = None) -> list[dict[str, Any]]:
    return _rows(store, "district_priorities", as_of, district=district, status=status, objective_id=objective_id)


def district_chapters(store: ReadStore, as_of: datetime | None = None, district: str | None = None
                      ) -> list[dict[str, Any]]:
    return _rows(store, "district_chapters", as_of, district=district)


def evidence(store: ReadStore, as_of: datetime | None = None, district: str | None = None,
             status: str | None = None, objective_id: str | None = None,
             priority_id: str | None = None) -> list[dict[str, Any]]:
    rows = _rows(store, "evidence", as_of, district=district, status=status)
    if objective_id is not None:
        rows = [r for r in rows if objective_id in json.loads(r["objective_ids"])]
    if priority_id is not None:
        rows = [r for r in rows if priority_id in json.loads(r["priority_ids"])]
    return rows


def scs_reviews(store: ReadStore, as_of: datetime | None = None) -> list[dict[str, Any]]:
    return _rows(store, "scs_reviews", as_of)


def _grouped(store: ReadStore, table: str, column: str, keys: list[tuple[Any, ...]]) -> list[list[dict[str, Any]]]:
    """Rows of ``table`` whose ``column`` is the first part of each key ``(value, as_of, status?)``: one query per
    distinct (as_of, status) among the keys, so a nested field costs one query per level, not one per parent."""
    found: dict[tuple[Any, ...], list[dict[str, Any]]] = {key: [] for key in keys}
    variants: dict[tuple[Any, ...], set[Any]] = {}
    for key in keys:
        variants.setdefault(key[1:], set()).add(key[0])
    for variant, values in variants.items():
        clause, params = as_of_clause(variant[0])
        if len(variant) > 1 and variant[1] is not None:
            clause += " AND status = ?"
            params.append(variant[1])
        marks = ", ".join("?" for _ in values)
        rows = store.query(f"SELECT * FROM {table} WHERE {clause} AND {column} IN ({marks}) ORDER BY added_at, id",
                           [*params, *values])
        for row in rows:
            found[(row[column], *variant)].append(row)
    return [found[key] for key in keys]


def _children_of(store: ReadStore, keys: list[tuple[str, datetime | None]]) -> list[list[dict[str, Any]]]:
    return _grouped(store, "objectives", "parent_id", list(keys))


def _targets_of(store: ReadStore, keys: list[tuple[str, datetime | None, str | None]]) -> list[list[dict[str, Any]]]:
    return _grouped(store, "targets", "objective_id", list(keys))


def _priorities_of(store: ReadStore, keys: list[tuple[str, datetime | None, str | None]]
                   ) -> list[list[dict[str, Any]]]:
    return _grouped(store, "district_priorities", "district", list(keys))


# -- GraphQL types ---------------------------------------------------------------------------------------------------


def _actor(row: dict[str, Any]) -> Actor:
    return Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"], role=row["changed_by_role"])


@strawberry.type(description="A SMART target on an objective, as it stood at the time asked.")
class Target:
    id: strawberry.ID
    version: int
    objective_id: strawberry.ID
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str
    status: str
    status_reason: str | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> Target:
        return Target(
            id=strawberry.ID(row["id"]), version=row["version"], objective_id=strawberry.ID(row["objective_id"]),
            metric=row["metric"], unit=row["unit"], baseline_value=Decimal(row["baseline_value"]),
            baseline_date=date.fromisoformat(row["baseline_date"]), target_value=Decimal(row["target_value"]),
            deadline=date.fromisoformat(row["deadline"]), data_source=row["data_source"],
            owner_organisation=row["owner_organisation"], status=row["status"], status_reason=row["status_reason"],
            changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="An objective of the SCS or of a county strategy; the tree hangs from parent_id.")
class Objective:
    id: strawberry.ID
    version: int
    title: str
    level: str
    strategy: str
    parent_id: strawberry.ID | None
    status: str
    status_reason: str | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None
    as_of: strawberry.Private[datetime | None] = None

    @strawberry.field(description="The objectives directly under this one.")
    async def children(self, info: Info) -> list[Objective]:
        rows = await loader(info, "objective_children", _children_of).load((str(self.id), self.as_of))
        return [Objective.from_row(r, self.as_of) for r in rows]

    @strawberry.field(description="The targets set on this objective (all, or those with the given status).")
    async def targets(self, info: Info, status: str | None = None) -> list[Target]:
        rows = await loader(info, "objective_targets", _targets_of).load((str(self.id), self.as_of, status))
        return [Target.from_row(r) for r in rows]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: datetime | None = None) -> Objective:
        return Objective(
            id=strawberry.ID(row["id"]), version=row["version"], title=row["title"], level=row["level"],
            strategy=row["strategy"], parent_id=row["parent_id"], status=row["status"],
            status_reason=row["status_reason"], changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]), as_of=as_of,
        )


@strawberry.type(description="A priority issue a district partnership proposed for its place.")
class DistrictPriority:
    id: strawberry.ID
    version: int
    district: str
    title: str
    rationale: str
    objective_id: strawberry.ID
    evidence_refs: list[str]
    status: str
    status_reason: str | None
    reconfirmed_in: strawberry.ID | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> DistrictPriority:
        return DistrictPriority(
            id=strawberry.ID(row["id"]), version=row["version"], district=row["district"], title=row["title"],
            rationale=row["rationale"], objective_id=strawberry.ID(row["objective_id"]),
            evidence_refs=json.loads(row["evidence_refs"]), status=row["status"],
            status_reason=row["status_reason"], reconfirmed_in=row["reconfirmed_in"], changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="A district's chapter of the SCS: the priorities it keeps.")
class DistrictChapter:
    id: strawberry.ID
    version: int
    district: str
    agreed_count: int
    valid_from: datetime
    valid_to: datetime | None
    as_of: strawberry.Private[datetime | None] = None

    @strawberry.field(description="The district's priorities (all, or those with the given status).")
    async def priorities(self, info: Info, status: str | None = None) -> list[DistrictPriority]:
        rows = await loader(info, "district_priorities", _priorities_of).load((self.district, self.as_of, status))
        return [DistrictPriority.from_row(r) for r in rows]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: datetime | None = None) -> DistrictChapter:
        return DistrictChapter(id=strawberry.ID(row["id"]), version=row["version"], district=row["district"],
                               agreed_count=row["agreed_count"], valid_from=datetime.fromisoformat(row["valid_from"]),
                               valid_to=moment(row["valid_to"]), as_of=as_of)


@strawberry.type
class EvidenceFigure:
    label: str
    value: Decimal
    unit: str


@strawberry.type(description="Local evidence or a consultation outcome a district submitted; the county sifts it.")
class Evidence:
    id: strawberry.ID
    version: int
    district: str
    title: str
    summary: str
    source: str
    evidence_date: date
    figures: list[EvidenceFigure]
    objective_ids: list[strawberry.ID]
    priority_ids: list[strawberry.ID]
    status: str
    status_reason: str | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> Evidence:
        return Evidence(
            id=strawberry.ID(row["id"]), version=row["version"], district=row["district"], title=row["title"],
            summary=row["summary"], source=row["source"], evidence_date=date.fromisoformat(row["evidence_date"]),
            figures=[EvidenceFigure(label=f["label"], value=Decimal(f["value"]), unit=f["unit"])
                     for f in json.loads(row["figures"])],
            objective_ids=[strawberry.ID(i) for i in json.loads(row["objective_ids"])],
            priority_ids=[strawberry.ID(i) for i in json.loads(row["priority_ids"])], status=row["status"],
            status_reason=row["status_reason"], changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="A review of the SCS: agreed priorities still to be re-confirmed or retired.")
class ScsReview:
    id: strawberry.ID
    version: int
    number: int
    status: str
    outstanding: list[strawberry.ID]
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> ScsReview:
        return ScsReview(
            id=strawberry.ID(row["id"]), version=row["version"], number=row["number"], status=row["status"],
            outstanding=[strawberry.ID(p) for p in json.loads(row["outstanding"])], changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Objectives of the SCS and the county strategies, as of a time (default now).")
    def objectives(self, info: Info, as_of: datetime | None = None, level: str | None = None) -> list[Objective]:
        return [Objective.from_row(r, as_of) for r in objectives(read_model(info).store, as_of, level)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def objective(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Objective | None:
        row = objective(read_model(info).store, str(id), as_of)
        return Objective.from_row(row, as_of) if row else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The objectives tree: SCS objectives, each with its children and targets.")
    def objective_tree(self, info: Info, as_of: datetime | None = None) -> list[Objective]:
        return [Objective.from_row(r, as_of) for r in objective_children(read_model(info).store, None, as_of)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="SMART targets, optionally of one objective or with one status (active, retired).")
    def targets(self, info: Info, objective_id: strawberry.ID | None = None, status: str | None = None,
                as_of: datetime | None = None) -> list[Target]:
        rows = targets(read_model(info).store, as_of, None if objective_id is None else str(objective_id), status)
        return [Target.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def target(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Target | None:
        row = target(read_model(info).store, str(id), as_of)
        return Target.from_row(row) if row else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="District priorities, optionally of one district, status or objective.")
    def district_priorities(self, info: Info, district: str | None = None, status: str | None = None,
                            objective_id: strawberry.ID | None = None,
                            as_of: datetime | None = None) -> list[DistrictPriority]:
        rows = district_priorities(read_model(info).store, as_of, district, status,
                                   None if objective_id is None else str(objective_id))
        return [DistrictPriority.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="District chapters (those that have agreed a priority), optionally one district.")
    def district_chapters(self, info: Info, district: str | None = None,
                          as_of: datetime | None = None) -> list[DistrictChapter]:
        return [DistrictChapter.from_row(r, as_of) for r in district_chapters(read_model(info).store, as_of, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Local evidence, optionally of one district, sift status, objective or priority.")
    def evidence(self, info: Info, district: str | None = None, status: str | None = None,
                 objective_id: strawberry.ID | None = None, priority_id: strawberry.ID | None = None,
                 as_of: datetime | None = None) -> list[Evidence]:
        rows = evidence(read_model(info).store, as_of, district, status,
                        None if objective_id is None else str(objective_id),
                        None if priority_id is None else str(priority_id))
        return [Evidence.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated], description="SCS reviews and what each still awaits.")
    def scs_reviews(self, info: Info, as_of: datetime | None = None) -> list[ScsReview]:
        return [ScsReview.from_row(r) for r in scs_reviews(read_model(info).store, as_of)]
