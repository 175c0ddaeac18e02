"""Delivery: a district's programme and its projects, progress against the trajectory, RAG, interventions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic, register_topic

from shared.contracts import Actor, Decision
from shared.contracts import projects as facts  # the contracts, by module: the events take their names
from shared.contracts.projects import (
    DirectionOfTravel,
    InterventionKind,
    Milestone,
    Outcome,
    OutcomeValue,
    ProfilePoint,
    ProgressReportCorrected,
    ProgressReportWithdrawn,
    ProjectClosed,
    ProjectDeferred,
    ProjectOpened,
    ProjectResumed,
    Rag,
    RatioParts,
    ResourceCommitment,
    Risk,
    Standing,
    Submission,
    TaskingRef,
    programme_id,
    progress_reported_v1_to_v2,
)
from shared.errors import InvalidCommand, NotPermitted, RuleViolated
from shared.eventstore import AccountableAggregate, CommandContext
from shared.measures import MeasureKind, kind_of, parts_problems, ratio_value, value_problems
from shared.performance import (
    Figure,
    Performance,
    Thresholds,
    Trajectory,
    borrowed_profile,
    performance,
    profile_problems,
)
from shared.sectors import sector_problems


def __getattr__(name: str) -> Any:
    """Stores written while the programme was an aggregate name its events ``services.projects.domain:Programme.…``:
    that topic resolves to the stand-in that reads them (``services.projects.retired``), and nothing else does."""
    if name == "Programme":
        from services.projects.retired import RetiredProgramme

        return RetiredProgramme
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- RAG against the trajectory: the one rule of shared.performance -----------------------------------------------

RagThresholds = Thresholds
"""From the partnership definition (``rag.green_within_percent`` / ``rag.amber_within_percent``)."""


def trajectory_of(outcome: Outcome, profile: Sequence[tuple[date, Decimal]] = ()) -> Trajectory:
    """An outcome's trajectory: baseline to target, through its profile when it has one."""
    return Trajectory(baseline_date=outcome.baseline_date, baseline_value=outcome.baseline_value,
                      target_date=outcome.target_date, target_value=outcome.target_value, profile=tuple(profile))


def figures_of(outcomes: Sequence[Outcome], reports: Iterable[tuple[date, Mapping[str, Decimal]]],
               profiles: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None) -> list[Figure]:
    """A project's outcomes as figures to judge: each with the values standing at each report's date (the last
    report at a date standing for it) and the outcome's weight."""
    by_day: dict[date, Mapping[str, Decimal]] = {}
    for day, actuals in reports:
        by_day[day] = actuals
    profiles = profiles or {}
    return [Figure(trajectory=trajectory_of(o, profiles.get(o.id, ())), weight=o.weight,
                   reports=tuple((day, Decimal(a[o.id])) for day, a in sorted(by_day.items()) if o.id in a))
            for o in outcomes]


# -- what delivery knows of taskings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownTasking:
    """A tasking as the projects service learnt it from ``tasking.events``."""

    id: UUID
    version: int
    target_id: UUID
    district: str
    lead_partner: str
    share: Decimal
    unit: str
    deadline: date
    status: str

    @property
    def accepted(self) -> bool:
        """Accepted by the district (delivery may have started): projects may be opened against it."""
        return self.status in ("accepted", "in_delivery")


class ProjectStatus(StrEnum):
    OPEN = "open"
    DEFERRED = "deferred"
    CLOSED = "closed"


def _problem(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message}


def _refuse_if(problems: list[dict[str, str]], what: str) -> None:
    if problems:
        raise InvalidCommand(f"{what}: " + " ".join(p["message"] for p in problems), problems)


def _require_decision(decision: Decision | None, what: str, *, reference: bool = False) -> Decision:
    if decision is None or not decision.reason.strip():
        raise InvalidCommand(f"{what} needs a decision with a reason.",
                             [_problem("decision", "Say which body decided, when and why.")])
    if reference and not (decision.reference or "").strip():
        raise InvalidCommand(f"{what} needs a decision reference.",
                             [_problem("decision.reference", "Give the decision's reference (e.g. minute number).")])
    return decision


def validate_outcomes(outcomes: Sequence[Outcome], taskings: Mapping[UUID, KnownTasking]) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if not outcomes:
        problems.append(_problem("outcomes", "A project needs at least one outcome with a measure."))
    seen: set[str] = set()
    for index, outcome in enumerate(outcomes):
        where = f"outcomes.{index}"
        if not outcome.id.strip() or outcome.id in seen:
            problems.append(_problem(f"{where}.id", "Each outcome needs its own identifier."))
        seen.add(outcome.id)
        tasking = taskings.get(outcome.tasking_id)
        if tasking is None:
            problems.append(_problem(f"{where}.tasking_id", "An outcome must count towards one of the project's "
                                                            "taskings."))
        elif outcome.unit != tasking.unit:
            problems.append(_problem(f"{where}.unit", f"The tasking is measured in {tasking.unit}; the outcome "
                                                      f"contributing to it must be too."))
        for name in ("baseline_value", "target_value"):
            problems += value_problems(f"{where}.{name}", outcome.unit, getattr(outcome, name),
                                       name.replace("_", " "))
        if outcome.target_value == outcome.baseline_value:
            problems.append(_problem(f"{where}.target_value", "The target must differ from the baseline."))
        if outcome.target_date <= outcome.baseline_date:
            problems.append(_problem(f"{where}.target_date", "The target date must come after the baseline date."))
        if not Decimal(0) < outcome.weight <= Decimal(1):
            problems.append(_problem(f"{where}.weight", "A weight is the part credited to the tasking: "
                                                        "more than 0, at most 1."))
        problems += sector_problems(f"{where}.sector", outcome.sector)
    return problems


