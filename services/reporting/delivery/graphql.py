"""The delivery read model in GraphQL: programmes, projects (and pages of them) with outcomes, milestones,
progress and interventions, overdue milestones, and the roll-up of actual against target."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.delivery import judging, queries, rollup
from services.reporting.graphql_common import (
    AFTER,
    BEFORE,
    FIRST,
    IN_FORCE_ON,
    LAST,
    Connection,
    IsAuthenticated,
    bad_input,
    paginate_listing,
    read_model,
)
from services.reporting.graphql_node import Node, key_parts, loader_of, one, register, scoped_id, typed_id
from services.reporting.temporal import When, at, in_force_day, recorded_moment
from shared.performance import Performance, ReportingInterval, interval_at
from shared.readstore import ReadStore
from shared.sectors import sector_name, sector_problems


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


_PART_ID = ("Unique among all objects (opaque): its project and its own key name it, and the moment it was read at "
            "when that is not now (node(id:) answers as of it).")


@strawberry.type
class DeliveryOutcome(Node):
    id: strawberry.ID = strawberry.field(description=_PART_ID)
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
class DeliveryMilestone(Node):
    id: strawberry.ID = strawberry.field(description=_PART_ID)
    milestone_id: str
    title: str
    due_on: date
    achieved_on: date | None


@strawberry.type
class ProgressPoint(Node):
    id: strawberry.ID = strawberry.field(description=_PART_ID)
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
    def from_row(row: dict[str, Any], when: When = None) -> ProgressPoint:
        return ProgressPoint(
            id=typed_id("ProgressPoint", (row["project_id"], row["version"]), when), version=row["version"],
            reported_on=date.fromisoformat(row["reported_on"]),
            actuals=json.loads(row["actuals"]), reported_values=json.loads(row["reported_values"]),
            narrative=row["narrative"], rag=row["rag"], direction=row["direction"],
            shortfall_percent=Decimal(row["shortfall_percent"]), correction=bool(row["correction"]),
            correction_reason=row["correction_reason"], reported_by=row["reported_by"],
            reported_by_organisation=row["reported_by_organisation"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]))


@strawberry.type(description="A progress report withdrawn, or superseded by a correction, as a mistake: whose "
                             "figures needed correcting, when and why.")
class WithdrawnReport(Node):
    id: strawberry.ID = strawberry.field(description=_PART_ID)
    reported_on: date = strawberry.field(description="The date of the report withdrawn or corrected")
    corrected_to: date | None = strawberry.field(
        description="The date the correction's values stand at; null when the report was withdrawn")
    reason: str
    withdrawn_by: str = strawberry.field(description="The pseudonym of the person who withdrew or corrected it")
    withdrawn_by_organisation: str
    version: int = strawberry.field(description="The project's version the withdrawal or correction made")
    recorded_at: datetime

    @staticmethod
    def from_row(row: dict[str, Any], when: When = None) -> WithdrawnReport:
        return WithdrawnReport(
            id=typed_id("WithdrawnReport", (row["project_id"], row["version"]), when),
            reported_on=date.fromisoformat(row["reported_on"]), corrected_to=_day(row["corrected_to"]),
            reason=row["reason"], withdrawn_by=row["withdrawn_by"],
            withdrawn_by_organisation=row["withdrawn_by_organisation"], version=row["version"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]))


@strawberry.type
class InterventionEntry(Node):
    id: strawberry.ID = strawberry.field(description="Unique among all objects (opaque): its project and the "
                                                     "project's version it made name it (it does not change).")
    project_id: strawberry.ID
    version: int
    district: str
    kind: str
    description: str
    triggers: list[str]
    decision: JSON | None
    actor: str = strawberry.field(description="The pseudonym of the person who recorded it")
    actor_organisation: str
    recorded_at: datetime
    due_on: date | None = strawberry.field(default=None, description=(
        "By when it is to have worked; null when the decision set no date"))
    owner: str | None = strawberry.field(default=None, description=(
        "The partner organisation that carries it out (the lead partner unless another was named)"))

    @strawberry.field(description="The name of the person who recorded it, while they are not erased")
    def actor_name(self, info: Info) -> str | None:
        return read_model(info).people.name_of(self.actor)

    @staticmethod
    def from_row(row: dict[str, Any]) -> InterventionEntry:
        return InterventionEntry(
            id=typed_id("InterventionEntry", (row["project_id"], row["version"])),
            project_id=strawberry.ID(row["project_id"]), version=row["version"], district=row["district"],
            kind=row["kind"], description=row["description"], triggers=json.loads(row["triggers"]),
            decision=json.loads(row["decision"]) if row["decision"] else None, actor=row["actor"],
            actor_organisation=row["actor_organisation"], recorded_at=datetime.fromisoformat(row["recorded_at"]),
            due_on=date.fromisoformat(row["due_on"]) if row.get("due_on") else None, owner=row.get("owner"))


@strawberry.type(description="The out-turn expected at the figure's deadline from the reports so far, and how it "
                             "was made (method named, e.g. linear from the last two reports).")
class Forecast:
    """The out-turn expected at the figure's deadline from the reports so far, and how it was made."""

    value: Decimal | None
    at: date
    method: str


