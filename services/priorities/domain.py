"""The strategy: SCS and county-strategy objectives, SMART targets, district chapters and priorities, local evidence
and the SCS review cycle. Pure: no I/O; every refusal is a typed error a partnership officer can read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from shared.contracts import Actor, Decision
from shared.contracts.personal import SealedPersonalData
from shared.contracts.priorities import (
    ChapterPriorityAgreed,
    ChapterPriorityRetired,
    DistrictChapterOpened,
    EvidenceAccepted,
    EvidenceFigure,
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
    PriorityStatus,
    ScsReviewClosed,
    ScsReviewOpened,
    ScsReviewPriorityResolved,
    StrategyLevel,
    TargetProfiled,
    TargetReportingIntervalSet,
    TargetRetired,
    TargetRevised,
    TargetSet,
    chapter_id,
    review_id,
)
from shared.contracts.projects import ProfilePoint
from shared.errors import InvalidCommand, RuleViolated
from shared.eventstore import AccountableAggregate, CommandContext
from shared.measures import value_problems
from shared.performance import DEFAULT_INTERVAL, ReportingInterval, Trajectory, interval_at, profile_problems

MAX_TITLE = 300
MAX_TEXT = 4000

Problems = list[dict[str, str]]


def _refuse(what: str, problems: Problems) -> InvalidCommand:
    return InvalidCommand(f"{what}: " + " ".join(p["message"] for p in problems), problems)


def _require_decision(decision: Decision | None, what: str) -> Decision:
    """Changes to agreed things are decisions: which body, when, and why."""
    if decision is None:
        raise InvalidCommand(f"{what} is a decision: say which body decided it, when, and why.",
                             [{"field": "decision", "message": "A decision with a reason is required."}])
    if not decision.reason.strip():
        raise InvalidCommand(f"{what} needs the reason for the decision.",
                             [{"field": "decision.reason", "message": "Give the reason for the decision."}])
    return decision


def _text_problems(field: str, value: str, missing: str, limit: int = MAX_TITLE) -> Problems:
    if not value.strip():
        return [{"field": field, "message": missing}]
    if len(value) > limit:
        return [{"field": field, "message": f"Keep the {field.replace('_', ' ')} under {limit} characters."}]
    return []


# -- objectives ------------------------------------------------------------------------------------------------------


class Objective(AccountableAggregate):
    """A statement in the SCS ("a skilled and prosperous economy") or in a county strategy under an SCS objective."""

    class Added(AccountableAggregate.Created, ObjectiveAdded):
        pass

    class Reworded(AccountableAggregate.Event, ObjectiveReworded):
        def apply(self, aggregate: Objective) -> None:
            aggregate.title = self.title

    class Retired(AccountableAggregate.Event, ObjectiveRetired):
        def apply(self, aggregate: Objective) -> None:
            aggregate.retired = True

    def __init__(self, *, title: str, level: StrategyLevel, strategy: str, parent_id: UUID | None,
                 actor: Actor, decision: Decision | None) -> None:
        self.title = title
        self.level = StrategyLevel(level)
        self.strategy = strategy
        self.parent_id = parent_id
        self.added_by = actor
        self.decision = decision
        self.retired = False

    @classmethod
    def add(cls, context: CommandContext, *, title: str, level: StrategyLevel, strategy: str,
            parent: Objective | None = None, decision: Decision | None = None, id: UUID | None = None) -> Objective:
        """Add an objective: an SCS objective sits at the top of the tree; a county-strategy objective sits under an
        SCS objective or under another objective of the same county strategy."""
        title = title.strip()
        strategy = strategy.strip()
        problems = _text_problems("title", title, "An objective needs a statement.")
        if not strategy:
            problems.append({"field": "strategy", "message": "Name the strategy the objective belongs to."})
        if level is StrategyLevel.SCS and parent is not None:
            problems.append({"field": "parent_id", "message": "An SCS objective is the top of the tree: no parent."})
        if level is StrategyLevel.COUNTY_STRATEGY:
            if parent is None:
                problems.append({"field": "parent_id",
                                 "message": "A county-strategy objective must sit under an SCS objective."})
            elif parent.level is StrategyLevel.COUNTY_STRATEGY and parent.strategy != strategy:
                problems.append({"field": "parent_id",
                                 "message": f"The parent belongs to the {parent.strategy}, not the {strategy}."})
        if parent is not None and parent.retired:
            problems.append({"field": "parent_id", "message": f"The objective '{parent.title}' is retired."})
        if problems:
            raise _refuse("The objective cannot be added", problems)
        return cls._create(
            cls.Added,
            id=id,
            actor=context.actor,
            correlation_id=context.correlation_id,
            decision=decision,
            title=title,
            level=level,
            strategy=strategy,
            parent_id=None if parent is None else parent.id,
        )

    def reword(self, context: CommandContext, *, title: str, decision: Decision | None) -> None:
        """Reword the statement, by a decision with a reason; the old wording stays in the history."""
        decision = _require_decision(decision, "Rewording an objective")
        self._ensure_not_retired("reworded")
        title = title.strip()
        problems = _text_problems("title", title, "An objective needs a statement.")
        if not problems and title == self.title:
            problems.append({"field": "title", "message": "The new wording is the same as the current one."})
        if problems:
            raise _refuse("The objective cannot be reworded", problems)
        self._happened(self.Reworded, context, decision=decision, title=title, previous_title=self.title)

    def retire(self, context: CommandContext, *, decision: Decision | None) -> None:
        """Retire the objective (never deleted), by a decision with a reason."""
        decision = _require_decision(decision, "Retiring an objective")
        self._ensure_not_retired("retired again")
        self._happened(self.Retired, context, decision=decision, reason=decision.reason)

    def _ensure_not_retired(self, what: str) -> None:
        if self.retired:
            raise RuleViolated(f"The objective '{self.title}' is retired and cannot be {what}.")


# -- SMART targets ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetTerms:
    """What makes a target SMART: a metric and unit, a baseline with its date, a target value by a deadline, the
    data source it is measured from and the organisation that owns it."""

    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    deadline: date
    data_source: str
    owner_organisation: str


@dataclass(frozen=True)
class TargetRules:
    """What the partnership definition allows: its units and its partner organisations."""

    units: frozenset[str]
    organisations: frozenset[str]


def target_problems(terms: TargetTerms, rules: TargetRules) -> Problems:
    """Every reason the terms are not a SMART target, one message per problem (empty when they are)."""
    problems = _text_problems("metric", terms.metric, "Name the metric the target measures.")
    unit_known = terms.unit in rules.units
    if not terms.unit.strip():
        problems.append({"field": "unit", "message": "Give the unit the metric is counted in."})
    elif not unit_known:
        known = ", ".join(sorted(rules.units))
        problems.append({"field": "unit",
                         "message": f"'{terms.unit}' is not a unit of this partnership; use one of: {known}."})
    values_are_numbers = True
    for field, value in (("baseline_value", terms.baseline_value), ("target_value", terms.target_value)):
        name = field.replace("_value", "")
        if not value.is_finite():
            values_are_numbers = False
            problems.append({"field": field, "message": f"The {name} must be a number."})
        else:
            problems += value_problems(field, terms.unit, value, name)
    if values_are_numbers and terms.target_value == terms.baseline_value:
        problems.append({"field": "target_value",
                         "message": f"The target equals the baseline ({terms.baseline_value}): "
                                    "a target must say what should change."})
    if terms.deadline <= terms.baseline_date:
        problems.append({"field": "deadline",
                         "message": f"The deadline ({terms.deadline.isoformat()}) must be after the baseline date "
                                    f"({terms.baseline_date.isoformat()})."})
    problems += _text_problems("data_source", terms.data_source,
                               "Name the data source the target will be measured from.")
    if not terms.owner_organisation.strip():
        problems.append({"field": "owner_organisation", "message": "Name the organisation that owns the target."})
    elif terms.owner_organisation not in rules.organisations:
        problems.append({"field": "owner_organisation",
                         "message": f"'{terms.owner_organisation}' is not a partner organisation of this partnership."})
    return problems


def _stripped(terms: TargetTerms) -> TargetTerms:
    return TargetTerms(
        metric=terms.metric.strip(), unit=terms.unit.strip(), baseline_value=terms.baseline_value,
        baseline_date=terms.baseline_date, target_value=terms.target_value, deadline=terms.deadline,
        data_source=terms.data_source.strip(), owner_organisation=terms.owner_organisation.strip(),
    )


class Target(AccountableAggregate):
    """A SMART target on an objective, e.g. 6,000 new private-sector jobs by 31 March 2016."""

    class Set(AccountableAggregate.Created, TargetSet):
        pass

    class Revised(AccountableAggregate.Event, TargetRevised):
        def apply(self, aggregate: Target) -> None:
            aggregate.terms = TargetTerms(
                metric=self.metric, unit=self.unit, baseline_value=self.baseline_value,
                baseline_date=self.baseline_date, target_value=self.target_value, deadline=self.deadline,
                data_source=self.data_source, owner_organisation=self.owner_organisation,
            )

    class Retired(AccountableAggregate.Event, TargetRetired):
        def apply(self, aggregate: Target) -> None:
            aggregate.retired = True

    class Profiled(AccountableAggregate.Event, TargetProfiled):
        def apply(self, aggregate: Target) -> None:
            aggregate.profile = tuple((p.on, Decimal(p.value)) for p in self.profile)

    class ReportingIntervalSet(AccountableAggregate.Event, TargetReportingIntervalSet):
        def apply(self, aggregate: Target) -> None:
            aggregate.reporting_interval = ReportingInterval(self.reporting_interval)
            aggregate.intervals = (*aggregate.intervals, (self.in_force_from, aggregate.reporting_interval))

    def __init__(self, *, objective_id: UUID, metric: str, unit: str, baseline_value: Decimal, baseline_date: date,
                 target_value: Decimal, deadline: date, data_source: str, owner_organisation: str) -> None:
        self.objective_id = objective_id
        self.terms = TargetTerms(
            metric=metric, unit=unit, baseline_value=baseline_value, baseline_date=baseline_date,
            target_value=target_value, deadline=deadline, data_source=data_source,
            owner_organisation=owner_organisation,
        )
        self.retired = False
        self.profile: tuple[tuple[date, Decimal], ...] = ()
        """Expected values at dates between the baseline and the deadline; empty: the straight line."""
        self.reporting_interval = DEFAULT_INTERVAL
        self.intervals: tuple[tuple[date, ReportingInterval], ...] = ()
        """Each interval declared, with the first date it judges (before any: the default)."""

    @classmethod
    def set(cls, context: CommandContext, *, objective: Objective, terms: TargetTerms, rules: TargetRules,
            decision: Decision | None = None, id: UUID | None = None,
            reporting_interval: ReportingInterval = DEFAULT_INTERVAL) -> Target:
        """Set a target on an objective; refused, with a message per problem, unless it is SMART. A reporting
        interval other than the default is declared with it, in force from the baseline date."""
        terms = _stripped(terms)
        problems = target_problems(terms, rules)
        if objective.retired:
            problems.append({"field": "objective_id",
                             "message": f"The objective '{objective.title}' is retired: no new target may be set."})
        if problems:
            raise _refuse("The target is not SMART", problems)
        target = cls._create(cls.Set, id=id, actor=context.actor, correlation_id=context.correlation_id,
                             decision=decision, objective_id=objective.id, **vars(terms))
        if reporting_interval is not DEFAULT_INTERVAL:
            target._happened(cls.ReportingIntervalSet, context, decision=decision,
                             reporting_interval=ReportingInterval(reporting_interval),
                             previous_interval=DEFAULT_INTERVAL, in_force_from=terms.baseline_date)
        return target

    def interval_at(self, on: date) -> ReportingInterval:
        """The reporting interval in force at ``on``: the last declared from then or before, else the default."""
        return interval_at(self.intervals, on)

    def set_profile(self, context: CommandContext, *, profile: Sequence[tuple[date, Decimal]],
                    decision: Decision | None) -> None:
        """Give the target a profile (expected values at dates between its baseline and deadline), or remove it
        (empty), by a decision with a reason: a target's trajectory is part of what was agreed."""
        decision = _require_decision(decision, "Profiling a target")
        if self.retired:
            raise RuleViolated(f"The target '{self.terms.metric}' is retired and cannot be profiled.")
        given = tuple((day, Decimal(value)) for day, value in profile)  # problems name the points as given
        terms = self.terms
        problems = profile_problems(Trajectory(baseline_date=terms.baseline_date, baseline_value=terms.baseline_value,
                                               target_date=terms.deadline, target_value=terms.target_value,
                                               profile=given))
        for n, (_, value) in enumerate(given):
            problems += value_problems(f"profile[{n}].value", terms.unit, value, "expected value")
        points = tuple(sorted(given))
        if not problems and points == self.profile:
            problems.append({"field": "profile", "message": "Nothing would change: the profile is the same."})
        if problems:
            raise _refuse("The profile cannot be set", problems)
        self._happened(self.Profiled, context, decision=decision,
                       profile=tuple(ProfilePoint(day, value) for day, value in points),
                       previous_profile=tuple(ProfilePoint(day, value) for day, value in self.profile))

    def set_reporting_interval(self, context: CommandContext, *, reporting_interval: ReportingInterval,
                               in_force_from: date, decision: Decision | None) -> None:
        """Change how often the target's figures are to be reported, from a date, by a decision with a reason."""
        decision = _require_decision(decision, "Changing a target's reporting interval")
        if self.retired:
            raise RuleViolated(f"The target '{self.terms.metric}' is retired: its reporting interval stays.")
        interval = ReportingInterval(reporting_interval)
        previous = self.interval_at(in_force_from)
        problems: Problems = []
        if in_force_from < self.terms.baseline_date or in_force_from > self.terms.deadline:
            problems.append({"field": "in_force_from", "message": (
                f"The interval applies from a date between the baseline ({self.terms.baseline_date.isoformat()}) "
                f"and the deadline ({self.terms.deadline.isoformat()}).")})
        elif self.intervals and in_force_from < self.intervals[-1][0]:
            problems.append({"field": "in_force_from", "message": (
                f"An interval was declared from {self.intervals[-1][0].isoformat()}: a change applies from then "
                "or later.")})
        elif interval is previous:
            problems.append({"field": "reporting_interval",
                             "message": f"The interval is already {interval.value.replace('_', '-')}."})
        if problems:
            raise _refuse("The reporting interval cannot be changed", problems)
        self._happened(self.ReportingIntervalSet, context, decision=decision, reporting_interval=interval,
                       previous_interval=previous, in_force_from=in_force_from)

    def revise(self, context: CommandContext, *, terms: TargetTerms, rules: TargetRules,
               decision: Decision | None, tasked: Decimal = Decimal(0)) -> None:
        """Re-baseline or change the target, by a decision with a reason; the old values stay in the history.

        Never below what is ``tasked`` of it (the districts' shares that count against it, as tasking said them):
        to go lower, the theme group first retasks under a decision, then the target is revised citing it."""
        decision = _require_decision(decision, "Revising a target")
        if self.retired:
            raise RuleViolated(f"The target '{self.terms.metric}' is retired and cannot be revised.")
        terms = _stripped(terms)
        problems = target_problems(terms, rules)
        if not problems and terms == self.terms:
            problems.append({"field": "target_value", "message": "Nothing would change: the terms are the same."})
        if problems:
            raise _refuse("The revised target is not SMART", problems)
        if terms.target_value < tasked:
            raise RuleViolated(
                f"The districts are tasked with {tasked} {terms.unit} of '{terms.metric}'; the target cannot be "
                f"revised to {terms.target_value}, below that. Retask the shares first (a decision of the theme "
                "group), then revise the target citing it.",
                target_value=str(terms.target_value), tasked=str(tasked),
                over_by=str(tasked - terms.target_value))
        self._happened(self.Revised, context, decision=decision, **vars(terms))

    def retire(self, context: CommandContext, *, decision: Decision | None) -> None:
        """Retire the target (never deleted): no new tasking may be issued against it."""
        decision = _require_decision(decision, "Retiring a target")
        if self.retired:
            raise RuleViolated(f"The target '{self.terms.metric}' is already retired.")
        self._happened(self.Retired, context, decision=decision, reason=decision.reason)