def _validate_milestone(milestone: Milestone, where: str) -> list[dict[str, str]]:
    problems = []
    if not milestone.id.strip():
        problems.append(_problem(f"{where}.id", "A milestone needs an identifier."))
    if not milestone.title.strip():
        problems.append(_problem(f"{where}.title", "A milestone needs a title."))
    return problems


def _validate_resources(commitment: ResourceCommitment, where: str) -> list[dict[str, str]]:
    problems = []
    if not commitment.organisation.strip():
        problems.append(_problem(f"{where}.organisation", "Name the partner committing the resources."))
    if commitment.money_gbp < 0 or commitment.staff_days < 0:
        problems.append(_problem(where, "Money and staff days cannot be negative."))
    elif commitment.money_gbp == 0 and commitment.staff_days == 0:
        problems.append(_problem(where, "Commit some money or some staff days."))
    return problems


def _validate_risk(risk: Risk, where: str) -> list[dict[str, str]]:
    problems = []
    if not risk.id.strip() or not risk.description.strip():
        problems.append(_problem(f"{where}.description", "A risk needs an identifier and a description."))
    for name, value in (("likelihood", risk.likelihood), ("impact", risk.impact)):
        if not 1 <= value <= 5:
            problems.append(_problem(f"{where}.{name}", f"The {name} is scored from 1 to 5."))
    if not risk.owner.strip():
        problems.append(_problem(f"{where}.owner", "A risk needs an owner."))
    if not risk.mitigation.strip():
        problems.append(_problem(f"{where}.mitigation", "Say how the risk is mitigated."))
    return problems


@dataclass
class Report:
    """One progress report as the project keeps it (in the order recorded)."""

    sequence: int
    reported_on: date
    actuals: dict[str, Decimal]
    rag: Rag
    shortfall_percent: Decimal
    direction: DirectionOfTravel | None = None
    withdrawn: bool = False
    """Withdrawn or corrected as a mistake: it no longer stands (kept, as everything recorded is)."""
    parts: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Each ratio outcome's numerator and denominator standing at the date (its value in ``actuals``)."""


Parts = Mapping[str, tuple[Decimal, Decimal]]
"""A ratio outcome's numerator and denominator, by outcome id, as reported."""


def _parts(parts: Iterable[RatioParts]) -> dict[str, tuple[Decimal, Decimal]]:
    return {p.outcome_id: (Decimal(p.numerator), Decimal(p.denominator)) for p in parts}


def _ratio_parts(parts: Parts) -> tuple[RatioParts, ...]:
    return tuple(RatioParts(k, n, d) for k, (n, d) in sorted(parts.items()))


def _latest(reports: Iterable[Report]) -> Report | None:
    """The report standing last: by date, then order recorded."""
    return max(reports, key=lambda r: (r.reported_on, r.sequence), default=None)


def _standing(report: Report | None) -> Standing:
    if report is None:
        return Standing(reported_on=None, actuals=(), rag=None, shortfall_percent=None)
    return Standing(reported_on=report.reported_on,
                    actuals=tuple(OutcomeValue(k, v) for k, v in sorted(report.actuals.items())), rag=report.rag,
                    shortfall_percent=report.shortfall_percent, direction=report.direction,
                    parts=_ratio_parts(report.parts))


@dataclass
class Contribution:
    """The project's contribution to one tasking: still counting or closed, and the tasking version seen last."""

    tasking_id: UUID
    upstream_version: int
    open: bool = True
    share: Decimal | None = None


# -- the project ----------------------------------------------------------------------------------------------------



def _stand(project: Any, report: facts.ProgressReported | facts.ProgressReportCorrected) -> None:
    """A report (or the correction of one) becomes the project's latest, and a RAG override gives way to it."""
    project.reports.append(Report(
        sequence=len(project.reports), reported_on=report.reported_on,
        actuals={v.outcome_id: Decimal(v.value) for v in report.actuals}, rag=Rag(report.rag),
        shortfall_percent=Decimal(report.shortfall_percent),
        direction=DirectionOfTravel(report.direction) if report.direction else None, parts=_parts(report.parts)))
    project.rag_override = None
    project.rag_override_reason = None

