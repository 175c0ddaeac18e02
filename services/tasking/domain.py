"""Coordination: taskings of district partnerships, memberships, meetings, decisions and agreed actions.

Pure domain: no I/O. What a rule needs from elsewhere (the known target, the lead partner's membership, the
meeting behind a decision, the partnership definition) is handed in by the application.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.contracts import Actor, Decision
from shared.contracts.projects import ProfilePoint
from shared.contracts.tasking import (
    ActionAgreed,
    ActionDone,
    BodyKind,
    CommissioningLevel,
    DistrictsCommitted,
    FreeTextRedacted,
    MeetingEntered,
    MeetingHeld,
    MembershipVersion,
    PartnerJoined,
    PartnerLeft,
    PersonalDataErased,
    ScrutinyPackPublished,
    ShareProfiled,
    TargetOverAllocated,
    TargetOverAllocationCleared,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingStatus,
    TaskingWithdrawn,
    counts_against_target,
    tasking_retasked_v1_to_v2,
    tasking_retasked_v2_to_v3,
)
from shared.decisions import MeetingRecord, Period, minute_book_id
from shared.errors import InvalidCommand, RuleViolated
from shared.eventstore import AccountableAggregate, CommandContext, IdempotentIds
from shared.measures import MeasureKind, kind_of, out_of_range, value_problems
from shared.partnership import PartnershipDefinition
from shared.sectors import sector_problems

_IDS = uuid.UUID("6f1d2a8e-3c0b-4f53-9a55-2d1f0c7e9b41")  # namespace of this service's derived ids


def derived_id(*parts: str) -> UUID:
    """A deterministic aggregate id (memberships by body and partner, commitments by partner)."""
    return uuid.uuid5(_IDS, "\x1f".join(parts))


# Per organisation, in the same namespace and with the same separator as derived_id (stored ids depend on both).
IDEMPOTENT_IDS = IdempotentIds(_IDS, "{kind}\x1f{organisation}\x1f{key}")


def _fmt(value: Decimal) -> str:
    """1200 -> '1,200'; 12.5 -> '12.5'."""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:,f}"


# -- upstream facts and the partnership definition ---------------------------------------------------------------


@dataclass(frozen=True)
class KnownTarget:
    """A county target as tasking knows it from ``priorities.events``."""

    id: UUID
    metric: str
    unit: str
    target_value: Decimal
    deadline: date
    retired: bool = False
    baseline_value: Decimal = Decimal(0)
    """The measure's value at the baseline date (0 while tasking's copy has not heard it: a target set before the
    copy kept baselines, until its next revision)."""

    @property
    def kind(self) -> MeasureKind:
        return kind_of(self.unit)

    @property
    def improvement(self) -> Decimal:
        """What the target asks to change: target minus baseline (its size, for a target that falls)."""
        return abs(self.target_value - self.baseline_value)


def body_kind(definition: PartnershipDefinition, body: str) -> BodyKind:
    """The kind of a body: a board or theme group from the definition, or a district's partnership."""
    found = definition.body(body)
    if found is not None:
        return BodyKind(found.kind)
    if definition.district(body) is not None:
        return BodyKind.DISTRICT_PARTNERSHIP
    raise InvalidCommand(f"No body '{body}' exists in the {definition.name}.",
                         [{"field": "body", "message": "Unknown body."}])


def _known_organisation(definition: PartnershipDefinition, organisation: str, field: str) -> None:
    if definition.organisation(organisation) is None:
        raise InvalidCommand(f"'{organisation}' is not a partner organisation of the {definition.name}.",
                             [{"field": field, "message": "Unknown partner organisation."}])


def _known_district(definition: PartnershipDefinition, district: str, field: str = "district") -> None:
    if definition.district(district) is None:
        raise InvalidCommand(f"'{district}' is not a district of the {definition.name}.",
                             [{"field": field, "message": "Unknown district."}])


def district_name(definition: PartnershipDefinition, district: str) -> str:
    found = definition.district(district)
    return found.name if found else district


# -- taskings --------------------------------------------------------------------------------------------------


def require_within_target(target: KnownTarget, allocated_elsewhere: Decimal, share: Decimal) -> None:
    """The shares of a ``count`` target across districts are shares of its improvement (target minus baseline) and
    may not add up to more: against 1,000 -> 1,600, at most 600 are tasked. A ``level`` target (a rate, a
    percentage) or a ``ratio`` is never summed: each district's share is its own target level (or ratio), checked
    only against its unit's range (``_require_assignment``)."""
    if target.kind is not MeasureKind.COUNT:
        return
    improvement = target.improvement
    if allocated_elsewhere + share > improvement:
        available = max(improvement - allocated_elsewhere, Decimal(0))
        of = (f"the target's improvement of {_fmt(improvement)} ({_fmt(target.baseline_value)} -> "
              f"{_fmt(target.target_value)})" if target.baseline_value else f"the target of {_fmt(improvement)}")
        raise RuleViolated(
            f"The shares would add up to {_fmt(allocated_elsewhere + share)} {target.unit}, more than {of}: "
            f"{_fmt(allocated_elsewhere)} are already tasked, so at most {_fmt(available)} can be given.",
            target_value=str(target.target_value), baseline_value=str(target.baseline_value),
            improvement=str(improvement), already_tasked=str(allocated_elsewhere),
            requested=str(share), available=str(available),
        )