# -- district chapters and priorities -------------------------------------------------------------------------------


class DistrictPriority(AccountableAggregate):
    """A high-level issue a district partnership proposes for its place, linked to an objective and backed by
    evidence; its board agrees or rejects it; agreed, it takes one of the district's limited places."""

    class Proposed(AccountableAggregate.Created, PriorityProposed):
        pass

    class Agreed(AccountableAggregate.Event, PriorityAgreed):
        def apply(self, aggregate: DistrictPriority) -> None:
            aggregate.status = PriorityStatus.AGREED

    class Rejected(AccountableAggregate.Event, PriorityRejected):
        def apply(self, aggregate: DistrictPriority) -> None:
            aggregate.status = PriorityStatus.REJECTED

    class Retired(AccountableAggregate.Event, PriorityRetired):
        def apply(self, aggregate: DistrictPriority) -> None:
            aggregate.status = PriorityStatus.RETIRED

    class Reconfirmed(AccountableAggregate.Event, PriorityReconfirmed):
        def apply(self, aggregate: DistrictPriority) -> None:
            aggregate.reconfirmed_in = self.review_id

    def __init__(self, *, district: str, title: str, rationale: str, objective_id: UUID,
                 evidence_refs: tuple[str, ...]) -> None:
        self.district = district
        self.title = title
        self.rationale = rationale
        self.objective_id = objective_id
        self.evidence_refs = tuple(evidence_refs)
        self.status = PriorityStatus.PROPOSED
        self.reconfirmed_in: UUID | None = None

    @classmethod
    def propose(cls, context: CommandContext, *, district: str, title: str,
                rationale: str, objective: Objective, evidence_refs: Iterable[str] = (),
                id: UUID | None = None) -> DistrictPriority:
        """A district coordinator proposes a priority for their own district, linked to a live objective."""
        title, rationale = title.strip(), rationale.strip()
        refs = tuple(ref.strip() for ref in evidence_refs if ref.strip())
        problems = _text_problems("title", title, "A priority needs a title.")
        problems += _text_problems("rationale", rationale, "Say why the priority matters for the place.", MAX_TEXT)
        if objective.retired:
            problems.append({"field": "objective_id", "message": f"The objective '{objective.title}' is retired."})
        if problems:
            raise _refuse("The priority cannot be proposed", problems)
        return cls._create(cls.Proposed, id=id, actor=context.actor, correlation_id=context.correlation_id,
                           district=district, title=title, rationale=rationale, objective_id=objective.id,
                           evidence_refs=refs)

    def reject(self, context: CommandContext, *, decision: Decision | None) -> None:
        decision = _require_decision(decision, "Rejecting a priority")
        self._ensure_status(PriorityStatus.PROPOSED, "rejected")
        self._happened(self.Rejected, context, decision=decision, district=self.district, reason=decision.reason)

    def _ensure_status(self, status: PriorityStatus, what: str) -> None:
        if self.status is not status:
            raise RuleViolated(f"The priority '{self.title}' is {self.status.value}: only a {status.value} "
                               f"priority can be {what}.")