class Project(AccountableAggregate):
    """Delivers (part of) one or more accepted taskings of its district: outcomes, milestones, progress, RAG."""

    class Opened(AccountableAggregate.Created, ProjectOpened):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Outcomes stored before v2 name no sector: each reads with none (its tasking's), the default."""

    def __init__(self, *, programme_id: UUID, district: str, title: str, lead_partner: str, project_manager: str,
                 taskings: Iterable[TaskingRef], outcomes: Iterable[Outcome], milestones: Iterable[Milestone] = (),
                 resources: Iterable[ResourceCommitment] = (), risks: Iterable[Risk] = (),
                 actor: Actor, correlation_id: str, decision: Decision | None) -> None:
        self.programme_id = programme_id
        self.district = district
        self.title = title
        self.lead_partner = lead_partner
        self.project_manager = project_manager
        self.contributions: dict[UUID, Contribution] = {
            UUID(str(ref.tasking_id)): Contribution(UUID(str(ref.tasking_id)), ref.version) for ref in taskings
        }
        self.outcomes: dict[str, Outcome] = {o.id: o for o in outcomes}
        self.milestones: dict[str, Milestone] = {m.id: m for m in milestones}
        self.milestones_achieved: dict[str, date] = {}
        self.resources: list[ResourceCommitment] = list(resources)
        self.risks: dict[str, Risk] = {r.id: r for r in risks}
        self.reports: list[Report] = []
        self.profiles: dict[str, tuple[tuple[date, Decimal], ...]] = {}
        """Each outcome's profile (expected values at dates), once one was set; none: the straight line."""
        self.share_profiles: dict[UUID, tuple[Decimal, tuple[tuple[date, Decimal], ...]]] = {}
        """Each delivered share's profile as tasking said it (the share, its points): an outcome without a profile
        of its own follows its share's."""
        self.share_profile_versions: dict[UUID, int] = {}
        """The tasking version of each share profile taken into account (a redelivery changes nothing)."""
        self.rag_override: Rag | None = None
        self.rag_override_reason: str | None = None
        self.status = ProjectStatus.OPEN
        self.flagged: str | None = None
        self.interventions = 0
        self.closure: tuple[str, str] | None = None

    # -- opening ----------------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, context: CommandContext, *, id: UUID, district: str, title: str, lead_partner: str,
             project_manager: str, taskings: Sequence[KnownTasking], outcomes: Sequence[Outcome],
             milestones: Sequence[Milestone] = (), resources: Sequence[ResourceCommitment] = (),
             risks: Sequence[Risk] = (), decision: Decision | None = None) -> Project:
        """Open a project against accepted taskings of its district. Its programme is the district's: derived from the
        district (``programme_id``), so openings in one district never contend for a shared aggregate."""
        problems: list[dict[str, str]] = []
        if not title.strip():
            problems.append(_problem("title", "A project needs a title."))
        if not lead_partner.strip():
            problems.append(_problem("lead_partner", "Name the lead partner made responsible."))
        if not project_manager.strip():
            problems.append(_problem("project_manager", "Name the project manager."))
        if not taskings:
            problems.append(_problem("tasking_ids", "A project delivers at least one accepted tasking."))
        for tasking in taskings:
            if not tasking.accepted:
                problems.append(_problem("tasking_ids", f"Tasking {tasking.id} is {tasking.status} (version "
                                                        f"{tasking.version}), not accepted: delivery is planned only "
                                                        "against accepted taskings."))
            if tasking.district != district:
                problems.append(_problem("tasking_ids", f"Tasking {tasking.id} is {tasking.district}'s, not "
                                                        f"{district}'s."))
        by_id = {t.id: t for t in taskings}
        problems += validate_outcomes(outcomes, by_id)
        if len({m.id for m in milestones}) != len(milestones):
            problems.append(_problem("milestones", "Each milestone needs its own identifier."))
        for index, milestone in enumerate(milestones):
            problems += _validate_milestone(milestone, f"milestones.{index}")
        for index, commitment in enumerate(resources):
            problems += _validate_resources(commitment, f"resources.{index}")
        if len({r.id for r in risks}) != len(risks):
            problems.append(_problem("risks", "Each risk needs its own identifier."))
        for index, risk in enumerate(risks):
            problems += _validate_risk(risk, f"risks.{index}")
        _refuse_if(problems, "The project cannot be opened")
        return cls._create(
            cls.Opened, id=id, actor=context.actor, correlation_id=context.correlation_id, decision=decision,
            programme_id=programme_id(district), district=district, title=title.strip(),
            lead_partner=lead_partner.strip(), project_manager=project_manager.strip(),
            taskings=tuple(TaskingRef(t.id, t.version) for t in taskings), outcomes=tuple(outcomes),
            milestones=tuple(milestones), resources=tuple(resources), risks=tuple(risks),
        )

    # -- state ------------------------------------------------------------------------------------------------------
    @property
    def standing_reports(self) -> list[Report]:
        """The reports that stand: every one recorded but those withdrawn or corrected."""
        return [r for r in self.reports if not r.withdrawn]

    @property
    def latest_report(self) -> Report | None:
        return _latest(self.standing_reports)

    @property
    def derived_rag(self) -> Rag | None:
        latest = self.latest_report
        return None if latest is None else latest.rag

    @property
    def rag(self) -> Rag | None:
        """The RAG shown: a manual override until the next report, else the one derived from the latest report."""
        return self.rag_override or self.derived_rag

    def actuals(self) -> dict[str, Decimal]:
        latest = self.latest_report
        return dict(latest.actuals) if latest else {}

    def missed_milestones(self, today: date) -> list[str]:
        return sorted(m.id for m in self.milestones.values()
                      if m.due_on < today and m.id not in self.milestones_achieved)

    def _require_open(self, what: str) -> None:
        if self.status is ProjectStatus.CLOSED:
            raise RuleViolated(f"The project is closed: it accepts no more {what}.")

    def _require_active(self, what: str) -> None:
        self._require_open(what)
        if self.status is ProjectStatus.DEFERRED:
            raise RuleViolated(f"The project is deferred: resume it by a decision before recording {what}.")

    # -- progress ---------------------------------------------------------------------------------------------------
    class ProgressReported(AccountableAggregate.Event, facts.ProgressReported):
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Reports stored before v2 came through the API (bulk uploads came with v2)."""
            state["submitted_via"] = progress_reported_v1_to_v2({})["submitted_via"]

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Reports stored before v3 carry no ratio's parts: no outcome could be a ratio."""
            state["parts"] = []

        def apply(self, aggregate: Any) -> None:
            _stand(aggregate, self)

    def _report_problems(self, *, reported_on: date, values: Mapping[str, Decimal], narrative: str,
                         today: date, parts: Parts | None = None) -> list[dict[str, str]]:
        problems: list[dict[str, str]] = []
        parts = parts or {}
        if not values and not parts:
            problems.append(_problem("values", "Report the actual value of at least one outcome."))
        if reported_on > today:
            problems.append(_problem("reported_on", f"A report is dated at most today ({today.isoformat()}): "
                                                    f"values cannot stand at {reported_on.isoformat()} yet."))
        for outcome_id, value in values.items():
            outcome = self.outcomes.get(outcome_id)
            if outcome is None:
                problems.append(_problem(f"values.{outcome_id}", "The project has no such outcome."))
            elif kind_of(outcome.unit) is MeasureKind.RATIO:
                problems.append(_problem(f"values.{outcome_id}", f"{outcome_id} is a ratio ({outcome.unit}): report "
                                                                 "its numerator and denominator in parts, not its "
                                                                 "value, so that a roll-up can sum each."))
            else:
                problems += value_problems(f"values.{outcome_id}", outcome.unit, Decimal(value),
                                           f"value of {outcome_id}")
        for outcome_id, (numerator, denominator) in parts.items():
            outcome = self.outcomes.get(outcome_id)
            if outcome is None:
                problems.append(_problem(f"parts.{outcome_id}", "The project has no such outcome."))
            elif kind_of(outcome.unit) is not MeasureKind.RATIO:
                problems.append(_problem(f"parts.{outcome_id}", f"{outcome_id} is counted in {outcome.unit}, not a "
                                                                "ratio: report its value in values."))
            else:
                problems += parts_problems(f"parts.{outcome_id}", outcome.unit, Decimal(numerator),
                                           Decimal(denominator), f"value of {outcome_id}")
        if not narrative.strip():
            problems.append(_problem("narrative", "Say in a few words what happened since the last report."))
        return problems

    def _require_lead_partner(self, context: CommandContext) -> None:
        # The partnership's rule, not an access check: the one lead partner made responsible for delivery answers
        # for its progress, by any channel (one report, a bulk upload, a withdrawal or correction). Who may act
        # for that partner is ``permissions``'; that the reporter is the lead partner is the partnership's.
        if context.actor.organisation != self.lead_partner:
            raise NotPermitted(f"Only the lead partner ({self.lead_partner}) reports this project's progress.")

    def _derive(self, standing: Sequence[Report], *, reported_on: date, values: Mapping[str, Decimal],
                thresholds: RagThresholds, parts: Parts | None = None) -> dict[str, Any]:
        """A report's derived fields against the reports that stand: what stood at that date (by date, then order
        recorded) with the new values over it, and its RAG, shortfall and direction (``shared.performance``, against
        the outcomes' profiles, the report before it the one compared with). A ratio's value is its parts' ratio in
        its unit (``shared.measures``), its parts carried beside it."""
        base = _latest(r for r in standing if r.reported_on <= reported_on)
        actuals = dict(base.actuals) if base else {}
        standing_parts = dict(base.parts) if base else {}
        reported = {k: Decimal(v) for k, v in values.items()}
        for outcome_id, (numerator, denominator) in (parts or {}).items():
            standing_parts[outcome_id] = (Decimal(numerator), Decimal(denominator))
            reported[outcome_id] = ratio_value(self.outcomes[outcome_id].unit, Decimal(numerator),
                                               Decimal(denominator))
        values = reported
        actuals.update(reported)
        earlier = [(r.reported_on, r.actuals) for r in sorted(standing, key=lambda r: (r.reported_on, r.sequence))
                   if r.reported_on < reported_on]
        judged = self.judge([*earlier, (reported_on, actuals)], reported_on, thresholds)
        return dict(values=tuple(OutcomeValue(k, Decimal(v)) for k, v in sorted(values.items())),
                    actuals=tuple(OutcomeValue(k, v) for k, v in sorted(actuals.items())), rag=judged.rag,
                    shortfall_percent=judged.shortfall_percent, direction=judged.direction,
                    parts=_ratio_parts(standing_parts))

    def judge(self, reports: Iterable[tuple[date, Mapping[str, Decimal]]], on: date, thresholds: RagThresholds,
              profiles: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None) -> Performance:
        """The project's performance at ``on`` from ``reports`` (date, actuals), against its outcomes' profiles
        (or ``profiles`` instead): the one rule of ``shared.performance``."""
        return performance(figures_of(list(self.outcomes.values()), reports, self.effective_profiles(
            self.profiles if profiles is None else profiles)), on, thresholds)

    def effective_profiles(self, own: Mapping[str, Sequence[tuple[date, Decimal]]],
                           shares: Mapping[UUID, tuple[Decimal, tuple[tuple[date, Decimal], ...]]] | None = None
                           ) -> dict[str, tuple[tuple[date, Decimal], ...]]:
        """Each outcome's most specific profile: its own, else its share's carried onto it (the same fraction of
        the change planned at each date), else none (the straight line)."""
        shares = self.share_profiles if shares is None else shares
        found: dict[str, tuple[tuple[date, Decimal], ...]] = {}
        for outcome in self.outcomes.values():
            if own.get(outcome.id):
                found[outcome.id] = tuple(own[outcome.id])
            elif outcome.tasking_id in shares:
                share, points = shares[outcome.tasking_id]
                source = Trajectory(baseline_date=outcome.baseline_date, baseline_value=Decimal(0),
                                    target_date=outcome.target_date, target_value=share, profile=points)
                found[outcome.id] = borrowed_profile(source, outcome.baseline_value, outcome.target_value)
        return found

    def report_progress(self, context: CommandContext, *, reported_on: date, values: Mapping[str, Decimal],
                        narrative: str, thresholds: RagThresholds, today: date, correction: bool = False,
                        correction_reason: str | None = None, submitted_via: Submission = Submission.API,
                        parts: Parts | None = None) -> None:
        """Only the lead partner reports; a report dated before the last one must be a correction with a reason.

        A report is never dated after ``today`` (the partnership's calendar): values cannot stand at a date not yet
        come, and a report so dated would make every real report after it "go back in time". A value is never below
        zero in a unit that counts, nor outside the range its unit declares (a percentage 0-100, a rate per 1,000
        0-1,000: ``shared.measures``). A ratio outcome is reported by its ``parts`` (numerator and denominator), never
        by its value."""
        self._require_active("progress")
        self._require_lead_partner(context)
        problems = self._report_problems(reported_on=reported_on, values=values, narrative=narrative, today=today,
                                         parts=parts)
        if correction and not (correction_reason or "").strip():
            problems.append(_problem("correction_reason", "A correction needs a reason."))
        _refuse_if(problems, "The progress report cannot be accepted")
        latest = self.latest_report
        if latest is not None and reported_on < latest.reported_on and not correction:
            raise RuleViolated(
                f"The last report is dated {latest.reported_on.isoformat()}; a report dated "
                f"{reported_on.isoformat()} goes back in time. Mark it as a correction, with a reason, if it "
                "corrects an earlier report, or withdraw the report of "
                f"{latest.reported_on.isoformat()} if it was a mistake.")
        self._happened(
            self.ProgressReported, context, reported_on=reported_on, narrative=narrative.strip(),
            **self._derive(self.standing_reports, reported_on=reported_on, values=values, thresholds=thresholds,
                           parts=parts),
            correction=correction, correction_reason=(correction_reason or "").strip() or None,
            submitted_via=submitted_via,
        )

    def _reports_dated(self, reported_on: date, what: str) -> list[Report]:
        mistaken = [r for r in self.standing_reports if r.reported_on == reported_on]
        if not mistaken:
            dates = ", ".join(sorted({r.reported_on.isoformat() for r in self.standing_reports})) or "none"
            raise InvalidCommand(f"No report dated {reported_on.isoformat()} stands to {what}.",
                                 [_problem("reported_on", f"Name the date of a report that stands: {dates}.")])
        return mistaken

    class ReportWithdrawn(AccountableAggregate.Event, ProgressReportWithdrawn):
        def apply(self, aggregate: Any) -> None:
            for report in aggregate.reports:
                if report.reported_on == self.reported_on:
                    report.withdrawn = True
            aggregate.rag_override = None  # the RAG shown is derived again, as after a report
            aggregate.rag_override_reason = None

    def withdraw_report(self, context: CommandContext, *, reported_on: date, reason: str) -> None:
        """The lead partner withdraws a mistaken report (every report standing at that date), with a reason: the
        timeline is restored as if it had not been made, so a report after the last that stands is accepted."""
        self._require_open("changes to its progress")
        self._require_lead_partner(context)
        self._reports_dated(reported_on, "withdraw")
        if not reason.strip():
            raise InvalidCommand("A withdrawal needs a reason.",
                                 [_problem("reason", "Say why the report was a mistake.")])
        remaining = [r for r in self.standing_reports if r.reported_on != reported_on]
        self._happened(self.ReportWithdrawn, context, reported_on=reported_on, reason=reason.strip(),
                       standing=_standing(_latest(remaining)))

    class ReportCorrected(AccountableAggregate.Event, ProgressReportCorrected):
        def apply(self, aggregate: Any) -> None:
            for report in aggregate.reports:
                if report.reported_on == self.corrected_report_on:
                    report.withdrawn = True
            _stand(aggregate, self)

    def correct_report(self, context: CommandContext, *, corrected_report_on: date, reported_on: date,
                       values: Mapping[str, Decimal], narrative: str, reason: str, thresholds: RagThresholds,
                       today: date, submitted_via: Submission = Submission.API, parts: Parts | None = None) -> None:
        """The lead partner supersedes a mistaken report by a correction, with a reason: the report of
        ``corrected_report_on`` no longer stands, and the corrected values stand at ``reported_on`` (any date up to
        today: a report dated three years ahead is corrected to the date it meant)."""
        self._require_active("progress")
        self._require_lead_partner(context)
        self._reports_dated(corrected_report_on, "correct")
        problems = self._report_problems(reported_on=reported_on, values=values, narrative=narrative, today=today,
                                         parts=parts)
        if not reason.strip():
            problems.append(_problem("reason", "Say why the report was wrong."))
        _refuse_if(problems, "The correction cannot be accepted")
        remaining = [r for r in self.standing_reports if r.reported_on != corrected_report_on]
        derived = self._derive(remaining, reported_on=reported_on, values=values, thresholds=thresholds, parts=parts)
        corrected = Report(sequence=len(self.reports), reported_on=reported_on,
                           actuals={v.outcome_id: v.value for v in derived["actuals"]}, rag=derived["rag"],
                           shortfall_percent=derived["shortfall_percent"], direction=derived["direction"],
                           parts=_parts(derived["parts"]))
        self._happened(self.ReportCorrected, context, corrected_report_on=corrected_report_on,
                       reason=reason.strip(), reported_on=reported_on, narrative=narrative.strip(), **derived,
                       submitted_via=submitted_via, standing=_standing(_latest([*remaining, corrected])))

    class OutcomeProfiled(AccountableAggregate.Event, facts.OutcomeProfiled):
        def apply(self, aggregate: Any) -> None:
            profile = tuple((p.on, Decimal(p.value)) for p in self.profile)
            if profile:
                aggregate.profiles[self.outcome_id] = profile
            else:
                aggregate.profiles.pop(self.outcome_id, None)
            latest = aggregate.latest_report
            if latest is not None and self.standing.rag is not None:
                latest.rag = Rag(self.standing.rag)
                latest.shortfall_percent = Decimal(self.standing.shortfall_percent or 0)
                latest.direction = DirectionOfTravel(self.standing.direction) if self.standing.direction else None
            aggregate.rag_override = None  # the RAG shown is derived again, as after a report
            aggregate.rag_override_reason = None

    class ShareProfileAdopted(AccountableAggregate.Event, facts.ShareProfileAdopted):
        def apply(self, aggregate: Any) -> None:
            points = tuple((p.on, Decimal(p.value)) for p in self.profile)
            if points:
                aggregate.share_profiles[self.tasking_id] = (Decimal(self.share), points)
            else:
                aggregate.share_profiles.pop(self.tasking_id, None)
            aggregate.share_profile_versions[self.tasking_id] = self.upstream_version
            latest = aggregate.latest_report
            if latest is not None and self.standing.rag is not None:
                latest.rag = Rag(self.standing.rag)
                latest.shortfall_percent = Decimal(self.standing.shortfall_percent or 0)
                latest.direction = DirectionOfTravel(self.standing.direction) if self.standing.direction else None
                aggregate.rag_override = None  # the RAG shown is derived again, as after a report
                aggregate.rag_override_reason = None

    def react_to_share_profile(self, context: CommandContext, *, tasking_id: UUID, version: int, share: Decimal,
                               profile: Sequence[tuple[date, Decimal]], thresholds: RagThresholds,
                               decision: Decision | None) -> bool:
        """A delivered share's profile changed: take it into account (its outcomes without a profile of their own
        follow it) and derive the latest report's RAG again. Idempotent on the tasking's (id, version)."""
        if self.status is ProjectStatus.CLOSED or tasking_id not in self.contributions or \
                self.share_profile_versions.get(tasking_id, 0) >= version:
            return False
        points = tuple(sorted((day, Decimal(value)) for day, value in profile))
        shares = {**self.share_profiles, tasking_id: (Decimal(share), points)} if points else \
            {k: v for k, v in self.share_profiles.items() if k != tasking_id}
        self._happened(self.ShareProfileAdopted, context, decision=decision, tasking_id=tasking_id,
                       upstream_version=version, share=Decimal(share),
                       profile=tuple(ProfilePoint(day, value) for day, value in points),
                       standing=self._standing_against(self.effective_profiles(self.profiles, shares), thresholds))
        return True

    def _standing_against(self, profiles: Mapping[str, Sequence[tuple[date, Decimal]]],
                          thresholds: RagThresholds) -> Standing:
        """The latest report that stands, judged again against ``profiles`` (each outcome's, as effective)."""
        latest = self.latest_report
        if latest is None:
            return _standing(None)
        ordered = sorted(self.standing_reports, key=lambda r: (r.reported_on, r.sequence))
        judged = performance(figures_of(list(self.outcomes.values()), [(r.reported_on, r.actuals) for r in ordered],
                                        profiles), latest.reported_on, thresholds)
        return Standing(reported_on=latest.reported_on,
                        actuals=tuple(OutcomeValue(k, v) for k, v in sorted(latest.actuals.items())),
                        rag=judged.rag, shortfall_percent=judged.shortfall_percent, direction=judged.direction)

    def profile_outcome(self, context: CommandContext, *, outcome_id: str, profile: Sequence[tuple[date, Decimal]],
                        thresholds: RagThresholds) -> None:
        """Give an outcome a profile (expected values at dates between its baseline and target date), or remove it
        (empty): the latest report's RAG, shortfall and direction are derived again against it and recorded."""
        self._require_open("changes")
        outcome = self.outcomes.get(outcome_id)
        if outcome is None:
            raise InvalidCommand("No such outcome.", [_problem("outcome_id", "The project has no such outcome.")])
        given = tuple((day, Decimal(value)) for day, value in profile)  # problems name the points as given
        problems = profile_problems(trajectory_of(outcome, given))
        points = tuple(sorted(given))
        for n, (_, value) in enumerate(given):
            problems += value_problems(f"profile[{n}].value", outcome.unit, value, "expected value")
        _refuse_if(problems, "The profile cannot be set")
        profiles = {**self.profiles, outcome_id: points} if points else \
            {k: v for k, v in self.profiles.items() if k != outcome_id}
        latest = self.latest_report
        standing = _standing(None)
        if latest is not None:
            ordered = sorted(self.standing_reports, key=lambda r: (r.reported_on, r.sequence))
            judged = self.judge([(r.reported_on, r.actuals) for r in ordered], latest.reported_on, thresholds,
                                profiles)
            standing = Standing(reported_on=latest.reported_on,
                                actuals=tuple(OutcomeValue(k, v) for k, v in sorted(latest.actuals.items())),
                                rag=judged.rag, shortfall_percent=judged.shortfall_percent, direction=judged.direction,
                                parts=_ratio_parts(latest.parts))
        self._happened(self.OutcomeProfiled, context, outcome_id=outcome_id,
                       profile=tuple(ProfilePoint(day, value) for day, value in points), standing=standing)

    class RagOverridden(AccountableAggregate.Event, facts.RagOverridden):
        def apply(self, aggregate: Any) -> None:
            aggregate.rag_override = Rag(self.rag)
            aggregate.rag_override_reason = self.reason

    def override_rag(self, context: CommandContext, *, rag: Rag, reason: str, decision: Decision | None = None) -> None:
        """A manual RAG needs a reason (and, where one was taken, carries the decision); it holds until the next
        progress report."""
        self._require_open("changes")
        if not reason.strip():
            raise InvalidCommand("A manual RAG needs a reason.", [_problem("reason", "Say why the RAG is overridden.")])
        self._happened(self.RagOverridden, context, decision=decision, rag=rag, derived_rag=self.derived_rag,
                       reason=reason.strip())

    # -- milestones, resources, risks -------------------------------------------------------------------------------
    class MilestoneAdded(AccountableAggregate.Event, facts.MilestoneAdded):
        def apply(self, aggregate: Any) -> None:
            aggregate.milestones[self.milestone.id] = self.milestone

    def add_milestone(self, context: CommandContext, milestone: Milestone) -> None:
        self._require_open("milestones")
        problems = _validate_milestone(milestone, "milestone")
        if milestone.id in self.milestones:
            problems.append(_problem("milestone.id", "The project already has a milestone with that identifier."))
        _refuse_if(problems, "The milestone cannot be added")
        self._happened(self.MilestoneAdded, context, milestone=milestone)

    class MilestoneAchieved(AccountableAggregate.Event, facts.MilestoneAchieved):
        def apply(self, aggregate: Any) -> None:
            aggregate.milestones_achieved[self.milestone_id] = self.achieved_on

    def achieve_milestone(self, context: CommandContext, *, milestone_id: str, achieved_on: date) -> None:
        self._require_active("milestones")
        if milestone_id not in self.milestones:
            raise InvalidCommand("No such milestone.", [_problem("milestone_id", "The project has no such milestone.")])
        if milestone_id in self.milestones_achieved:
            raise RuleViolated(f"Milestone {milestone_id} was already achieved on "
                               f"{self.milestones_achieved[milestone_id].isoformat()}.")
        self._happened(self.MilestoneAchieved, context, milestone_id=milestone_id, achieved_on=achieved_on)

    class ResourcesCommitted(AccountableAggregate.Event, facts.ResourcesCommitted):
        def apply(self, aggregate: Any) -> None:
            aggregate.resources.append(self.commitment)

    def commit_resources(self, context: CommandContext, commitment: ResourceCommitment) -> None:
        self._require_open("resources")
        _refuse_if(_validate_resources(commitment, "commitment"), "The resources cannot be committed")
        self._happened(self.ResourcesCommitted, context, commitment=commitment)

    class RiskRecorded(AccountableAggregate.Event, facts.RiskRecorded):
        def apply(self, aggregate: Any) -> None:
            aggregate.risks[self.risk.id] = self.risk

    def record_risk(self, context: CommandContext, risk: Risk) -> None:
        """Record a new risk, or re-assess one already recorded under the same identifier."""
        self._require_open("risks")
        _refuse_if(_validate_risk(risk, "risk"), "The risk cannot be recorded")
        self._happened(self.RiskRecorded, context, risk=risk)

    # -- interventions, deferral, closure ---------------------------------------------------------------------------
    class InterventionRecorded(AccountableAggregate.Event, facts.InterventionRecorded):
        def apply(self, aggregate: Any) -> None:
            aggregate.interventions += 1
            aggregate.flagged = None

    def intervene(self, context: CommandContext, *, kind: InterventionKind, description: str,
                  decision: Decision | None, today: date, due_on: date | None = None,
                  owner: str | None = None) -> None:
        """The programme manager intervenes when the project is red, missed a milestone or its tasking changed,
        saying by when it is to have worked and who carries it out (the lead partner unless another is named)."""
        self._require_open("interventions")
        decision = _require_decision(decision, "An intervention", reference=True)
        if not description.strip():
            raise InvalidCommand("Describe the intervention.", [_problem("description", "Say what is being done.")])
        if due_on is not None and due_on <= decision.decided_on:
            raise InvalidCommand("An intervention is due after the decision that took it.", [_problem(
                "due_on", f"Give a date after {decision.decided_on.isoformat()}, the decision's date.")])
        triggers = [f"missed-milestone:{m}" for m in self.missed_milestones(today)]
        if self.rag is Rag.RED:
            triggers.insert(0, "red")
        if self.flagged:
            triggers.append("tasking-changed")
        if not triggers:
            raise RuleViolated("An intervention is for a project that is red, missed a milestone or whose tasking "
                               "changed; this one is on track.")
        self._happened(self.InterventionRecorded, context, decision=decision, kind=kind,
                       description=description.strip(), triggers=tuple(triggers), due_on=due_on,
                       owner=None if owner == self.lead_partner else owner)

    class Deferred(AccountableAggregate.Event, ProjectDeferred):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.DEFERRED

    def defer(self, context: CommandContext, *, decision: Decision | None) -> None:
        """Only a decision with a reason defers a project (e.g. resources redirected); never silently."""
        self._require_open("changes")
        decision = _require_decision(decision, "Deferring a project")
        if self.status is ProjectStatus.DEFERRED:
            raise RuleViolated("The project is already deferred.")
        self._happened(self.Deferred, context, decision=decision, reason=decision.reason)

    class Resumed(AccountableAggregate.Event, ProjectResumed):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.OPEN

    def resume(self, context: CommandContext, *, decision: Decision | None) -> None:
        self._require_open("changes")
        decision = _require_decision(decision, "Resuming a project")
        if self.status is not ProjectStatus.DEFERRED:
            raise RuleViolated("Only a deferred project can be resumed.")
        self._happened(self.Resumed, context, decision=decision, reason=decision.reason)

    class Closed(AccountableAggregate.Event, ProjectClosed):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ProjectStatus.CLOSED
            aggregate.closure = (self.outcome_achieved, self.lessons)

    def close(self, context: CommandContext, *, outcome_achieved: str, lessons: str,
              decision: Decision | None) -> None:
        """Close with the outcome achieved and the lessons learnt; a closed project accepts no more progress."""
        self._require_open("changes")
        decision = _require_decision(decision, "Closing a project")
        problems = []
        if not outcome_achieved.strip():
            problems.append(_problem("outcome_achieved", "Say what the project achieved."))
        if not lessons.strip():
            problems.append(_problem("lessons", "Record the lessons learnt."))
        _refuse_if(problems, "The project cannot be closed")
        self._happened(self.Closed, context, decision=decision, outcome_achieved=outcome_achieved.strip(),
                       lessons=lessons.strip(),
                       final_actuals=tuple(OutcomeValue(k, v) for k, v in sorted(self.actuals().items())))

    # -- contributions to taskings (upstream changes) ---------------------------------------------------------------
    class ContributionRepointed(AccountableAggregate.Event, facts.ContributionRepointed):
        def apply(self, aggregate: Any) -> None:
            source = UUID(str(self.from_tasking_id))
            target = UUID(str(self.to_tasking_id))
            old = aggregate.contributions.pop(source, None)
            aggregate.contributions[target] = Contribution(target, self.to_version, True, Decimal(self.share))
            if source != target:
                if old is not None:
                    # The old tasking's version stays known, so a late redelivery of its change is still a duplicate.
                    aggregate.contributions[source] = Contribution(source, old.upstream_version, False, old.share)
                aggregate.outcomes = {
                    k: (o if UUID(str(o.tasking_id)) != source else _repointed(o, target))
                    for k, o in aggregate.outcomes.items()}
            if self.upstream_version is not None:
                aggregate.flagged = self.reason
            else:
                aggregate.flagged = None

    class ContributionClosed(AccountableAggregate.Event, facts.ContributionClosed):
        def apply(self, aggregate: Any) -> None:
            tasking_id = UUID(str(self.tasking_id))
            old = aggregate.contributions.get(tasking_id)
            aggregate.contributions[tasking_id] = Contribution(tasking_id, self.upstream_version, False,
                                                               old.share if old else None)
            aggregate.flagged = self.reason

    def _reacted(self, tasking_id: UUID, version: int) -> bool:
        contribution = self.contributions.get(tasking_id)
        return contribution is None or contribution.upstream_version >= version

    def react_to_retasking(self, context: CommandContext, *, tasking_id: UUID, version: int, district: str,
                           lead_partner: str, share: Decimal, deadline: date, reason: str,
                           decision: Decision | None) -> bool:
        """Within the district, the contribution follows the retasked share; to another district, it closes.

        Idempotent on the tasking's (id, version): a version already taken into account changes nothing.
        Returns whether the project changed.
        """
        if self.status is ProjectStatus.CLOSED or self._reacted(tasking_id, version):
            return False
        if district != self.district:
            self._happened(self.ContributionClosed, context, decision=decision, tasking_id=tasking_id,
                           upstream_version=version,
                           reason=f"Tasking retasked to {district}: {reason}")
        else:
            self._happened(self.ContributionRepointed, context, decision=decision, from_tasking_id=tasking_id,
                           to_tasking_id=tasking_id, to_version=version, share=share, deadline=deadline,
                           lead_partner=lead_partner, reason=f"Tasking retasked: {reason}",
                           upstream_version=version)
        return True

    def react_to_withdrawal(self, context: CommandContext, *, tasking_id: UUID, version: int, reason: str,
                            decision: Decision | None) -> bool:
        """A withdrawn tasking's contribution is closed and the project flagged. Idempotent like retasking."""
        if self.status is ProjectStatus.CLOSED or self._reacted(tasking_id, version):
            return False
        self._happened(self.ContributionClosed, context, decision=decision, tasking_id=tasking_id,
                       upstream_version=version, reason=f"Tasking withdrawn: {reason}")
        return True

    def repoint_contribution(self, context: CommandContext, *, from_tasking_id: UUID, to: KnownTasking,
                             reason: str, decision: Decision | None) -> None:
        """The programme manager moves the outcomes of one tasking to another accepted tasking of the district."""
        self._require_open("changes")
        decision = _require_decision(decision, "Re-pointing a contribution")
        problems = []
        if from_tasking_id not in self.contributions:
            problems.append(_problem("from_tasking_id", "The project does not deliver that tasking."))
        if to.id == from_tasking_id or (to.id in self.contributions and self.contributions[to.id].open):
            problems.append(_problem("to_tasking_id", "The project already delivers that tasking."))
        if not to.accepted:
            problems.append(_problem("to_tasking_id", f"Tasking {to.id} is {to.status}, not accepted."))
        if to.district != self.district:
            problems.append(_problem("to_tasking_id", f"Tasking {to.id} is {to.district}'s, not {self.district}'s."))
        for outcome in self.outcomes.values():
            if UUID(str(outcome.tasking_id)) == from_tasking_id and outcome.unit != to.unit:
                problems.append(_problem("to_tasking_id", f"Outcome {outcome.id} is in {outcome.unit}; the "
                                                          f"tasking is in {to.unit}."))
        _refuse_if(problems, "The contribution cannot be re-pointed")
        self._happened(self.ContributionRepointed, context, decision=decision, from_tasking_id=from_tasking_id,
                       to_tasking_id=to.id, to_version=to.version, share=to.share, deadline=to.deadline,
                       lead_partner=to.lead_partner, reason=reason.strip() or decision.reason, upstream_version=None)