def _require_assignment(target: KnownTarget, share: Decimal, deadline: date) -> None:
    problems: list[dict[str, str]] = []
    if share <= 0:
        problems.append({"field": "share", "message": "A share must be more than zero."})
    elif beyond := out_of_range("share", target.unit, share, "share"):  # a level's or a ratio's: at most 100 %
        problems.append(beyond)
    if deadline > target.deadline:
        problems.append({"field": "deadline", "message": f"The share's deadline may not be after the target's "
                                                         f"deadline ({target.deadline.isoformat()})."})
    if problems:
        raise InvalidCommand("The share cannot be given: " + " ".join(p["message"] for p in problems), problems)


def _require_lead_partner(membership: Membership | None, lead_partner: str, district: str) -> None:
    if membership is None or not membership.is_member or membership.body != district:
        raise RuleViolated(f"The lead partner '{lead_partner}' is not a member of the {district} district "
                           "partnership: it must join before it can be made responsible.",
                           lead_partner=lead_partner, district=district)


def _require_target_open(target: KnownTarget) -> None:
    if target.retired:
        raise RuleViolated(f"The target '{target.metric}' is retired: no tasking may be given against it.")


class Tasking(AccountableAggregate):
    """A theme group's tasking of a district partnership with a share of a county target, one lead partner
    responsible."""

    class Issued(AccountableAggregate.Created, TaskingIssued):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.ISSUED)

    def __init__(self, *, target_id: UUID, theme_group: str, district: str, share: Decimal, unit: str,
                 deadline: date, lead_partner: str, commissioning_level: CommissioningLevel,
                 retasked_from: UUID | None, counts_against_target: bool, actor: Actor, correlation_id: str,
                 decision: Decision | None, sector: str | None = None) -> None:
        self.target_id = target_id
        self.theme_group = theme_group
        self.district = district
        self.share = share
        self.unit = unit
        self.deadline = deadline
        self.lead_partner = lead_partner
        self.commissioning_level = CommissioningLevel(commissioning_level)
        self.retasked_from = retasked_from
        self.sector = sector
        """The UK SIC 2007 section the share is to be delivered in; None: any."""
        self.status = TaskingStatus.ISSUED
        self.issued_by = actor
        self.decision = decision
        self.achieved: Decimal | None = None
        self.counts_against_target = counts_against_target  # as the events say (tasking's rule, applied once)
        self.profile: tuple[tuple[date, Decimal], ...] = ()
        """The part of the share expected delivered by each date; empty: none (the target's, or the line)."""


    @classmethod
    def issue(cls, context: CommandContext, *, target: KnownTarget, theme_group: str, district: str,
              share: Decimal, deadline: date, lead_partner: str, commissioning_level: CommissioningLevel,
              decision: Decision, allocated_elsewhere: Decimal, lead_membership: Membership | None,
              definition: PartnershipDefinition, retasked_from: UUID | None = None,
              id: UUID | None = None, sector: str | None = None) -> Tasking:
        """Task a district partnership with a share of a target; refused beyond the target or its deadline. A
        ``sector`` names the UK SIC 2007 section the share is to be delivered in (``shared.sectors``)."""
        if problems := sector_problems("sector", sector):
            raise InvalidCommand("The tasking cannot be issued: " + problems[0]["message"], problems)
        _known_district(definition, district)
        _known_organisation(definition, lead_partner, "lead_partner")
        _require_target_open(target)
        _require_assignment(target, share, deadline)
        require_within_target(target, allocated_elsewhere, share)
        _require_lead_partner(lead_membership, lead_partner, district)
        return cls._create(
            cls.Issued, id=id, actor=context.actor, correlation_id=context.correlation_id, decision=decision,
            target_id=target.id, theme_group=theme_group, district=district, share=share, unit=target.unit,
            deadline=deadline, lead_partner=lead_partner, commissioning_level=commissioning_level,
            retasked_from=retasked_from, counts_against_target=counts_against_target(TaskingStatus.ISSUED),
            sector=sector,
        )

    # -- the district's answer -----------------------------------------------------------------------------------
    class Accepted(AccountableAggregate.Event, TaskingAccepted):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.ACCEPTED)

        def apply(self, aggregate: Any) -> None:
            aggregate.status = TaskingStatus.ACCEPTED
            aggregate.counts_against_target = self.counts_against_target

    class Declined(AccountableAggregate.Event, TaskingDeclined):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.DECLINED)

        def apply(self, aggregate: Any) -> None:
            aggregate.status = TaskingStatus.DECLINED
            aggregate.counts_against_target = self.counts_against_target

    def _require_status(self, doing: str, *allowed: TaskingStatus) -> None:
        if self.status not in allowed:
            raise RuleViolated(f"A tasking that is {self.status.value.replace('_', ' ')} cannot be {doing}.",
                               status=self.status.value)

    def accept(self, context: CommandContext, decision: Decision | None = None) -> None:
        self._require_status("accepted", TaskingStatus.ISSUED)
        self._happened(self.Accepted, context, decision=decision,
                       counts_against_target=counts_against_target(TaskingStatus.ACCEPTED))

    def decline(self, context: CommandContext, reason: str, decision: Decision | None = None) -> None:
        self._require_status("declined", TaskingStatus.ISSUED)
        if len(reason.strip()) < 3:
            raise InvalidCommand("Say why the district declines the tasking.",
                                 [{"field": "reason", "message": "A reason is required."}])
        self._happened(self.Declined, context, decision=decision, reason=reason.strip(),
                       counts_against_target=counts_against_target(TaskingStatus.DECLINED))

    # -- delivery --------------------------------------------------------------------------------------------
    class DeliveryStarted(AccountableAggregate.Event, TaskingDeliveryStarted):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.IN_DELIVERY)

        def apply(self, aggregate: Any) -> None:
            aggregate.status = TaskingStatus.IN_DELIVERY
            aggregate.counts_against_target = self.counts_against_target

    class Completed(AccountableAggregate.Event, TaskingCompleted):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.COMPLETED)

        def apply(self, aggregate: Any) -> None:
            aggregate.status = TaskingStatus.COMPLETED
            aggregate.counts_against_target = self.counts_against_target
            aggregate.achieved = self.achieved

    class Withdrawn(AccountableAggregate.Event, TaskingWithdrawn):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = counts_against_target(TaskingStatus.WITHDRAWN)

        def apply(self, aggregate: Any) -> None:
            aggregate.status = TaskingStatus.WITHDRAWN
            aggregate.counts_against_target = self.counts_against_target

    def start_delivery(self, context: CommandContext) -> None:
        self._require_status("put into delivery", TaskingStatus.ACCEPTED)
        self._happened(self.DeliveryStarted, context,
                       counts_against_target=counts_against_target(TaskingStatus.IN_DELIVERY))

    def complete(self, context: CommandContext, achieved: Decimal, decision: Decision | None = None) -> None:
        self._require_status("completed", TaskingStatus.IN_DELIVERY)
        if achieved < 0:
            raise InvalidCommand("What was achieved cannot be negative.",
                                 [{"field": "achieved", "message": "Zero or more."}])
        self._happened(self.Completed, context, decision=decision, achieved=achieved,
                       counts_against_target=counts_against_target(TaskingStatus.COMPLETED))

    def withdraw(self, context: CommandContext, reason: str, decision: Decision) -> None:
        self._require_status("withdrawn", TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY,
                             TaskingStatus.DECLINED)
        if len(reason.strip()) < 3:
            raise InvalidCommand("Say why the tasking is withdrawn.",
                                 [{"field": "reason", "message": "A reason is required."}])
        self._happened(self.Withdrawn, context, decision=decision, reason=reason.strip(),
                       counts_against_target=counts_against_target(TaskingStatus.WITHDRAWN))

    # -- retasking -------------------------------------------------------------------------------------------
    class Retasked(AccountableAggregate.Event, TaskingRetasked):
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Stored before the event said what a retasking leaves."""
            state["issued_again"] = tasking_retasked_v1_to_v2(state)["issued_again"]

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Stored before the events said whether the share counts."""
            state["counts_against_target"] = tasking_retasked_v2_to_v3(state)["counts_against_target"]

        def apply(self, aggregate: Any) -> None:
            if self.issued_again:
                aggregate.status = TaskingStatus.ISSUED
            aggregate.counts_against_target = self.counts_against_target
            aggregate.district = self.district
            aggregate.lead_partner = self.lead_partner
            aggregate.share = self.share
            aggregate.deadline = self.deadline

    def retask(self, context: CommandContext, *, target: KnownTarget, decision: Decision,
               allocated_elsewhere: Decimal, lead_membership: Membership | None,
               definition: PartnershipDefinition, district: str | None = None, lead_partner: str | None = None,
               share: Decimal | None = None, deadline: date | None = None) -> None:
        """Change the district, the lead partner, the share or the deadline, by a decision with a reason.

        A new district must accept the tasking again; a declined tasking can only be retasked to another district.
        """
        self._require_status("retasked", TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY,
                             TaskingStatus.DECLINED)
        new_district = district or self.district
        new_lead = lead_partner or self.lead_partner
        new_share = self.share if share is None else share
        new_deadline = deadline or self.deadline
        if (new_district, new_lead, new_share, new_deadline) == (self.district, self.lead_partner, self.share,
                                                                 self.deadline):
            raise InvalidCommand("The retasking changes nothing: give a new district, lead partner, share or "
                                 "deadline.", [{"field": "district", "message": "Nothing changes."}])
        if self.status is TaskingStatus.DECLINED and new_district == self.district:
            raise RuleViolated("The district declined this tasking: it can only be retasked to another district.")
        _known_district(definition, new_district)
        _known_organisation(definition, new_lead, "lead_partner")
        _require_assignment(target, new_share, new_deadline)
        if new_share > self.share:
            # A retasking that does not raise the share leaves the total no higher: never refused for it, since it
            # is how a target left over-allocated by a race (TargetOverAllocated) is put right.
            require_within_target(target, allocated_elsewhere, new_share)
        if (new_district, new_lead) != (self.district, self.lead_partner):
            _require_lead_partner(lead_membership, new_lead, new_district)
        self._happened(
            self.Retasked, context, decision=decision, district=new_district, lead_partner=new_lead,
            share=new_share, deadline=new_deadline, previous_district=self.district,
            previous_lead_partner=self.lead_partner, previous_share=self.share, previous_deadline=self.deadline,
            reason=decision.reason,
            # The rule, written once: retasked to another district, the newly tasked district must accept it.
            issued_again=new_district != self.district,
            counts_against_target=counts_against_target(
                TaskingStatus.ISSUED if new_district != self.district else self.status),
        )

    # -- the share's profile ------------------------------------------------------------------------------------
    class Profiled(AccountableAggregate.Event, ShareProfiled):
        def apply(self, aggregate: Any) -> None:
            aggregate.profile = tuple((p.on, Decimal(p.value)) for p in self.profile)

    def set_profile(self, context: CommandContext, *, profile: Sequence[tuple[date, Decimal]],
                    decision: Decision) -> None:
        """Give the share a profile (the part expected delivered by each date, up to its deadline), or remove it
        (empty), by a decision of the theme group: the trajectory is part of what was tasked."""
        self._require_status("profiled", TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY)
        given = tuple((day, Decimal(value)) for day, value in profile)  # problems name the points as given
        problems: list[dict[str, str]] = []
        seen: set[date] = set()
        for n, (day, value) in enumerate(given):
            if day >= self.deadline:
                problems.append({"field": f"profile[{n}].on", "message": (
                    f"A profile's date lies before the share's deadline ({self.deadline.isoformat()}).")})
            if day in seen:
                problems.append({"field": f"profile[{n}].on",
                                 "message": f"The profile has two values at {day.isoformat()}."})
            seen.add(day)
            problems += value_problems(f"profile[{n}].value", self.unit, value, "expected value")
        points = tuple(sorted(given))
        if not problems and points == self.profile:
            problems.append({"field": "profile", "message": "Nothing would change: the profile is the same."})
        if problems:
            raise InvalidCommand("The profile cannot be set: " + " ".join(p["message"] for p in problems), problems)
        self._happened(self.Profiled, context, decision=decision,
                       profile=tuple(ProfilePoint(day, value) for day, value in points),
                       previous_profile=tuple(ProfilePoint(day, value) for day, value in self.profile),
                       share=self.share)

    def transfer_share(self, context: CommandContext, *, target: KnownTarget, decision: Decision, district: str,
                       lead_partner: str, share: Decimal, deadline: date | None,
                       lead_membership: Membership | None, definition: PartnershipDefinition,
                       new_id: UUID | None = None) -> Tasking:
        """Move part of this tasking's share to another district: this tasking is retasked to the remainder and
        a new tasking, ``retasked_from`` this one, is issued for the part moved, both under one decision."""
        self._require_status("retasked", TaskingStatus.ISSUED, TaskingStatus.ACCEPTED, TaskingStatus.IN_DELIVERY)
        if district == self.district:
            raise InvalidCommand("The share moves to another district; to change this district's share, retask it.",
                                 [{"field": "district", "message": "Same district."}])
        if share >= self.share:
            raise InvalidCommand(
                f"Only part of the {_fmt(self.share)} can be moved; to move all of it, retask the district.",
                [{"field": "share", "message": f"Less than {_fmt(self.share)}."}])
        remainder = self.share - share
        moved = Tasking.issue(
            context, target=target, theme_group=self.theme_group, district=district, share=share,
            deadline=deadline or self.deadline, lead_partner=lead_partner,
            commissioning_level=self.commissioning_level, decision=decision,
            allocated_elsewhere=Decimal(0),  # a transfer leaves the total tasked unchanged
            lead_membership=lead_membership, definition=definition, retasked_from=self.id, id=new_id,
            sector=self.sector,  # the part moved is of the same industry
        )
        self._happened(
            self.Retasked, context, decision=decision, district=self.district, lead_partner=self.lead_partner,
            share=remainder, deadline=self.deadline, previous_district=self.district,
            previous_lead_partner=self.lead_partner, previous_share=self.share, previous_deadline=self.deadline,
            reason=decision.reason, issued_again=False,  # the remainder stays with its district
            counts_against_target=counts_against_target(self.status),
        )
        return moved