class DistrictChapter(AccountableAggregate):
    """A district's chapter of the SCS: it keeps the district's agreed priorities, at most N at once. The limit is
    enforced here, in one aggregate, so two boards agreeing at once cannot both take the last place."""

    class Opened(AccountableAggregate.Created, DistrictChapterOpened):
        pass

    class PriorityAgreed(AccountableAggregate.Event, ChapterPriorityAgreed):
        def apply(self, aggregate: DistrictChapter) -> None:
            aggregate.agreed[self.priority_id] = self.title

    class PriorityRetired(AccountableAggregate.Event, ChapterPriorityRetired):
        def apply(self, aggregate: DistrictChapter) -> None:
            aggregate.agreed.pop(self.priority_id, None)

    def __init__(self, *, district: str) -> None:
        self.district = district
        self.agreed: dict[UUID, str] = {}

    @classmethod
    def open(cls, context: CommandContext, *, district: str) -> DistrictChapter:
        return cls._create(cls.Opened, id=chapter_id(district), actor=context.actor,
                           correlation_id=context.correlation_id, district=district)


def agree_priority(context: CommandContext, priority: DistrictPriority, chapter: DistrictChapter, *,
                   decision: Decision | None, limit: int) -> None:
    """The district's board agrees a proposed priority; refused while the district already keeps ``limit``."""
    decision = _require_decision(decision, "Agreeing a priority")
    priority._ensure_status(PriorityStatus.PROPOSED, "agreed")
    assert chapter.district == priority.district
    if len(chapter.agreed) >= limit:
        names = "; ".join(f"'{title}'" for title in chapter.agreed.values())
        raise RuleViolated(
            f"The {chapter.district} district partnership already keeps {len(chapter.agreed)} agreed priorities, "
            f"the most it may keep at once ({limit}): {names}. Retire one before agreeing another.",
            limit=limit,
            current_priorities=[{"id": str(pid), "title": title} for pid, title in chapter.agreed.items()],
        )
    chapter._happened(chapter.PriorityAgreed, context, decision=decision, priority_id=priority.id,
                      title=priority.title)
    priority._happened(priority.Agreed, context, decision=decision, district=priority.district)


