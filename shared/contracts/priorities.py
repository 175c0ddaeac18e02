"""Contracts of the priorities service (``priorities.events``): the strategy, targets, district priorities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from shared.contracts import Fact, contract
from shared.contracts.personal import SealedPersonalData
from shared.contracts.projects import ProfilePoint
from shared.performance import ReportingInterval

SERVICE = "priorities"

CHAPTER_NAMESPACE = UUID("5b0c7f64-2f1e-5d8a-9a57-2d3c1f0e6a10")
REVIEW_NAMESPACE = UUID("0f6e2a4c-7d3b-5e19-8c2a-6b1d9e4f3a21")


def chapter_id(district: str) -> UUID:
    """The id of a district's chapter of the SCS: one per district, the same in every service."""
    return uuid5(CHAPTER_NAMESPACE, district)


def review_id(number: int) -> UUID:
    """The id of the SCS review with this number (1, 2, ...)."""
    return uuid5(REVIEW_NAMESPACE, str(number))


class StrategyLevel(StrEnum):
    """Where an objective sits: the Sustainable Community Strategy or a county strategy under it."""

    SCS = "scs"
    COUNTY_STRATEGY = "county_strategy"


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ObjectiveAdded(Fact):
    """An objective was added to the SCS or to a county strategy under an SCS objective."""

    title: str
    """The objective's statement."""
    level: StrategyLevel
    """Whether it is an SCS objective or a county strategy's."""
    strategy: str
    """The strategy it belongs to, e.g. the SCS or a county strategy's name."""
    parent_id: UUID | None = None
    """The SCS objective a county strategy's objective sits under; None for an SCS objective."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetSet(Fact):
    """A SMART target was set on an objective (the aggregate id is the target's id)."""

    objective_id: UUID
    """The id of the objective (SCS or county strategy) it belongs to."""
    metric: str
    """What is measured, e.g. people claiming Jobseeker's Allowance."""
    unit: str
    """The unit of the measure's values, e.g. people or percent."""
    baseline_value: Decimal
    """The measure's value at the baseline date."""
    baseline_date: date
    """The date the baseline value was measured."""
    target_value: Decimal
    """The value the measure is to reach."""
    deadline: date
    """The date by which the target value is to be reached."""
    data_source: str
    """Where the measure's figures come from, e.g. a national statistic."""
    owner_organisation: str
    """The partner organisation responsible for the target."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetRevised(Fact):
    """A target was re-baselined or changed, by a decision with a reason; the old values stay in history."""

    metric: str
    """What is measured, as revised."""
    unit: str
    """The unit of the measure's values, e.g. people or percent."""
    baseline_value: Decimal
    """The measure's value at the baseline date."""
    baseline_date: date
    """The date the baseline value was measured."""
    target_value: Decimal
    """The value the measure is to reach."""
    deadline: date
    """The date by which the target value is to be reached."""
    data_source: str
    """Where the measure's figures come from, e.g. a national statistic."""
    owner_organisation: str
    """The partner organisation responsible for the target."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class TargetRetired(Fact):
    """A target was retired (never deleted); no new tasking may be issued against it."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class TargetProfiled(Fact):
    """A target's trajectory was given a profile by a decision (expected values at dates, for delivery that is not a
    straight line: jobs back-loaded until a business park opens), or had it removed (``profile`` empty: the straight
    line again). The county figure is judged against it, and so is a district share or a project outcome that has
    no profile of its own (``shared.performance``: the most specific profile available)."""

    profile: tuple[ProfilePoint, ...]
    """The expected values of the measure by date, between the baseline and the deadline; empty: the straight
    line."""
    previous_profile: tuple[ProfilePoint, ...]
    """The profile before; empty: it was the straight line."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class TargetReportingIntervalSet(Fact):
    """How often a target's figures are to be reported was declared (when the target was set) or changed by a
    decision. A figure is stale when its latest report is older than the interval in force at the date asked."""

    reporting_interval: ReportingInterval
    """How often the figures are to be reported now."""
    previous_interval: ReportingInterval
    """The interval before (quarterly, the default, for a target that had declared none)."""
    in_force_from: date
    """The first date judged by the new interval; dates before it keep the previous one."""


# -- objectives: reworded and retired, each by a decision with a reason --------------------------------------------


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ObjectiveReworded(Fact):
    """An objective's statement was reworded by a decision; the previous wording is repeated for the reader."""

    title: str
    """The objective's statement as reworded."""
    previous_title: str
    """Its statement before."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ObjectiveRetired(Fact):
    """An objective was retired (never deleted) by a decision; no new target may be set on it."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""


# -- district chapters and priorities --------------------------------------------------------------------------------


class PriorityStatus(StrEnum):
    """Where a district priority stands."""

    PROPOSED = "proposed"
    AGREED = "agreed"
    REJECTED = "rejected"
    RETIRED = "retired"


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PriorityProposed(Fact):
    """A district partnership proposed a priority issue for its place, linked to an objective."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    title: str
    """The priority issue, as the district partnership put it."""
    rationale: str
    """Why it is a priority for the place."""
    objective_id: UUID
    """The id of the objective (SCS or county strategy) it belongs to."""
    evidence_refs: tuple[str, ...] = ()
    """References to the local evidence behind it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PriorityAgreed(Fact):
    """The district partnership's board agreed the priority (a decision): it takes one of the district's places."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PriorityRejected(Fact):
    """The district partnership's board rejected the proposed priority (a decision with a reason)."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PriorityRetired(Fact):
    """An agreed priority was retired by a decision; its place in the district's limit is free again."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PriorityReconfirmed(Fact):
    """In an SCS review, the district partnership re-confirmed an agreed priority (a decision)."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    review_id: UUID
    """The id of the SCS review."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class DistrictChapterOpened(Fact):
    """A district's chapter of the SCS was opened: it keeps the district's agreed priorities (at most N at once).

    The chapter's id is ``uuid5(CHAPTER_NAMESPACE, district)``.
    """

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ChapterPriorityAgreed(Fact):
    """An agreed priority took a place in the district's chapter."""

    priority_id: UUID
    """The id of the district priority."""
    title: str
    """The priority's title."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ChapterPriorityRetired(Fact):
    """A retired priority left the district's chapter, freeing its place."""

    priority_id: UUID
    """The id of the district priority."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""


# -- local evidence -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceFigure:
    """One figure in a piece of evidence, e.g. 2,300 people claiming Jobseeker's Allowance."""

    label: str
    """What the figure counts, e.g. people claiming Jobseeker's Allowance."""
    value: Decimal
    """The figure."""
    unit: str
    """Its unit, e.g. people."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class EvidenceSubmitted(Fact):
    """A district submitted local evidence or a consultation outcome, attached to objectives or priorities."""

    district: str
    """The district that submitted it."""
    title: str
    """The evidence's title."""
    summary: str
    """What it shows."""
    source: str
    """Where it comes from, e.g. a survey or a consultation."""
    evidence_date: date
    """The date the evidence stands at."""
    figures: tuple[EvidenceFigure, ...] = ()
    """The figures it gives."""
    objective_ids: tuple[UUID, ...] = ()
    """The objectives it is attached to."""
    priority_ids: tuple[UUID, ...] = ()
    """The priorities it is attached to."""
    contact: SealedPersonalData | None = None
    """Who to ask about it (name, e-mail, phone), sealed under that person's key: erasable (docs/audit.md)."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class EvidenceAccepted(Fact):
    """The county sifted the evidence and accepted it into the evidence base."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class EvidenceNoted(Fact):
    """The county sifted the evidence and noted it without taking it into the evidence base, with its reason."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""


# -- SCS review cycle ----------------------------------------------------------------------------------------------


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ScsReviewOpened(Fact):
    """A review of the SCS was opened: every priority agreed at that moment must be re-confirmed or retired in it.

    The review's id is ``uuid5(REVIEW_NAMESPACE, str(number))``: one review of each number, one open at a time.
    """

    number: int
    """The review's number: 1 for the first review, and so on."""
    outstanding: tuple[UUID, ...]
    """The ids of the priorities agreed when it opened: each to be re-confirmed or retired."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ScsReviewPriorityResolved(Fact):
    """A priority under review was re-confirmed or retired."""

    priority_id: UUID
    """The id of the district priority."""
    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    outcome: str
    """What became of it: reconfirmed or retired."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ScsReviewClosed(Fact):
    """The SCS review was closed once every priority under it was re-confirmed or retired."""


PUBLICATION_RECORD_ID = uuid5(CHAPTER_NAMESPACE, "publication-record")
"""The one record of the partnership's releases of performance figures for public display."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class PerformanceReleased(Fact):
    """The partnership released a period's performance figures for public display (the open-data feed), by a
    decision: approval before publication. Figures of a period not released are never published."""

    starts_on: date
    """The first day of the period released."""
    ends_on: date
    """The last day of the period released."""


INTERNAL: frozenset[type[Fact]] = frozenset({DistrictChapterOpened, ChapterPriorityAgreed, ChapterPriorityRetired})
"""Bookkeeping inside the district chapter (the aggregate that keeps the limit on agreed priorities), not
integration events: what a partner needs of it, ``PriorityAgreed`` and ``PriorityRetired`` say with the district.
Every other event of the service is public (``shared.contracts.publication``)."""