# -- a target's allocation: over-allocation recorded as a fact -------------------------------------------------


@dataclass(frozen=True)
class Allotted:
    """A target as tasking last heard of it, against what its shares that count add up to."""

    metric: str
    unit: str
    target_value: Decimal
    baseline_value: Decimal
    tasked: Decimal

    @property
    def improvement(self) -> Decimal:
        return abs(self.target_value - self.baseline_value)

    @property
    def over_by(self) -> Decimal:
        """How far the shares exceed the improvement; 0 when they do not, and for a level or a ratio (never
        summed)."""
        if kind_of(self.unit) is not MeasureKind.COUNT:
            return Decimal(0)
        return max(self.tasked - self.improvement, Decimal(0))


class TargetAllocation(AccountableAggregate):
    """Whether a target's shares add up to more than it asks: tasking refuses a share beyond the target it knows,
    priorities a revision below the tasked total it knows, but either copy can be behind, so a race can still leave
    the shares above the target. Then tasking records it (``TargetOverAllocated``) and the allocation shows it
    until a retasking, a withdrawal, a decline or a revision clears it (``TargetOverAllocationCleared``)."""

    class OverAllocated(AccountableAggregate.Created, TargetOverAllocated):
        def apply(self, aggregate: Any) -> None:
            aggregate.over_by = Decimal(self.over_by)

    class OverAllocatedAgain(AccountableAggregate.Event, TargetOverAllocated):
        def apply(self, aggregate: Any) -> None:
            aggregate.over_by = Decimal(self.over_by)

    class Cleared(AccountableAggregate.Event, TargetOverAllocationCleared):
        def apply(self, aggregate: Any) -> None:
            aggregate.over_by = Decimal(0)

    def __init__(self, *, target_id: UUID, over_by: Decimal, **_: Any) -> None:
        self.target_id = target_id
        self.over_by = Decimal(over_by)
        """How far the shares exceeded the improvement when last recorded; 0: not over-allocated."""

    @staticmethod
    def id_for(target_id: UUID) -> UUID:
        return derived_id("allocation", str(target_id))

    @property
    def over_allocated(self) -> bool:
        return self.over_by > 0

    @classmethod
    def judge(cls, existing: TargetAllocation | None, context: CommandContext, *, target_id: UUID,
              allotted: Allotted, cleared_by: UUID | None = None) -> TargetAllocation | None:
        """The allocation changed by what the target and its shares are now (None: nothing to record). Over by
        another amount is recorded again; within the target again, an over-allocation recorded is cleared."""
        over_by = allotted.over_by
        facts: dict[str, Any] = dict(target_id=target_id, metric=allotted.metric, unit=allotted.unit,
                                     target_value=allotted.target_value, baseline_value=allotted.baseline_value,
                                     improvement=allotted.improvement, tasked=allotted.tasked, over_by=over_by)
        if existing is None:
            if over_by <= 0:
                return None
            return cls._create(cls.OverAllocated, id=cls.id_for(target_id), actor=context.actor,
                               correlation_id=context.correlation_id, **facts)
        if over_by > 0 and over_by != existing.over_by:
            existing._happened(cls.OverAllocatedAgain, context, **facts)
            return existing
        if over_by <= 0 and existing.over_allocated:
            existing._happened(cls.Cleared, context, target_id=target_id, target_value=allotted.target_value,
                               improvement=allotted.improvement, tasked=allotted.tasked, cleared_by=cleared_by)
            return existing
        return None