def retire_priority(context: CommandContext, priority: DistrictPriority, chapter: DistrictChapter,
                    review: ScsReview | None, *, decision: Decision | None) -> None:
    """Retire an agreed priority: its place in the district's chapter is free again; in an open SCS review the
    retirement resolves it."""
    decision = _require_decision(decision, "Retiring a priority")
    priority._ensure_status(PriorityStatus.AGREED, "retired")
    priority._happened(priority.Retired, context, decision=decision, district=priority.district,
                       reason=decision.reason)
    chapter._happened(chapter.PriorityRetired, context, decision=decision, priority_id=priority.id,
                      reason=decision.reason)
    if review is not None and review.awaits(priority.id):
        review.resolve(context, priority, outcome="retired")


def reconfirm_priority(context: CommandContext, priority: DistrictPriority, review: ScsReview, *,
                       decision: Decision | None) -> None:
    """In an open SCS review, the district partnership re-confirms an agreed priority."""
    decision = _require_decision(decision, "Re-confirming a priority")
    priority._ensure_status(PriorityStatus.AGREED, "re-confirmed")
    if not review.is_open:
        raise RuleViolated(f"SCS review {review.number} is closed: nothing can be re-confirmed in it.")
    if not review.awaits(priority.id):
        raise RuleViolated(f"The priority '{priority.title}' is not awaiting re-confirmation in SCS review "
                           f"{review.number}.")
    priority._happened(priority.Reconfirmed, context, decision=decision, district=priority.district,
                       review_id=review.id)
    review.resolve(context, priority, outcome="reconfirmed")


