"""Contracts of the projects service (``projects.events``): programmes, projects, progress, RAG and interventions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from pydantic import ConfigDict

from shared.contracts import Fact, contract, superseded

SERVICE = "projects"

PROGRAMME_NAMESPACE = UUID("9d7c2b1e-4a6f-5c3d-8e2b-1f0a9c8d7e61")


def programme_id(district: str) -> UUID:
    """The id of a district's programme: one per district partnership, the same in every service."""
    return uuid5(PROGRAMME_NAMESPACE, district)


class Rag(StrEnum):
    """Red, amber or green: how far actual progress lags the straight-line trajectory to the target."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class DirectionOfTravel(StrEnum):
    """Against the previous report: is the gap to the trajectory closing, unchanged or widening?"""

    IMPROVING = "improving"
    STEADY = "steady"
    WORSENING = "worsening"


class InterventionKind(StrEnum):
    """What the programme manager did about a project that drifted."""

    RE_PLAN = "re_plan"
    EXTRA_RESOURCES = "extra_resources"
    ESCALATE_TO_THEME_GROUP = "escalate_to_theme_group"
    REQUEST_RETASKING = "request_retasking"


@dataclass(frozen=True)
class TaskingRef:
    """A tasking a project delivers, with the tasking's version the project last took into account."""

    tasking_id: UUID
    version: int


@dataclass(frozen=True)
class Outcome:
    """A measure the project delivers, contributing to one tasking's share.

    ``weight`` (0 < weight <= 1, default 1) is the part of the outcome's result credited to the tasking, e.g. 0.5
    when two projects share the credit for the same jobs; it also weighs the outcome in the project's RAG.
    """

    id: str
    tasking_id: UUID
    metric: str
    unit: str
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    target_date: date
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class Milestone:
    id: str
    title: str
    due_on: date


@dataclass(frozen=True)
class ResourceCommitment:
    """Resources a partner organisation committed to a project: money (GBP) and staff days."""

    organisation: str
    money_gbp: Decimal
    staff_days: Decimal
    note: str = ""


@dataclass(frozen=True)
class Risk:
    """A risk to delivery: likelihood and impact on 1..5 (score = likelihood x impact), an owner, a mitigation."""

    id: str
    description: str
    likelihood: int
    impact: int
    owner: str
    mitigation: str


@dataclass(frozen=True)
class OutcomeValue:
    """The actual value of one outcome's measure."""

    outcome_id: str
    value: Decimal


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProgrammeOpened(Fact):
    """A district partnership's programme was opened: it holds every project in that place."""

    district: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectAddedToProgramme(Fact):
    """A project joined its district's programme."""

    project_id: UUID
    title: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectOpened(Fact):
    """A project was opened against one or more accepted taskings of its district, with a lead partner."""

    programme_id: UUID
    district: str
    title: str
    lead_partner: str
    project_manager: str
    taskings: tuple[TaskingRef, ...]
    outcomes: tuple[Outcome, ...]
    milestones: tuple[Milestone, ...] = ()
    resources: tuple[ResourceCommitment, ...] = ()
    risks: tuple[Risk, ...] = ()


class Submission(StrEnum):
    """How a progress report reached the partnership."""

    API = "api"  # one report through the REST API (or a GraphQL mutation forwarded to it)
    BULK_UPLOAD = "bulk_upload"  # a row of a partner system's bulk upload


@contract(SERVICE, version=2)
@dataclass(frozen=True, kw_only=True)
class ProgressReported(Fact):
    """The lead partner reported actual values at a date, with a narrative; RAG and direction derived then.

    ``actuals`` is every outcome's value standing at ``reported_on`` (reported now, or carried from earlier);
    ``shortfall_percent`` is how far they lag the trajectory (negative when ahead). ``submitted_via`` (new in v2)
    says how the report came: one through the API, or a row of a partner system's bulk upload; every v1 report
    came through the API.
    """

    reported_on: date
    values: tuple[OutcomeValue, ...]
    actuals: tuple[OutcomeValue, ...]
    narrative: str
    rag: Rag
    shortfall_percent: Decimal
    direction: DirectionOfTravel | None = None
    correction: bool = False
    correction_reason: str | None = None
    submitted_via: Submission


def progress_reported_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Before bulk uploads existed every report came through the API."""
    return {**data, "submitted_via": Submission.API.value}


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class RagOverridden(Fact):
    """The derived RAG was overridden by hand, with a reason; the override expires at the next report."""

    rag: Rag
    derived_rag: Rag | None
    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class MilestoneAdded(Fact):
    milestone: Milestone


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class MilestoneAchieved(Fact):
    milestone_id: str
    achieved_on: date


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ResourcesCommitted(Fact):
    commitment: ResourceCommitment


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class RiskRecorded(Fact):
    risk: Risk


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class InterventionRecorded(Fact):
    """The programme manager intervened in a drifting project (a decision with a reference).

    ``triggers`` says why intervention was due: ``red``, ``missed-milestone:<id>`` or ``tasking-changed``.
    """

    kind: InterventionKind
    description: str
    triggers: tuple[str, ...]


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectDeferred(Fact):
    """The project was deferred by a decision with a reason (e.g. resources redirected); never silently."""

    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectResumed(Fact):
    reason: str


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectClosed(Fact):
    """The project was closed with the outcome achieved and the lessons learnt; it accepts no more progress."""

    outcome_achieved: str
    lessons: str
    final_actuals: tuple[OutcomeValue, ...]


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ContributionRepointed(Fact):
    """The project's outcomes for one tasking now count towards a tasking as it stands after a change.

    From upstream (``upstream_version`` set): the tasking was retasked within the district (new share, deadline or
    lead partner) and the project is flagged for review. By the programme manager (``upstream_version`` None):
    outcomes moved from ``from_tasking_id`` to another accepted tasking of the district.
    """

    from_tasking_id: UUID
    to_tasking_id: UUID
    to_version: int
    share: Decimal
    deadline: date
    lead_partner: str
    reason: str
    upstream_version: int | None = None


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ContributionClosed(Fact):
    """The project's outcomes no longer count towards a tasking (it was withdrawn, or retasked to another district);
    the project is flagged until the programme manager re-points it, intervenes or closes it."""

    tasking_id: UUID
    upstream_version: int
    reason: str


# -- superseded versions, frozen as published (their schemas stay in contracts/events) ------------------------------


@superseded(SERVICE, "ProgressReported", version=1, upcast=progress_reported_v1_to_v2)
@dataclass(frozen=True, kw_only=True)
class ProgressReportedV1(Fact):
    """The lead partner reported actual values at a date, with a narrative; RAG and direction derived then.

    ``actuals`` is every outcome's value standing at ``reported_on`` (reported now, or carried from earlier);
    ``shortfall_percent`` is how far they lag the trajectory (negative when ahead).
    """

    reported_on: date
    values: tuple[OutcomeValue, ...]
    actuals: tuple[OutcomeValue, ...]
    narrative: str
    rag: Rag
    shortfall_percent: Decimal
    direction: DirectionOfTravel | None = None
    correction: bool = False
    correction_reason: str | None = None

    __pydantic_config__ = ConfigDict(title="ProgressReported")  # the title it was published with


INTERNAL: frozenset[type[Fact]] = frozenset({ProgrammeOpened, ProjectAddedToProgramme})
"""Bookkeeping of the programme (a district's list of its projects), not integration events: ``ProjectOpened``
names the district and the programme. Every other event of the service is public
(``shared.contracts.publication``)."""