# -- memberships -----------------------------------------------------------------------------------------------


class Membership(AccountableAggregate):
    """One partner organisation's seat at one body's table (id derived from body and partner), with the periods it
    was in force: a quorum on a date counts the members of that date."""

    class Joined(AccountableAggregate.Created, PartnerJoined):
        def apply(self, aggregate: Any) -> None:
            aggregate.periods = [Period(self.joined_on or self.timestamp.date())]

    class Rejoined(AccountableAggregate.Event, PartnerJoined):
        def apply(self, aggregate: Any) -> None:
            aggregate.is_member = True
            aggregate.nominated_by = self.nominated_by
            aggregate.periods.append(Period(self.joined_on or self.timestamp.date()))

    class Left(AccountableAggregate.Event, PartnerLeft):
        def apply(self, aggregate: Any) -> None:
            aggregate.is_member = False
            aggregate.periods[-1] = Period(aggregate.periods[-1].joined_on, self.left_on or self.timestamp.date())

    def __init__(self, *, body: str, body_kind: BodyKind, organisation: str, nominated_by: str | None,
                 actor: Actor, correlation_id: str, decision: Decision | None) -> None:
        self.body = body
        self.body_kind = BodyKind(body_kind)
        self.organisation = organisation
        self.nominated_by = nominated_by
        self.is_member = True
        self.periods: list[Period] = []

    @staticmethod
    def id_for(body: str, organisation: str) -> UUID:
        return derived_id("membership", body, organisation)

    @property
    def joined_on(self) -> date:
        return self.periods[-1].joined_on

    @property
    def left_on(self) -> date | None:
        return self.periods[-1].left_on

    def in_force_on(self, day: date) -> bool:
        """Was the partner a member of the body on ``day``?"""
        return any(period.covers(day) for period in self.periods)

    @classmethod
    def join(cls, context: CommandContext, *, existing: Membership | None, body: str, organisation: str,
             definition: PartnershipDefinition, joined_on: date, today: date, nominated_by: str | None = None,
             nominator_membership: Membership | None = None, decision: Decision | None = None) -> Membership:
        """A partner joins a body from ``joined_on`` (not in the future, not before it last left); a theme group may
        nominate one of its own members to a district partnership."""
        kind = body_kind(definition, body)
        _known_organisation(definition, organisation, "organisation")
        if joined_on > today:
            raise InvalidCommand("A membership is recorded once it has started: joined_on is in the future.",
                                 [{"field": "joined_on", "message": "Not after today."}])
        if definition.founded_on is not None and joined_on < definition.founded_on:
            raise InvalidCommand(f"The {definition.name} was founded on {definition.founded_on.isoformat()}: no "
                                 "membership starts before.", [{"field": "joined_on", "message": "Too early."}])
        if nominated_by is not None:
            if kind is not BodyKind.DISTRICT_PARTNERSHIP:
                raise InvalidCommand("Theme groups nominate representatives to district partnerships only.",
                                     [{"field": "nominated_by", "message": "Only into a district partnership."}])
            nominator = definition.body(nominated_by)
            if nominator is None or nominator.kind != BodyKind.THEME_GROUP:
                raise InvalidCommand(f"'{nominated_by}' is not a theme group.",
                                     [{"field": "nominated_by", "message": "Unknown theme group."}])
            if nominator_membership is None or not nominator_membership.is_member:
                raise RuleViolated(f"'{organisation}' is not a member of {nominator.name}, so it cannot represent "
                                   "it.", organisation=organisation, theme_group=nominated_by)
        if existing is not None:
            if existing.is_member:
                raise RuleViolated(f"'{organisation}' is already a member of '{body}'.")
            if existing.left_on is not None and joined_on < existing.left_on:
                raise InvalidCommand(f"'{organisation}' left '{body}' on {existing.left_on.isoformat()}: it can "
                                     "rejoin from that day on.", [{"field": "joined_on", "message": "Too early."}])
            existing._happened(cls.Rejoined, context, decision=decision, body=body, body_kind=kind,
                               organisation=organisation, nominated_by=nominated_by, joined_on=joined_on)
            return existing
        return cls._create(cls.Joined, id=cls.id_for(body, organisation), actor=context.actor,
                           correlation_id=context.correlation_id, decision=decision, body=body, body_kind=kind,
                           organisation=organisation, nominated_by=nominated_by, joined_on=joined_on)

    def leave(self, context: CommandContext, reason: str, *, left_on: date, today: date,
              decision: Decision | None = None) -> None:
        """The partner leaves: ``left_on`` is its first day off the table (not before it joined, not in the future)."""
        if not self.is_member:
            raise RuleViolated(f"'{self.organisation}' is not a member of '{self.body}'.")
        if len(reason.strip()) < 3:
            raise InvalidCommand("Say why the partner leaves.", [{"field": "reason", "message": "Required."}])
        if left_on > today or left_on <= self.joined_on:
            raise InvalidCommand(f"left_on must fall after it joined ({self.joined_on.isoformat()}) and not after "
                                 "today.", [{"field": "left_on", "message": "Out of range."}])
        self._happened(self.Left, context, decision=decision, body=self.body, organisation=self.organisation,
                       reason=reason.strip(), left_on=left_on)