# -- SCS review cycle ------------------------------------------------------------------------------------------------


class ScsReview(AccountableAggregate):
    """A review of the SCS: every priority agreed when it opened must be re-confirmed or retired before it closes."""

    class Opened(AccountableAggregate.Created, ScsReviewOpened):
        pass

    class PriorityResolved(AccountableAggregate.Event, ScsReviewPriorityResolved):
        def apply(self, aggregate: ScsReview) -> None:
            aggregate.outstanding.pop(self.priority_id, None)

    class Closed(AccountableAggregate.Event, ScsReviewClosed):
        def apply(self, aggregate: ScsReview) -> None:
            aggregate.is_open = False

    def __init__(self, *, number: int, outstanding: tuple[UUID, ...]) -> None:
        self.number = number
        self.outstanding: dict[UUID, None] = dict.fromkeys(UUID(str(p)) for p in outstanding)
        self.is_open = True

    @classmethod
    def open(cls, context: CommandContext, *, number: int, previous: ScsReview | None,
             agreed_priorities: Iterable[UUID], decision: Decision | None) -> ScsReview:
        """Open review ``number`` (one open at a time) over the priorities agreed now."""
        decision = _require_decision(decision, "Opening an SCS review")
        if previous is not None and previous.is_open:
            raise RuleViolated(f"SCS review {previous.number} is still open: close it before opening another.")
        return cls._create(cls.Opened, id=review_id(number), actor=context.actor,
                           correlation_id=context.correlation_id, decision=decision, number=number,
                           outstanding=tuple(agreed_priorities))

    def awaits(self, priority_id: UUID) -> bool:
        return self.is_open and priority_id in self.outstanding

    def resolve(self, context: CommandContext, priority: DistrictPriority, *, outcome: str) -> None:
        self._happened(self.PriorityResolved, context, priority_id=priority.id, district=priority.district,
                       outcome=outcome)

    def close(self, context: CommandContext, *, decision: Decision | None) -> None:
        """Close the review, only when every priority under it has been re-confirmed or retired."""
        decision = _require_decision(decision, "Closing an SCS review")
        if not self.is_open:
            raise RuleViolated(f"SCS review {self.number} is already closed.")
        if self.outstanding:
            raise RuleViolated(
                f"SCS review {self.number} cannot close: {len(self.outstanding)} agreed priorit"
                f"{'y is' if len(self.outstanding) == 1 else 'ies are'} still to be re-confirmed or retired.",
                outstanding=[str(p) for p in self.outstanding],
            )
        self._happened(self.Closed, context, decision=decision)