def _repointed(outcome: Outcome, tasking_id: UUID) -> Outcome:
    return Outcome(id=outcome.id, tasking_id=tasking_id, metric=outcome.metric, unit=outcome.unit,
                   baseline_value=outcome.baseline_value, baseline_date=outcome.baseline_date,
                   target_value=outcome.target_value, target_date=outcome.target_date, weight=outcome.weight,
                   sector=outcome.sector)



# -- renamed events: stored ones keep their topics ---------------------------------------------------------------

RENAMED_EVENTS: dict[str, type[AccountableAggregate.Event]] = {
    "ProgressWasReported": Project.ProgressReported, "ReportWasWithdrawn": Project.ReportWithdrawn,
    "ReportWasCorrected": Project.ReportCorrected, "RagWasOverridden": Project.RagOverridden,
    "MilestoneWasAdded": Project.MilestoneAdded, "MilestoneWasAchieved": Project.MilestoneAchieved,
    "ResourcesWereCommitted": Project.ResourcesCommitted, "RiskWasRecorded": Project.RiskRecorded,
    "InterventionWasRecorded": Project.InterventionRecorded, "WasDeferred": Project.Deferred,
    "WasResumed": Project.Resumed, "WasClosed": Project.Closed,
    "ContributionWasRepointed": Project.ContributionRepointed, "ContributionWasClosed": Project.ContributionClosed,
}
"""The events' names before they were past-tense facts in one style (``Project.Deferred``, as ``Tasking.Accepted``).
A stored event names its class's topic, and the audit chain hashes that topic as stored: the old topics resolve to
the renamed classes, so stores written before replay, verify and publish as they did; new events take the new
topics."""

for _old, _renamed in RENAMED_EVENTS.items():
    register_topic(f"{__name__}:Project.{_old}", _renamed)


def topics_of(event_class: type[AccountableAggregate.Event]) -> list[str]:
    """Every topic stored events of ``event_class`` may carry (its own, and its name's before a rename): a query of
    the notification log by topic must ask for all of them."""
    return [get_topic(event_class), *(f"{__name__}:Project.{old}" for old, renamed in RENAMED_EVENTS.items()
                                      if renamed is event_class)]