class Commitment(AccountableAggregate):
    """The districts a county-wide partner commits to (it cannot resource every district)."""

    class Declared(AccountableAggregate.Created, DistrictsCommitted):
        pass

    class Redeclared(AccountableAggregate.Event, DistrictsCommitted):
        def apply(self, aggregate: Any) -> None:
            aggregate.districts = list(self.districts)

    def __init__(self, *, organisation: str, districts: list[str], actor: Actor, correlation_id: str,
                 decision: Decision | None) -> None:
        self.organisation = organisation
        self.districts = list(districts)

    @staticmethod
    def id_for(organisation: str) -> UUID:
        return derived_id("commitment", organisation)

    @classmethod
    def declare(cls, context: CommandContext, *, existing: Commitment | None, organisation: str,
                districts: list[str], definition: PartnershipDefinition,
                decision: Decision | None = None) -> Commitment:
        found = definition.organisation(organisation)
        if found is None:
            _known_organisation(definition, organisation, "organisation")
        elif not found.county_wide:
            raise RuleViolated(f"{found.name} is not a county-wide partner: it sits at its own district's table.")
        for district in districts:
            _known_district(definition, district, "districts")
        unique = sorted(set(districts))
        if existing is not None:
            if sorted(existing.districts) == unique:
                raise RuleViolated("The partner already commits to exactly these districts.")
            existing._happened(cls.Redeclared, context, decision=decision, organisation=organisation,
                               districts=unique)
            return existing
        return cls._create(cls.Declared, id=cls.id_for(organisation), actor=context.actor,
                           correlation_id=context.correlation_id, decision=decision, organisation=organisation,
                           districts=unique)