# -- local evidence --------------------------------------------------------------------------------------------------


class EvidenceStatus:
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NOTED = "noted"


class Evidence(AccountableAggregate):
    """Local data or a consultation outcome a district submits (bottom up); the county sifts it."""

    class Submitted(AccountableAggregate.Created, EvidenceSubmitted):
        pass

    class Accepted(AccountableAggregate.Event, EvidenceAccepted):
        def apply(self, aggregate: Evidence) -> None:
            aggregate.status = EvidenceStatus.ACCEPTED

    class Noted(AccountableAggregate.Event, EvidenceNoted):
        def apply(self, aggregate: Evidence) -> None:
            aggregate.status = EvidenceStatus.NOTED

    def __init__(self, *, district: str, title: str) -> None:
        self.district = district
        self.title = title
        self.status = EvidenceStatus.SUBMITTED

    @classmethod
    def submit(cls, context: CommandContext, *, district: str, title: str,
               summary: str, source: str, evidence_date: date, figures: Iterable[EvidenceFigure] = (),
               objective_ids: Iterable[UUID] = (), priority_ids: Iterable[UUID] = (),
               contact: SealedPersonalData | None = None, id: UUID | None = None) -> Evidence:
        """A district coordinator submits evidence for their own district, attached to objectives or priorities."""
        title, summary, source = title.strip(), summary.strip(), source.strip()
        objectives, priorities, figures = tuple(objective_ids), tuple(priority_ids), tuple(figures)
        problems = _text_problems("title", title, "Evidence needs a title.")
        problems += _text_problems("summary", summary, "Summarise what the evidence shows.", MAX_TEXT)
        problems += _text_problems("source", source, "Say where the evidence comes from.")
        if not objectives and not priorities:
            problems.append({"field": "objective_ids",
                             "message": "Attach the evidence to at least one objective or priority."})
        for n, figure in enumerate(figures):
            if not figure.label.strip():
                problems.append({"field": f"figures.{n}.label", "message": "Say what the figure counts."})
            if not figure.value.is_finite():
                problems.append({"field": f"figures.{n}.value", "message": "A figure must be a number."})
        if problems:
            raise _refuse("The evidence cannot be submitted", problems)
        return cls._create(cls.Submitted, id=id, actor=context.actor, correlation_id=context.correlation_id,
                           district=district, title=title, summary=summary, source=source,
                           evidence_date=evidence_date, figures=figures, objective_ids=objectives,
                           priority_ids=priorities, contact=contact)

    def accept(self, context: CommandContext, *, decision: Decision | None = None) -> None:
        """The county accepts the evidence into the evidence base."""
        self._ensure_unsifted()
        self._happened(self.Accepted, context, decision=decision)

    def note(self, context: CommandContext, *, reason: str, decision: Decision | None = None) -> None:
        """The county notes the evidence without taking it into the evidence base, and says why."""
        self._ensure_unsifted()
        if not reason.strip():
            raise InvalidCommand("Noting evidence needs a reason.",
                                 [{"field": "reason", "message": "Say why the evidence is only noted."}])
        self._happened(self.Noted, context, decision=decision, reason=reason.strip())

    def _ensure_unsifted(self) -> None:
        if self.status != EvidenceStatus.SUBMITTED:
            raise RuleViolated(f"The evidence '{self.title}' was already sifted ({self.status}).")