@strawberry.type(description="How a figure is doing at a date, by the partnership's one rule: RAG against its "
                             "profile (the straight line without one), direction of travel, a forecast out-turn per "
                             "figure, and staleness: status is 'stale' when the latest report is older than the "
                             "reporting interval, not a colour from old data.")
class FigurePerformance:
    """How a figure is doing at a date, by the partnership's one rule (``shared.performance``): RAG against its
    profile (the straight line without one), direction of travel, forecast out-turn, and whether it is stale (its
    latest report older than its reporting interval): then ``status`` is ``stale``, not a colour from old data."""

    on: date
    status: str
    rag: str
    shortfall_percent: Decimal
    direction: str | None
    stale: bool
    latest_reported_on: date | None
    reporting_interval: str
    forecasts: list[Forecast]

    @staticmethod
    def of(judged: Performance) -> FigurePerformance:
        return FigurePerformance(
            on=judged.on, status=judged.status, rag=judged.rag.value, shortfall_percent=judged.shortfall_percent,
            direction=judged.direction.value if judged.direction else None, stale=judged.stale,
            latest_reported_on=judged.latest_reported_on, reporting_interval=judged.interval.value,
            forecasts=[Forecast(value=f.forecast.value, at=f.forecast.at, method=f.forecast.method.value)
                       for f in judged.figures])


def _on(on: date | None, when: When) -> date:
    """The date asked about: ``on``, else the in-force day asked, else today."""
    return on or in_force_day(when) or (recorded_moment(when) or datetime.now(UTC)).date()