# -- meetings and agreed actions -------------------------------------------------------------------------------


class Meeting(AccountableAggregate):
    """A body's meeting on a date, with the partner organisations present; decisions taken there reference it."""

    class Held(AccountableAggregate.Created, MeetingHeld):
        pass

    def __init__(self, *, body: str, body_kind: BodyKind, held_on: date, present: list[str], title: str,
                 actor: Actor, correlation_id: str, decision: Decision | None) -> None:
        self.body = body
        self.body_kind = BodyKind(body_kind)
        self.held_on = held_on
        self.present = list(present)
        self.title = title

    @classmethod
    def hold(cls, context: CommandContext, *, body: str, held_on: date, present: list[str], title: str,
             definition: PartnershipDefinition, id: UUID | None = None,
             quorum_as_minuted: str | None = None) -> Meeting:
        """``quorum_as_minuted``: for a historic meeting whose attendance was never minuted, the minute reference
        recording it as quorate, instead of ``present`` (the history import's; entered in the minute book)."""
        kind = body_kind(definition, body)
        if quorum_as_minuted is not None:
            if not quorum_as_minuted.strip():
                raise InvalidCommand("Give the minute reference that records the meeting as quorate.",
                                     [{"field": "quorum_as_minuted", "message": "Empty."}])
            if present:
                raise InvalidCommand(
                    "Either who was present, or the minute reference recording the meeting as quorate: not both "
                    "(a quorum is counted from attendance when attendance is known).",
                    [{"field": "quorum_as_minuted", "message": "Only for a meeting without attendance."}])
        elif not present:
            raise InvalidCommand("Record who was present at the meeting.",
                                 [{"field": "present", "message": "At least one partner."}])
        for organisation in present:
            _known_organisation(definition, organisation, "present")
        if len(set(present)) != len(present):
            raise InvalidCommand("A partner is listed twice as present.",
                                 [{"field": "present", "message": "No duplicates."}])
        return cls._create(cls.Held, id=id, actor=context.actor, correlation_id=context.correlation_id,
                           decision=None, body=body, body_kind=kind, held_on=held_on, present=list(present),
                           title=title.strip())


