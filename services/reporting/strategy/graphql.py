"""The strategy read model in GraphQL: objectives (a tree), SMART targets, district chapters and priorities,
evidence and SCS reviews, as plain lists and as paged connections."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from services.reporting.graphql_common import (
    AFTER,
    BEFORE,
    FIRST,
    IN_FORCE_ON,
    LAST,
    Actor,
    Connection,
    Decision,
    IsAuthenticated,
    decision_from,
    loader,
    moment,
    paginate,
    paginate_listing,
    read_model,
)
from services.reporting.graphql_node import Node, loader_of, one, parse_id, register, scoped_id
from services.reporting.strategy import queries
from services.reporting.temporal import When, at


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)



def _actor(row: dict[str, Any]) -> Actor:
    return Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"], role=row["changed_by_role"])


@strawberry.type(description="A SMART target on an objective, as it stood at the time asked.")
class Target(Node):
    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects: the target's id when read now; read with asOf or inForceOn, an opaque id naming "
        "that moment too (node(id:) and target(id:) answer as of it)."))
    target_id: strawberry.ID = strawberry.field(description="The target's own id, the same at every moment.")
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
    def from_row(row: dict[str, Any], when: When = None) -> Target:
        return Target(
            id=scoped_id("Target", row["id"], when), target_id=strawberry.ID(row["id"]), version=row["version"],
            objective_id=strawberry.ID(row["objective_id"]),
            metric=row["metric"], unit=row["unit"], baseline_value=Decimal(row["baseline_value"]),
            baseline_date=date.fromisoformat(row["baseline_date"]), target_value=Decimal(row["target_value"]),
            deadline=date.fromisoformat(row["deadline"]), data_source=row["data_source"],
            owner_organisation=row["owner_organisation"], status=row["status"], status_reason=row["status_reason"],
            changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="An objective of the SCS or of a county strategy; the tree hangs from parent_id.")
class Objective(Node):
    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects: the objective's id when read now; read with asOf or inForceOn, an opaque id "
        "naming that moment too (node(id:) and objective(id:) answer as of it)."))
    objective_id: strawberry.ID = strawberry.field(description="The objective's own id, the same at every moment.")
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
    as_of: strawberry.Private[When] = None

    @strawberry.field(description="The objectives directly under this one.")
    async def children(self, info: Info) -> list[Objective]:
        rows = await loader(info, "objective_children", queries.children_of).load((str(self.objective_id), self.as_of))
        return [Objective.from_row(r, self.as_of) for r in rows]

    @strawberry.field(description="The targets set on this objective (all, or those with the given status).")
    async def targets(self, info: Info, status: str | None = None) -> list[Target]:
        rows = await loader(info, "objective_targets", queries.targets_of).load(
            (str(self.objective_id), self.as_of, status))
        return [Target.from_row(r, self.as_of) for r in rows]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: When = None) -> Objective:
        return Objective(
            id=scoped_id("Objective", row["id"], as_of), objective_id=strawberry.ID(row["id"]), version=row["version"],
            title=row["title"], level=row["level"],
            strategy=row["strategy"], parent_id=row["parent_id"], status=row["status"],
            status_reason=row["status_reason"], changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]), as_of=as_of,
        )


_OWN_ID = ("Unique among all objects: its own id when read now; read with asOf or inForceOn, an opaque id naming "
           "that moment too (node(id:) answers as of it).")


@strawberry.type(description="A priority issue a district partnership proposed for its place.")
class DistrictPriority(Node):
    id: strawberry.ID = strawberry.field(description=_OWN_ID)
    priority_id: strawberry.ID = strawberry.field(description="The priority's own id, the same at every moment.")
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
    def from_row(row: dict[str, Any], when: When = None) -> DistrictPriority:
        return DistrictPriority(
            id=scoped_id("DistrictPriority", row["id"], when), priority_id=strawberry.ID(row["id"]),
            version=row["version"], district=row["district"], title=row["title"],
            rationale=row["rationale"], objective_id=strawberry.ID(row["objective_id"]),
            evidence_refs=json.loads(row["evidence_refs"]), status=row["status"],
            status_reason=row["status_reason"], reconfirmed_in=row["reconfirmed_in"], changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="A district's chapter of the SCS: the priorities it keeps.")
class DistrictChapter(Node):
    id: strawberry.ID = strawberry.field(description=_OWN_ID)
    chapter_id: strawberry.ID = strawberry.field(description="The chapter's own id, the same at every moment.")
    version: int
    district: str
    agreed_count: int
    valid_from: datetime
    valid_to: datetime | None
    as_of: strawberry.Private[When] = None

    @strawberry.field(description="The district's priorities (all, or those with the given status).")
    async def priorities(self, info: Info, status: str | None = None) -> list[DistrictPriority]:
        rows = await loader(info, "district_priorities", queries.priorities_of).load(
            (self.district, self.as_of, status))
        return [DistrictPriority.from_row(r, self.as_of) for r in rows]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: When = None) -> DistrictChapter:
        return DistrictChapter(id=scoped_id("DistrictChapter", row["id"], as_of), chapter_id=strawberry.ID(row["id"]),
                               version=row["version"], district=row["district"],
                               agreed_count=row["agreed_count"], valid_from=datetime.fromisoformat(row["valid_from"]),
                               valid_to=moment(row["valid_to"]), as_of=as_of)


@strawberry.type
class EvidenceFigure:
    label: str
    value: Decimal
    unit: str


@strawberry.type(description="Local evidence or a consultation outcome a district submitted; the county sifts it.")
class Evidence(Node):
    id: strawberry.ID = strawberry.field(description=_OWN_ID)
    evidence_id: strawberry.ID = strawberry.field(description="The evidence's own id, the same at every moment.")
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
    def from_row(row: dict[str, Any], when: When = None) -> Evidence:
        return Evidence(
            id=scoped_id("Evidence", row["id"], when), evidence_id=strawberry.ID(row["id"]), version=row["version"],
            district=row["district"], title=row["title"],
            summary=row["summary"], source=row["source"], evidence_date=date.fromisoformat(row["evidence_date"]),
            figures=[EvidenceFigure(label=f["label"], value=Decimal(f["value"]), unit=f["unit"])
                     for f in json.loads(row["figures"])],
            objective_ids=[strawberry.ID(i) for i in json.loads(row["objective_ids"])],
            priority_ids=[strawberry.ID(i) for i in json.loads(row["priority_ids"])], status=row["status"],
            status_reason=row["status_reason"], changed_by=_actor(row), decision=decision_from(row["decision"]),
            valid_from=datetime.fromisoformat(row["valid_from"]), valid_to=moment(row["valid_to"]),
        )


@strawberry.type(description="A review of the SCS: agreed priorities still to be re-confirmed or retired.")
class ScsReview(Node):
    id: strawberry.ID = strawberry.field(description=_OWN_ID)
    review_id: strawberry.ID = strawberry.field(description="The review's own id, the same at every moment.")
    version: int
    number: int
    status: str
    outstanding: list[strawberry.ID]
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any], when: When = None) -> ScsReview:
        return ScsReview(
            id=scoped_id("ScsReview", row["id"], when), review_id=strawberry.ID(row["id"]), version=row["version"],
            number=row["number"], status=row["status"],
            outstanding=[strawberry.ID(p) for p in json.loads(row["outstanding"])], changed_by=_actor(row),
            decision=decision_from(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=moment(row["valid_to"]),
        )


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Objectives of the SCS and the county strategies, as of a time (default now).")
    def objectives(self, info: Info, as_of: datetime | None = None,
                   in_force_on: IN_FORCE_ON = None, level: str | None = None) -> list[Objective]:
        when = at(as_of, in_force_on)
        return [Objective.from_row(r, when) for r in queries.objectives(read_model(info).store, when, level)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def objective(self, info: Info, id: strawberry.ID, as_of: datetime | None = None,
                  in_force_on: IN_FORCE_ON = None) -> Objective | None:
        return _objective(info, str(id), at(as_of, in_force_on))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The objectives tree: SCS objectives, each with its children and targets.")
    def objective_tree(self, info: Info, as_of: datetime | None = None,
                       in_force_on: IN_FORCE_ON = None) -> list[Objective]:
        when = at(as_of, in_force_on)
        return [Objective.from_row(r, when) for r in queries.objective_children(read_model(info).store, None, when)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="SMART targets, optionally of one objective or with one status (active, retired).")
    def targets(self, info: Info, objective_id: strawberry.ID | None = None, status: str | None = None,
                as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> list[Target]:
        when = at(as_of, in_force_on)
        rows = queries.targets(read_model(info).store, when, _id(objective_id), status)
        return [Target.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def target(self, info: Info, id: strawberry.ID, as_of: datetime | None = None,
               in_force_on: IN_FORCE_ON = None) -> Target | None:
        return _target(info, str(id), at(as_of, in_force_on))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="District priorities, optionally of one district, status or objective.")
    def district_priorities(self, info: Info, district: str | None = None, status: str | None = None,
                            objective_id: strawberry.ID | None = None,
                            as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> list[DistrictPriority]:
        when = at(as_of, in_force_on)
        rows = queries.district_priorities(read_model(info).store, when, district, status,
                                   _id(objective_id))
        return [DistrictPriority.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="District chapters (those that have agreed a priority), optionally one district.")
    def district_chapters(self, info: Info, district: str | None = None,
                          as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> list[DistrictChapter]:
        when = at(as_of, in_force_on)
        rows = queries.district_chapters(read_model(info).store, when, district)
        return [DistrictChapter.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Local evidence, optionally of one district, sift status, objective or priority.")
    def evidence(self, info: Info, district: str | None = None, status: str | None = None,
                 objective_id: strawberry.ID | None = None, priority_id: strawberry.ID | None = None,
                 as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> list[Evidence]:
        when = at(as_of, in_force_on)
        rows = queries.evidence(read_model(info).store, when, district, status,
                        _id(objective_id),
                        _id(priority_id))
        return [Evidence.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated], description="SCS reviews and what each still awaits.")
    def scs_reviews(self, info: Info, as_of: datetime | None = None,
                    in_force_on: IN_FORCE_ON = None) -> list[ScsReview]:
        when = at(as_of, in_force_on)
        return [ScsReview.from_row(r, when) for r in queries.scs_reviews(read_model(info).store, when)]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Objectives, a page at a time.")
    def objectives_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                              last: LAST = None, before: BEFORE = None,
                              as_of: datetime | None = None,
                              in_force_on: IN_FORCE_ON = None, level: str | None = None) -> Connection[Objective]:
        when = at(as_of, in_force_on)
        store = read_model(info).store
        listed = queries.objectives_listing(when, level)  # only the page's rows are read and opened
        return paginate_listing(store, listed, lambda r: Objective.from_row(store.open_row(r), when),
                                first, after, last, before, sealed=True)

    @strawberry.field(permission_classes=[IsAuthenticated], description="SMART targets, a page at a time.")
    def targets_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                           last: LAST = None, before: BEFORE = None,
                           as_of: datetime | None = None,
                           in_force_on: IN_FORCE_ON = None, objective_id: strawberry.ID | None = None,
                           status: str | None = None) -> Connection[Target]:
        when = at(as_of, in_force_on)
        store = read_model(info).store
        listed = queries.targets_listing(when, _id(objective_id), status)
        return paginate_listing(store, listed, lambda r: Target.from_row(store.open_row(r), when),
                                first, after, last, before, sealed=True)  # only the page's rows are read and opened

    @strawberry.field(permission_classes=[IsAuthenticated], description="District priorities, a page at a time.")
    def district_priorities_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                                       last: LAST = None, before: BEFORE = None,
                                       as_of: datetime | None = None,
                                       in_force_on: IN_FORCE_ON = None, district: str | None = None,
                                       status: str | None = None, objective_id: strawberry.ID | None = None
                                       ) -> Connection[DistrictPriority]:
        when = at(as_of, in_force_on)
        listed = queries.district_priorities_listing(when, district, status, _id(objective_id))
        return paginate_listing(read_model(info).store, listed, lambda r: DistrictPriority.from_row(r, when),
                                first, after, last, before)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Local evidence, a page at a time.")
    def evidence_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                            last: LAST = None, before: BEFORE = None,
                            as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None, district: str | None = None,
                            status: str | None = None) -> Connection[Evidence]:
        when = at(as_of, in_force_on)
        rows = queries.evidence(read_model(info).store, when, district, status)
        return paginate(rows, lambda r: (r["added_at"], r["id"]), lambda r: Evidence.from_row(r, when),
                        first, after, last, before)


def _target(info: Info, key: str, when: When) -> Target | None:
    """One target at ``when``; ``key`` may be a moment-scoped id (``graphql_node``), whose moment then holds unless
    ``when`` names one."""
    parsed = parse_id(key)
    if parsed.type_name not in (None, "Target"):
        return None
    when = when if when is not None else parsed.when
    row = queries.target(read_model(info).store, parsed.key, when)
    return Target.from_row(row, when) if row else None


register("Target", ("target", "targets", "targetsConnection"), _target)


def _objective(info: Info, key: str, when: When) -> Objective | None:
    """One objective at ``when``; ``key`` may be a moment-scoped id (``graphql_node``), whose moment then holds
    unless ``when`` names one."""
    parsed = parse_id(key)
    if parsed.type_name not in (None, "Objective"):
        return None
    when = when if when is not None else parsed.when
    row = queries.objective(read_model(info).store, parsed.key, when)
    return Objective.from_row(row, when) if row else None


register("Objective", ("objective", "objectives", "objectiveTree", "objectivesConnection"), _objective)
register("DistrictPriority", ("districtPriorities", "districtPrioritiesConnection"), loader_of(
    "DistrictPriority", lambda store, key, when: one(queries.district_priorities(store, when), key),
    DistrictPriority.from_row))
register("DistrictChapter", "districtChapters", loader_of(
    "DistrictChapter", lambda store, key, when: one(queries.district_chapters(store, when), key),
    DistrictChapter.from_row))
register("Evidence", ("evidence", "evidenceConnection"), loader_of(
    "Evidence", lambda store, key, when: one(queries.evidence(store, when), key), Evidence.from_row))
register("ScsReview", "scsReviews", loader_of(
    "ScsReview", lambda store, key, when: one(queries.scs_reviews(store, when), key), ScsReview.from_row))