@strawberry.type
class DeliveryProject(Node):
    """A project as it stood: status, RAG (manual override shown with its reason), direction of travel."""

    id: strawberry.ID = strawberry.field(description=(
        "Unique among all objects: the project's id when read now; read with asOf or inForceOn, an opaque id naming "
        "that moment too (node(id:) and deliveryProject(id:) answer as of it)."))
    project_id: strawberry.ID = strawberry.field(description="The project's own id, the same at every moment.")
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
    as_of: strawberry.Private[When]

    @staticmethod
    def from_row(row: dict[str, Any], as_of: When) -> DeliveryProject:
        return DeliveryProject(
            id=scoped_id("DeliveryProject", row["id"], as_of), project_id=strawberry.ID(row["id"]),
            version=row["version"], programme_id=strawberry.ID(row["programme_id"]),
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
        return [_outcome(r, str(self.project_id), self.as_of)
                for r in queries.outcomes(read_model(info).store, str(self.project_id), self.as_of)]

    @strawberry.field
    def milestones(self, info: Info) -> list[DeliveryMilestone]:
        return [_milestone(r, str(self.project_id), self.as_of)
                for r in queries.milestones(read_model(info).store, str(self.project_id), self.as_of)]

    @strawberry.field
    def progress(self, info: Info) -> list[ProgressPoint]:
        rows = queries.progress_series(read_model(info).store, str(self.project_id), self.as_of)
        return [ProgressPoint.from_row(r, self.as_of) for r in rows]

    @strawberry.field(description="How the project is doing at `on` (default: the day asked about, else today): "
                                  "the RAG, shortfall and direction its reports recorded, staleness at `on` and a "
                                  "forecast per outcome; null before any report.")
    def performance(self, info: Info, on: date | None = None) -> FigurePerformance | None:
        model = read_model(info)
        row = queries.project(model.store, str(self.project_id), self.as_of)
        judged = None if row is None else judging.project_performance(
            model.store, row, self.as_of, _on(on, self.as_of), judging.thresholds_on(model, _on(on, self.as_of),
                                                                                    self.as_of))
        return None if judged is None else FigurePerformance.of(judged)

    @strawberry.field(description="The reports of this project withdrawn or corrected as mistakes (by then).")
    def withdrawn_reports(self, info: Info) -> list[WithdrawnReport]:
        return [WithdrawnReport.from_row(r, self.as_of)
                for r in queries.progress_withdrawals(read_model(info).store, str(self.project_id), self.as_of)]

    @strawberry.field
    def interventions(self, info: Info) -> list[InterventionEntry]:
        return [InterventionEntry.from_row(r)
                for r in queries.interventions(read_model(info).store, self.as_of, project_id=str(self.project_id))]


def _outcome(r: dict[str, Any], project: str, when: When) -> DeliveryOutcome:
    return DeliveryOutcome(
        id=typed_id("DeliveryOutcome", (project, r["outcome_id"]), when), outcome_id=r["outcome_id"],
        tasking_id=strawberry.ID(r["tasking_id"]), metric=r["metric"], unit=r["unit"],
        baseline_value=Decimal(r["baseline_value"]), baseline_date=date.fromisoformat(r["baseline_date"]),
        target_value=Decimal(r["target_value"]), target_date=date.fromisoformat(r["target_date"]),
        weight=Decimal(r["weight"]), actual=Decimal(r["actual"]) if r["actual"] is not None else None,
        counting=bool(r["counting"]), credit=rollup.credit(r))


def _milestone(r: dict[str, Any], project: str, when: When) -> DeliveryMilestone:
    return DeliveryMilestone(id=typed_id("DeliveryMilestone", (project, r["milestone_id"]), when),
                             milestone_id=r["milestone_id"], title=r["title"], due_on=date.fromisoformat(r["due_on"]),
                             achieved_on=_day(r["achieved_on"]))


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


@strawberry.type(description="A value a target or share is expected to stand at on a date (a point of its profile).")
class ProfilePoint:
    on: date
    value: Decimal


def _profile(points: Sequence[tuple[date, Decimal]]) -> list[ProfilePoint]:
    return [ProfilePoint(on=d, value=v) for d, v in points]


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
    sector: str | None = strawberry.field(description="The UK SIC 2007 section (A to U) the share is to be delivered "
                                                      "in; null: any.")
    sector_name: str | None = strawberry.field(description="That section's name, e.g. Manufacturing.")
    profile: list[ProfilePoint] = strawberry.field(description=(
        "The part of the share expected delivered by each date, set by a decision of the theme group; empty: "
        "none, and the share is judged against its target's profile (or the straight line)."))
    numerator: Decimal | None = strawberry.field(default=None, description=(
        "For a ratio: its projects' numerators summed (each weighted), of which actual is the ratio to the "
        "denominator; null for a count or a level, or before any report."))
    denominator: Decimal | None = strawberry.field(default=None, description=(
        "For a ratio: its projects' denominators summed (each weighted); null otherwise."))
    target_id: strawberry.Private[str]
    as_of: strawberry.Private[When]

    @strawberry.field(description="How the share is doing at `on` (default: the day asked about, else today).")
    def performance(self, info: Info, on: date | None = None) -> FigurePerformance:
        judged = _performances(info, self.target_id, self.as_of, _on(on, self.as_of))
        return FigurePerformance.of(judged["shares"][str(self.tasking_id)])


@strawberry.type
class TargetRollup:
    """A county target: actual (summed over live district shares, for a count) against the target value."""

    target_id: strawberry.ID
    metric: str
    unit: str
    kind: str = strawberry.field(description="What the unit implies: count (additive: shares are shares of the "
                                             "improvement), level (a rate or percentage: never summed; each "
                                             "district against its own target level) or ratio (a numerator and a "
                                             "denominator, each summed over the districts, divided at the end).")
    target_value: Decimal
    deadline: date
    status: str
    tasked: Decimal | None = strawberry.field(description="The live shares summed; null for a level (never summed).")
    actual: Decimal | None = strawberry.field(description="The live shares' credited improvements summed; for a "
                                                          "ratio, their numerators summed over their denominators "
                                                          "summed; null for a level, which is never combined.")
    numerator: Decimal | None = strawberry.field(description="For a ratio: the live shares' numerators summed; null "
                                                             "otherwise, or before any report.")
    denominator: Decimal | None = strawberry.field(description="For a ratio: the live shares' denominators summed; "
                                                               "null otherwise.")
    percent_of_target: Decimal | None
    shares: list[ShareRollup]
    profile: list[ProfilePoint] = strawberry.field(description=(
        "The target's expected values by date (in its own scale), set by a decision; empty: the straight line."))
    over_allocated_by: Decimal | None = strawberry.field(description=(
        "How far the shares exceed the improvement the target asks, as tasking recorded it (TargetOverAllocated: "
        "a revision raced past a tasking), until a retasking, withdrawal or revision clears it; null when not."))
    as_of: strawberry.Private[When]
    intervals: strawberry.Private[tuple[tuple[date, ReportingInterval], ...]]

    @strawberry.field(description="How often the target's figures are to be reported, as in force at `on` (default: "
                                  "the day asked about, else today): monthly, quarterly (unless declared otherwise), "
                                  "half_yearly or annual. A figure is stale when its latest report is older.")
    def reporting_interval(self, on: date | None = None) -> str:
        return interval_at(self.intervals, _on(on, self.as_of)).value

    @strawberry.field(description="How the county target is doing at `on` (default: the day asked about, else "
                                  "today): its live shares' improvements summed, against the improvement it asks; "
                                  "null for a level (a rate, a percentage), which is never combined: see its shares.")
    def performance(self, info: Info, on: date | None = None) -> FigurePerformance | None:
        judged = _performances(info, str(self.target_id), self.as_of, _on(on, self.as_of))["total"]
        return None if judged is None else FigurePerformance.of(judged)

    @staticmethod
    def from_dict(row: dict[str, Any], as_of: When = None) -> TargetRollup:
        return TargetRollup(
            target_id=strawberry.ID(row["target_id"]), metric=row["metric"], unit=row["unit"], kind=row["kind"],
            target_value=row["target_value"], deadline=date.fromisoformat(row["deadline"]), status=row["status"],
            tasked=row["tasked"], actual=row["actual"], percent_of_target=row["percent_of_target"], as_of=as_of,
            profile=_profile(row["profile"]), over_allocated_by=row["over_allocated_by"],
            intervals=row["intervals"], numerator=row["numerator"], denominator=row["denominator"],
            shares=[ShareRollup(
                tasking_id=strawberry.ID(s["tasking_id"]), district=s["district"], lead_partner=s["lead_partner"],
                status=s["status"], share=s["share"], deadline=date.fromisoformat(s["deadline"]), actual=s["actual"],
                percent_of_share=s["percent_of_share"], target_id=row["target_id"], as_of=as_of,
                sector=s["sector"], sector_name=sector_name(s["sector"]), profile=_profile(s["profile"]),
                numerator=s["numerator"], denominator=s["denominator"],
                projects=[ProjectContribution(project_id=strawberry.ID(p["project_id"]), title=p["title"],
                                              lead_partner=p["lead_partner"], status=p["status"], rag=p["rag"],
                                              contribution=p["contribution"]) for p in s["projects"]],
            ) for s in row["shares"]])


SECTOR_ARGUMENT = ("A UK SIC 2007 section (A to U): only the outcomes delivered in that sector (by their own sector, "
                   "else their tasking's), the shares tasked in it or delivering them, each target's tasked summed "
                   "over the shares tasked in it and its actual over those outcomes.")


def _require_sector(sector: str | None) -> None:
    if problems := sector_problems("sector", sector):
        raise bad_input(problems[0]["message"], "sector")


def _performances(info: Info, target_id: str, when: When, on: date) -> dict[str, Any]:
    """A target's and its shares' performance at ``on``, worked out once per request for all who ask."""
    cache: dict[tuple[str, str, date], dict[str, Any]] = info.context.setdefault("delivery_performances", {})
    key = (target_id, repr(when), on)
    if key not in cache:
        model = read_model(info)
        found = rollup.performances(model.store, when, on, judging.thresholds_on(model, on, when), target_id)
        cache[key] = found[target_id]
    return cache[key]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Each district's programme with its projects by status and RAG.")
    def programmes(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                   district: str | None = None) -> list[ProgrammeSummary]:
        when = at(as_of, in_force_on)
        return [ProgrammeSummary(**{**r, "programme_id": strawberry.ID(r["programme_id"])})
                for r in queries.programmes(read_model(info).store, when, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Projects, by district and status (open, deferred, closed), as of a time.")
    def delivery_projects(self, info: Info, as_of: datetime | None = None,
                          in_force_on: IN_FORCE_ON = None, district: str | None = None,
                          status: str | None = None, rag: str | None = None) -> list[DeliveryProject]:
        when = at(as_of, in_force_on)
        rows = queries.projects(read_model(info).store, when, district, status)
        return [DeliveryProject.from_row(r, when) for r in rows if rag is None or r["rag"] == rag]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def delivery_project(self, info: Info, id: strawberry.ID,
                         as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> DeliveryProject | None:
        when = at(as_of, in_force_on)
        found: DeliveryProject | None = _project(info, str(id), when)
        return found

    @strawberry.field(permission_classes=[IsAuthenticated], description="How many projects in each status.")
    def projects_by_status(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                           district: str | None = None) -> list[StatusCount]:
        when = at(as_of, in_force_on)
        counts: dict[str, int] = defaultdict(int)
        for row in queries.projects(read_model(info).store, when, district):
            counts[row["status"]] += 1
        return [StatusCount(status=s, count=n) for s, n in sorted(counts.items())]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A project's progress reports by date, with RAG and direction of travel.")
    def progress_series(self, info: Info, project_id: strawberry.ID,
                        as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None) -> list[ProgressPoint]:
        when = at(as_of, in_force_on)
        rows = queries.progress_series(read_model(info).store, str(project_id), when)
        return [ProgressPoint.from_row(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Interventions by programme managers, with their decisions.")
    def interventions(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                      district: str | None = None) -> list[InterventionEntry]:
        when = at(as_of, in_force_on)
        return [InterventionEntry.from_row(r) for r in queries.interventions(read_model(info).store, when, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Milestones of open projects due before `on` (default: today) and not achieved.")
    def overdue_milestones(self, info: Info, on: date | None = None, as_of: datetime | None = None,
                           in_force_on: IN_FORCE_ON = None,
                           district: str | None = None) -> list[OverdueMilestone]:
        when = at(as_of, in_force_on)
        day = on or in_force_on or (as_of or datetime.now(UTC)).date()
        return [OverdueMilestone(project_id=strawberry.ID(r["project_id"]), project_title=r["project_title"],
                                 district=r["district"], lead_partner=r["lead_partner"],
                                 milestone_id=r["milestone_id"], title=r["title"],
                                 due_on=date.fromisoformat(r["due_on"]))
                for r in queries.overdue_milestones(read_model(info).store, day, when, district)]

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Actual against target: projects -> district shares -> county target.")
    def delivery_rollups(self, info: Info, as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                         target_id: strawberry.ID | None = None,
                         sector: Annotated[str | None, strawberry.argument(description=SECTOR_ARGUMENT)] = None
                         ) -> list[TargetRollup]:
        when = at(as_of, in_force_on)
        _require_sector(sector)
        rows = rollup.rollups(read_model(info).store, when, str(target_id) if target_id else None,
                       with_projects=_selects(info.selected_fields, "projects"), sector=sector)
        return [TargetRollup.from_dict(r, when) for r in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def delivery_rollup(self, info: Info, target_id: strawberry.ID,
                        as_of: datetime | None = None, in_force_on: IN_FORCE_ON = None,
                        sector: Annotated[str | None, strawberry.argument(description=SECTOR_ARGUMENT)] = None
                        ) -> TargetRollup | None:
        when = at(as_of, in_force_on)
        _require_sector(sector)
        rows = rollup.rollups(read_model(info).store, when, str(target_id),
                       with_projects=_selects(info.selected_fields, "projects"), sector=sector)
        return TargetRollup.from_dict(rows[0], when) if rows else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Projects by district, status and RAG, a page at a time.")
    def delivery_projects_connection(self, info: Info, first: FIRST = None, after: AFTER = None,
                                     last: LAST = None, before: BEFORE = None,
                                     as_of: datetime | None = None,
                                     in_force_on: IN_FORCE_ON = None, district: str | None = None,
                                     status: str | None = None, rag: str | None = None) -> Connection[DeliveryProject]:
        when = at(as_of, in_force_on)
        store = read_model(info).store
        listed = queries.projects_listing(store.postgres, when, district, status, rag)
        return paginate_listing(store, listed, lambda r: DeliveryProject.from_row(store.open_row(r), when),
                                first, after, last, before, sealed=True)  # only the page's rows are read and opened


def _selects(selections: Sequence[Any], name: str) -> bool:
    """Whether the query asks for a field called ``name`` anywhere below (through fragments too)."""
    return any(getattr(s, "name", None) == name or _selects(getattr(s, "selections", ()), name)
               for s in selections)


_project = loader_of("DeliveryProject", queries.project, DeliveryProject.from_row)
_PROJECT_QUERIES = ("deliveryProject", "deliveryProjects", "deliveryProjectsConnection")


def _part_loader(read: Callable[[ReadStore, str, str, When], dict[str, Any] | None],
                 make: Callable[[dict[str, Any], str, When], Any]) -> Callable[[Info, str, When], Any]:
    """How ``node`` reads a part of a project (an outcome, a milestone, a report) known by ``[project, key]``."""

    def load(info: Info, key: str, when: When) -> Any:
        parts = key_parts(key, 2)
        if parts is None:
            return None
        row = read(read_model(info).store, str(parts[0]), parts[1], when)
        return make(row, str(parts[0]), when) if row else None

    return load


register("DeliveryProject", _PROJECT_QUERIES, _project)
register("DeliveryOutcome", _PROJECT_QUERIES, _part_loader(
    lambda store, project, key, when: one(queries.outcomes(store, project, when), str(key), "outcome_id"),
    _outcome), own_ids=False)
register("DeliveryMilestone", _PROJECT_QUERIES, _part_loader(
    lambda store, project, key, when: one(queries.milestones(store, project, when), str(key), "milestone_id"),
    _milestone), own_ids=False)
register("ProgressPoint", (*_PROJECT_QUERIES, "progressSeries"), _part_loader(
    lambda store, project, key, when: one(queries.progress_series(store, project, when), str(key), "version"),
    lambda row, _, when: ProgressPoint.from_row(row, when)), own_ids=False)
register("WithdrawnReport", _PROJECT_QUERIES, _part_loader(
    lambda store, project, key, when: one(queries.progress_withdrawals(store, project, when), str(key), "version"),
    lambda row, _, when: WithdrawnReport.from_row(row, when)), own_ids=False)
register("InterventionEntry", (*_PROJECT_QUERIES, "interventions"), _part_loader(
    lambda store, project, key, when: one(queries.interventions(store, None, project_id=project), str(key),
                                          "version"),
    lambda row, _, when: InterventionEntry.from_row(row)), own_ids=False)