class MinuteBook(AccountableAggregate):
    """A body's minute book: its meetings in the order recorded. Its version is the number of meetings entered, the
    ``meeting_version`` a decision names, so that a service keeping a copy can tell a meeting not yet arrived from
    one never held (its copy of the book is older than the version named, or not)."""

    class Opened(AccountableAggregate.Created, MeetingEntered):
        def apply(self, aggregate: Any) -> None:
            aggregate._enter(self)

    class Entered(AccountableAggregate.Event, MeetingEntered):
        def apply(self, aggregate: Any) -> None:
            aggregate._enter(self)

    def __init__(self, *, body: str, actor: Actor, correlation_id: str, decision: Decision | None) -> None:
        self.body = body
        self.entries: dict[UUID, int] = {}
        self.minuted: dict[UUID, str] = {}
        """Meetings whose quorum rests on their minute reference alone (no attendance was recorded)."""

    def _enter(self, event: MeetingEntered) -> None:
        self.entries[UUID(str(event.meeting_id))] = len(self.entries) + 1
        if event.quorum_as_minuted:
            self.minuted[UUID(str(event.meeting_id))] = event.quorum_as_minuted

    @classmethod
    def enter(cls, context: CommandContext, book: MinuteBook | None, meeting: Meeting,
              roll: list[MembershipVersion], quorum_as_minuted: str | None = None) -> MinuteBook:
        """Enter a meeting just recorded (saved with it, in one transaction)."""
        fields = dict(meeting_id=meeting.id, body=meeting.body, held_on=meeting.held_on, title=meeting.title,
                      present=list(meeting.present), roll=roll, quorum_as_minuted=quorum_as_minuted)
        if book is None:
            return cls._create(cls.Opened, id=minute_book_id(meeting.body), actor=context.actor,
                               correlation_id=context.correlation_id, decision=None, **fields)
        book._happened(cls.Entered, context, **fields)
        return book

    def record_of(self, meeting: Meeting) -> MeetingRecord | None:
        entry = self.entries.get(meeting.id)
        if entry is None:
            return None
        return MeetingRecord(id=meeting.id, body=meeting.body, held_on=meeting.held_on, title=meeting.title,
                             present=tuple(meeting.present), entry=entry,
                             quorum_as_minuted=self.minuted.get(meeting.id))


class AgreedAction(AccountableAggregate):
    """An action agreed at a meeting, with an owner and a due date; overdue until done."""

    class Agreed(AccountableAggregate.Created, ActionAgreed):
        pass

    class Done(AccountableAggregate.Event, ActionDone):
        def apply(self, aggregate: Any) -> None:
            aggregate.done_on = self.done_on

    def __init__(self, *, meeting_id: UUID, body: str, description: str, owner: str, due_on: date, actor: Actor,
                 correlation_id: str, decision: Decision | None) -> None:
        self.meeting_id = meeting_id
        self.body = body
        self.description = description
        self.owner = owner
        self.due_on = due_on
        self.done_on: date | None = None

    @classmethod
    def agree(cls, context: CommandContext, *, meeting: Meeting, description: str, owner: str, due_on: date,
              definition: PartnershipDefinition, id: UUID | None = None) -> AgreedAction:
        _known_organisation(definition, owner, "owner")
        problems: list[dict[str, str]] = []
        if len(description.strip()) < 3:
            problems.append({"field": "description", "message": "Say what was agreed."})
        if due_on < meeting.held_on:
            problems.append({"field": "due_on", "message": "Due before the meeting that agreed it."})
        if problems:
            raise InvalidCommand("The action cannot be recorded: " + " ".join(p["message"] for p in problems),
                                 problems)
        return cls._create(cls.Agreed, id=id, actor=context.actor, correlation_id=context.correlation_id,
                           decision=None, meeting_id=meeting.id, body=meeting.body,
                           description=description.strip(), owner=owner, due_on=due_on)

    def is_overdue(self, today: date) -> bool:
        return self.done_on is None and today > self.due_on

    def mark_done(self, context: CommandContext, done_on: date, note: str = "") -> None:
        if self.done_on is not None:
            raise RuleViolated(f"The action was already done on {self.done_on.isoformat()}.")
        self._happened(self.Done, context, done_on=done_on, note=note.strip())


DATA_PROTECTION_REGISTER_ID = derived_id("data-protection-register")
"""The partnership's one register of erasures and redactions."""


class DataProtectionRegister(AccountableAggregate):
    """The partnership's register of erasures of personal data and redactions of free text: each a delegated
    decision with its reason, recorded in the chained log like every other decision (the keys themselves are
    destroyed in the people vault, which holds no history of its own)."""

    class Erased(AccountableAggregate.Created, PersonalDataErased):
        def apply(self, aggregate: Any) -> None:
            aggregate.erasures += 1

    class ErasedAgain(AccountableAggregate.Event, PersonalDataErased):
        def apply(self, aggregate: Any) -> None:
            aggregate.erasures += 1

    class Redacted(AccountableAggregate.Created, FreeTextRedacted):
        def apply(self, aggregate: Any) -> None:
            aggregate.redactions += 1

    class RedactedAgain(AccountableAggregate.Event, FreeTextRedacted):
        def apply(self, aggregate: Any) -> None:
            aggregate.redactions += 1

    def __init__(self, *, actor: Actor, correlation_id: str, decision: Decision | None, **_: Any) -> None:
        self.erasures = 0
        self.redactions = 0

    @classmethod
    def record_erasure(cls, context: CommandContext, register: DataProtectionRegister | None, *,
                       decision: Decision, pseudonyms: list[str], redacted_texts: int,
                       contact_details_in: list[str]) -> DataProtectionRegister:
        if not pseudonyms and not contact_details_in:
            raise InvalidCommand("Nothing of the person was erased: there is no erasure to record.")
        fields: dict[str, Any] = dict(pseudonyms=sorted(pseudonyms), redacted_texts=redacted_texts,
                                      contact_details_in=sorted(contact_details_in))
        return cls._record(context, register, (cls.Erased, cls.ErasedAgain), decision, fields)

    @classmethod
    def record_redaction(cls, context: CommandContext, register: DataProtectionRegister | None, *,
                         decision: Decision, record_id: str, record_version: int | None,
                         keys: int) -> DataProtectionRegister:
        if keys < 1:
            raise InvalidCommand(f"No sealed text of {record_id} was redacted: there is no redaction to record.")
        fields: dict[str, Any] = dict(record_id=record_id, record_version=record_version, keys=keys)
        return cls._record(context, register, (cls.Redacted, cls.RedactedAgain), decision, fields)

    @classmethod
    def _record(cls, context: CommandContext, register: DataProtectionRegister | None,
                events: tuple[type[Any], type[Any]], decision: Decision,
                fields: dict[str, Any]) -> DataProtectionRegister:
        first, later = events
        if register is None:
            return cls._create(first, id=DATA_PROTECTION_REGISTER_ID, actor=context.actor,
                               correlation_id=context.correlation_id, decision=decision, **fields)
        register._happened(later, context, decision=decision, **fields)
        return register


def scrutiny_pack_id(committee: str, meeting_on: date) -> UUID:
    """One pack per committee meeting: its id (and so its public URL) follows from the two."""
    return derived_id("scrutiny-pack", committee.strip(), meeting_on.isoformat())


class PublishedScrutinyPack(AccountableAggregate):
    """A scrutiny pack published for a committee's meeting: the fact that lets anyone rebuild it from the history
    and check it is the pack the committee read (its canonical JSON's SHA-256)."""

    class Published(AccountableAggregate.Created, ScrutinyPackPublished):
        pass

    def __init__(self, *, actor: Actor, correlation_id: str, decision: Decision | None, committee: str,
                 meeting_on: date, sha256: str, **_: Any) -> None:
        self.committee = committee
        self.meeting_on = meeting_on
        self.sha256 = sha256

    @classmethod
    def publish(cls, context: CommandContext, *, decision: Decision, committee: str, meeting_on: date,
                starts_on: date, ends_on: date, sha256: str, **fields: Any) -> PublishedScrutinyPack:
        problems: list[dict[str, str]] = []
        if not committee.strip():
            problems.append({"field": "committee", "message": "Name the committee."})
        if ends_on < starts_on:
            problems.append({"field": "ends_on", "message": "The period ends before it starts."})
        if meeting_on < ends_on:
            problems.append({"field": "meeting_on", "message": "A pack is published for a meeting after its period."})
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            problems.append({"field": "sha256", "message": "The SHA-256 of the pack, 64 lowercase hex digits."})
        if problems:
            raise InvalidCommand("The pack cannot be published: " + " ".join(p["message"] for p in problems),
                                 problems)
        return cls._create(cls.Published, id=scrutiny_pack_id(committee, meeting_on), actor=context.actor,
                           correlation_id=context.correlation_id, decision=decision, committee=committee.strip(),
                           meeting_on=meeting_on, starts_on=starts_on, ends_on=ends_on, sha256=sha256, **fields)
