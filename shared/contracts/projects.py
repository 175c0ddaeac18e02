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
    """The id of the tasking delivered."""
    version: int
    """The tasking's version the project last took into account."""


@dataclass(frozen=True)
class Outcome:
    """A measure the project delivers, contributing to one tasking's share.

    ``weight`` (0 < weight <= 1, default 1) is the part of the outcome's result credited to the tasking, e.g. 0.5
    when two projects share the credit for the same jobs; it also weighs the outcome in the project's RAG.
    """

    id: str
    """The outcome's id, unique within the project."""
    tasking_id: UUID
    """The id of the tasking."""
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
    target_date: date
    """The date by which the target value is to be reached."""
    weight: Decimal = Decimal(1)
    """The part of the outcome's result credited to the tasking (0 < weight <= 1)."""
    sector: str | None = None
    """The UK SIC 2007 section (A to U) the outcome is delivered in, e.g. C (manufacturing); None: its tasking's."""


@dataclass(frozen=True)
class OutcomeV1:
    """A measure the project delivers, contributing to one tasking's share.

    ``weight`` (0 < weight <= 1, default 1) is the part of the outcome's result credited to the tasking, e.g. 0.5
    when two projects share the credit for the same jobs; it also weighs the outcome in the project's RAG.
    """

    id: str
    """The outcome's id, unique within the project."""
    tasking_id: UUID
    """The id of the tasking."""
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
    target_date: date
    """The date by which the target value is to be reached."""
    weight: Decimal = Decimal(1)
    """The part of the outcome's result credited to the tasking (0 < weight <= 1)."""

    __pydantic_config__ = ConfigDict(title="Outcome")  # the title it was published with


# An outcome as ProjectOpened v1 published it (before an outcome could name a sector), frozen under the name its
# schema gave it.
OutcomeV1.__name__ = OutcomeV1.__qualname__ = "Outcome"


@dataclass(frozen=True)
class Milestone:
    id: str
    """The milestone's id, unique within the project."""
    title: str
    """What is to be done by then."""
    due_on: date
    """The date it is due."""


@dataclass(frozen=True)
class ResourceCommitment:
    """Resources a partner organisation committed to a project: money (GBP) and staff days."""

    organisation: str
    """The partner organisation that committed them."""
    money_gbp: Decimal
    """The money committed, in pounds sterling."""
    staff_days: Decimal
    """The staff days committed."""
    note: str = ""
    """Anything said with it; empty when nothing."""


@dataclass(frozen=True)
class Risk:
    """A risk to delivery: likelihood and impact on 1..5 (score = likelihood x impact), an owner, a mitigation."""

    id: str
    """The risk's id, unique within the project."""
    description: str
    """What might happen."""
    likelihood: int
    """How likely, 1 (rare) to 5 (almost certain)."""
    impact: int
    """How bad, 1 (slight) to 5 (severe)."""
    owner: str
    """Who manages the risk."""
    mitigation: str
    """What is done to reduce it."""


@dataclass(frozen=True)
class OutcomeValue:
    """The actual value of one outcome's measure."""

    outcome_id: str
    """The id of the project's outcome."""
    value: Decimal
    """The measure's actual value, in the outcome's unit."""


@dataclass(frozen=True)
class RatioParts:
    """The numerator and denominator of a ratio outcome's value (``shared.measures``: a ``ratio`` kind), reported
    separately so that a roll-up sums each and divides at the end, never averaging ratios."""

    outcome_id: str
    """The id of the project's outcome."""
    numerator: Decimal
    """The numerator, e.g. residents in employment."""
    denominator: Decimal
    """The denominator, e.g. residents of working age (more than zero)."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProgrammeOpened(Fact):
    """A district partnership's programme was opened: it holds every project in that place."""

    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectAddedToProgramme(Fact):
    """A project joined its district's programme."""

    project_id: UUID
    """The id of the project."""
    title: str
    """The project's title."""


@contract(SERVICE, version=2, release=2)
@dataclass(frozen=True, kw_only=True)
class ProjectOpened(Fact):
    """A project was opened against one or more accepted taskings of its district, with a lead partner.

    New in v2: an outcome may name the UK SIC 2007 section it is delivered in (``Outcome.sector``)."""

    programme_id: UUID
    """The id of its district's programme."""
    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    title: str
    """The project's title."""
    lead_partner: str
    """The partner organisation responsible for delivery."""
    project_manager: str
    """Who manages the project."""
    taskings: tuple[TaskingRef, ...]
    """The accepted taskings it delivers, each with the version taken into account."""
    outcomes: tuple[Outcome, ...]
    """The measures it delivers, each towards one tasking."""
    milestones: tuple[Milestone, ...] = ()
    """Its milestones."""
    resources: tuple[ResourceCommitment, ...] = ()
    """The resources partners committed to it."""
    risks: tuple[Risk, ...] = ()
    """The risks to its delivery."""


class Submission(StrEnum):
    """How a progress report reached the partnership."""

    API = "api"  # one report through the REST API (or a GraphQL mutation forwarded to it)
    BULK_UPLOAD = "bulk_upload"  # a row of a partner system's bulk upload


@contract(SERVICE, version=3, release=2)
@dataclass(frozen=True, kw_only=True)
class ProgressReported(Fact):
    """The lead partner reported actual values at a date, with a narrative; RAG and direction derived then.

    ``actuals`` is every outcome's value standing at ``reported_on`` (reported now, or carried from earlier);
    ``shortfall_percent`` is how far they lag the trajectory (negative when ahead). ``submitted_via`` (new in v2)
    says how the report came: one through the API, or a row of a partner system's bulk upload; every v1 report
    came through the API. ``parts`` (new in v3): the numerator and denominator standing at ``reported_on`` of every
    ratio outcome (its value in ``actuals`` is their ratio, in its unit); none before v3, when no outcome could be a
    ratio.
    """

    reported_on: date
    """The date the values stand at."""
    values: tuple[OutcomeValue, ...]
    """The values reported in this report, one per outcome reported."""
    actuals: tuple[OutcomeValue, ...]
    """Every outcome's value standing at reported_on: reported now or carried from an earlier report."""
    narrative: str
    """The lead partner's account of progress."""
    rag: Rag
    """Red, amber or green, derived from the shortfall against the trajectory."""
    shortfall_percent: Decimal
    """How far the actuals lag the straight-line trajectory to the targets, in percent (negative when ahead)."""
    direction: DirectionOfTravel | None = None
    """Against the previous report; None on the first report."""
    correction: bool = False
    """Whether this report corrects an earlier one at the same date."""
    correction_reason: str | None = None
    """Why the earlier report was corrected; None when it is not a correction."""
    submitted_via: Submission
    """How the report came: through the API or a row of a bulk upload."""
    parts: tuple[RatioParts, ...] = ()
    """Every ratio outcome's numerator and denominator standing at reported_on (reported now or carried)."""


def progress_reported_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Before bulk uploads existed every report came through the API."""
    return {**data, "submitted_via": Submission.API.value}


def progress_reported_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Before v3 no outcome could be a ratio: no parts."""
    return {**data, "parts": []}


def project_opened_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Before v2 no outcome named a sector: each counts in its tasking's."""
    return {**data, "outcomes": [{**o, "sector": None} for o in data.get("outcomes", [])]}


@dataclass(frozen=True)
class Standing:
    """What stands of a project's progress after a change to its timeline: the latest report that still stands."""

    reported_on: date | None
    """The date of the latest report that stands; None when none does."""
    actuals: tuple[OutcomeValue, ...]
    """Every outcome's value standing at that date; empty when no report stands."""
    rag: Rag | None
    """The RAG derived from that report; None when no report stands."""
    shortfall_percent: Decimal | None
    """Its shortfall against the trajectory, in percent; None when no report stands."""
    direction: DirectionOfTravel | None = None
    """Its direction of travel; None when no report stands or on the first."""
    parts: tuple[RatioParts, ...] = ()
    """Every ratio outcome's numerator and denominator standing at that date; empty when none."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class ProgressReportWithdrawn(Fact):
    """A progress report was withdrawn as a mistake, with a reason: the reports dated ``reported_on`` recorded
    before this no longer stand, and the project's progress is as if they had never been made (``standing``)."""

    reported_on: date
    """The date of the report withdrawn."""
    reason: str
    """Why it was a mistake, in the words of whoever withdrew it."""
    standing: Standing
    """What stands after the withdrawal."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class ProgressReportCorrected(Fact):
    """A progress report was superseded by a correction, with a reason: the reports dated ``corrected_report_on``
    recorded before this no longer stand, and the corrected values stand at ``reported_on`` (the same date or
    another, never after the day it was made), RAG and direction derived as for any report."""

    corrected_report_on: date
    """The date of the report corrected."""
    reason: str
    """Why the report was wrong, in the words of whoever corrected it."""
    reported_on: date
    """The date the corrected values stand at."""
    values: tuple[OutcomeValue, ...]
    """The values reported in the correction, one per outcome reported."""
    actuals: tuple[OutcomeValue, ...]
    """Every outcome's value standing at reported_on: corrected now or carried from a report that stands."""
    narrative: str
    """The lead partner's account of progress."""
    rag: Rag
    """Red, amber or green, derived from the shortfall against the trajectory."""
    shortfall_percent: Decimal
    """How far the actuals lag the straight-line trajectory to the targets, in percent (negative when ahead)."""
    direction: DirectionOfTravel | None = None
    """Against the report before it that stands; None when there is none."""
    submitted_via: Submission
    """How the correction came: through the API or a row of a bulk upload."""
    parts: tuple[RatioParts, ...] = ()
    """Every ratio outcome's numerator and denominator standing at reported_on (corrected now or carried)."""
    standing: Standing
    """What stands after the correction: the correction itself, or a later report that stands."""


@dataclass(frozen=True)
class ProfilePoint:
    """A value an outcome is expected to stand at on a date (a point of its profile)."""

    on: date
    """The date."""
    value: Decimal
    """The value expected then, in the outcome's unit."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class OutcomeProfiled(Fact):
    """An outcome's trajectory was given a profile (expected values at dates, for delivery that is not a straight
    line, e.g. jobs back-loaded until a business park opens), or had it removed (``profile`` empty: the straight
    line again). RAG and direction are derived again against it (``shared.performance``): ``standing`` is the
    latest report that stands, judged against the new profile; a manual RAG gives way to it."""

    outcome_id: str
    """The id of the project's outcome."""
    profile: tuple[ProfilePoint, ...]
    """The expected values by date, between the baseline and the target date; empty: the straight line."""
    standing: Standing
    """The latest report that stands, with its RAG, shortfall and direction derived again against the profile."""


@contract(SERVICE, release=2)
@dataclass(frozen=True, kw_only=True)
class ShareProfileAdopted(Fact):
    """A share the project delivers was given a profile, or had it removed (``tasking.ShareProfiled``): an outcome
    of that share without a profile of its own is judged against the share's carried onto it (the same fraction of
    the change planned at each date; ``shared.performance``: the most specific profile available). ``standing`` is
    the latest report that stands, its RAG, shortfall and direction derived again; a manual RAG gives way to it."""

    tasking_id: UUID
    """The tasking whose share was profiled."""
    upstream_version: int
    """The tasking's version this event answered (the tasking service's aggregate version)."""
    share: Decimal
    """The share the profile is of, in the target's unit."""
    profile: tuple[ProfilePoint, ...]
    """The share's profile (the part expected delivered by each date); empty: none."""
    standing: Standing
    """The latest report that stands, with its RAG, shortfall and direction derived again."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class RagOverridden(Fact):
    """The derived RAG was overridden by hand, with a reason; the override expires at the next report."""

    rag: Rag
    """The RAG set by hand."""
    derived_rag: Rag | None
    """The RAG derived from the last report; None before any report."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class MilestoneAdded(Fact):
    milestone: Milestone
    """The milestone added."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class MilestoneAchieved(Fact):
    milestone_id: str
    """The id of the milestone achieved."""
    achieved_on: date
    """The date it was achieved."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ResourcesCommitted(Fact):
    commitment: ResourceCommitment
    """What was committed, by whom."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class RiskRecorded(Fact):
    risk: Risk
    """The risk recorded."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class InterventionRecorded(Fact):
    """The programme manager intervened in a drifting project (a decision with a reference).

    ``triggers`` says why intervention was due: ``red``, ``missed-milestone:<id>`` or ``tasking-changed``.
    """

    kind: InterventionKind
    """What the programme manager did."""
    description: str
    """What was done, in the programme manager's words."""
    triggers: tuple[str, ...]
    """Why intervention was due: red, missed-milestone:<id> or tasking-changed."""
    due_on: date | None = None
    """By when it is to have worked (its effect seen in the project's reports); None when no date was set."""
    owner: str | None = None
    """The partner organisation that carries it out (its id); None when it is the project's lead partner."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectDeferred(Fact):
    """The project was deferred by a decision with a reason (e.g. resources redirected); never silently."""

    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectResumed(Fact):
    reason: str
    """Why, in the words of whoever decided or recorded it."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ProjectClosed(Fact):
    """The project was closed with the outcome achieved and the lessons learnt; it accepts no more progress."""

    outcome_achieved: str
    """What the project achieved, in words."""
    lessons: str
    """The lessons learnt."""
    final_actuals: tuple[OutcomeValue, ...]
    """Every outcome's value at closure."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ContributionRepointed(Fact):
    """The project's outcomes for one tasking now count towards a tasking as it stands after a change.

    From upstream (``upstream_version`` set): the tasking was retasked within the district (new share, deadline or
    lead partner) and the project is flagged for review. By the programme manager (``upstream_version`` None):
    outcomes moved from ``from_tasking_id`` to another accepted tasking of the district.
    """

    from_tasking_id: UUID
    """The tasking the outcomes counted towards before."""
    to_tasking_id: UUID
    """The tasking they count towards now."""
    to_version: int
    """That tasking's version taken into account."""
    share: Decimal
    """That tasking's share, as it stands."""
    deadline: date
    """That tasking's deadline, as it stands."""
    lead_partner: str
    """That tasking's lead partner, as it stands."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""
    upstream_version: int | None = None
    """The tasking's version when the change came from upstream; None when the programme manager re-pointed."""


@contract(SERVICE)
@dataclass(frozen=True, kw_only=True)
class ContributionClosed(Fact):
    """The project's outcomes no longer count towards a tasking (it was withdrawn, or retasked to another district);
    the project is flagged until the programme manager re-points it, intervenes or closes it."""

    tasking_id: UUID
    """The tasking the outcomes no longer count towards."""
    upstream_version: int
    """The tasking's version this event answered (the tasking service's aggregate version)."""
    reason: str
    """Why, in the words of whoever decided or recorded it."""


# -- superseded versions, frozen as published (their schemas stay in contracts/events) ------------------------------


@superseded(SERVICE, "ProgressReported", version=1, upcast=progress_reported_v1_to_v2)
@dataclass(frozen=True, kw_only=True)
class ProgressReportedV1(Fact):
    """The lead partner reported actual values at a date, with a narrative; RAG and direction derived then.

    ``actuals`` is every outcome's value standing at ``reported_on`` (reported now, or carried from earlier);
    ``shortfall_percent`` is how far they lag the trajectory (negative when ahead).
    """

    reported_on: date
    """The date the values stand at."""
    values: tuple[OutcomeValue, ...]
    """The values reported in this report, one per outcome reported."""
    actuals: tuple[OutcomeValue, ...]
    """Every outcome's value standing at reported_on: reported now or carried from an earlier report."""
    narrative: str
    """The lead partner's account of progress."""
    rag: Rag
    """Red, amber or green, derived from the shortfall against the trajectory."""
    shortfall_percent: Decimal
    """How far the actuals lag the straight-line trajectory to the targets, in percent (negative when ahead)."""
    direction: DirectionOfTravel | None = None
    """Against the previous report; None on the first report."""
    correction: bool = False
    """Whether this report corrects an earlier one at the same date."""
    correction_reason: str | None = None
    """Why the earlier report was corrected; None when it is not a correction."""

    __pydantic_config__ = ConfigDict(title="ProgressReported")  # the title it was published with


@superseded(SERVICE, "ProgressReported", version=2, upcast=progress_reported_v2_to_v3)
@dataclass(frozen=True, kw_only=True)
class ProgressReportedV2(Fact):
    """The lead partner reported actual values at a date, with a narrative; RAG and direction derived then.

    ``actuals`` is every outcome's value standing at ``reported_on`` (reported now, or carried from earlier);
    ``shortfall_percent`` is how far they lag the trajectory (negative when ahead). ``submitted_via`` (new in v2)
    says how the report came: one through the API, or a row of a partner system's bulk upload; every v1 report
    came through the API.
    """

    reported_on: date
    """The date the values stand at."""
    values: tuple[OutcomeValue, ...]
    """The values reported in this report, one per outcome reported."""
    actuals: tuple[OutcomeValue, ...]
    """Every outcome's value standing at reported_on: reported now or carried from an earlier report."""
    narrative: str
    """The lead partner's account of progress."""
    rag: Rag
    """Red, amber or green, derived from the shortfall against the trajectory."""
    shortfall_percent: Decimal
    """How far the actuals lag the straight-line trajectory to the targets, in percent (negative when ahead)."""
    direction: DirectionOfTravel | None = None
    """Against the previous report; None on the first report."""
    correction: bool = False
    """Whether this report corrects an earlier one at the same date."""
    correction_reason: str | None = None
    """Why the earlier report was corrected; None when it is not a correction."""
    submitted_via: Submission
    """How the report came: through the API or a row of a bulk upload."""

    __pydantic_config__ = ConfigDict(title="ProgressReported")  # the title it was published with


@superseded(SERVICE, "ProjectOpened", version=1, upcast=project_opened_v1_to_v2)
@dataclass(frozen=True, kw_only=True)
class ProjectOpenedV1(Fact):
    """A project was opened against one or more accepted taskings of its district, with a lead partner."""

    programme_id: UUID
    """The id of its district's programme."""
    district: str
    """The district partnership's place (its name, e.g. Northtown), as in every service."""
    title: str
    """The project's title."""
    lead_partner: str
    """The partner organisation responsible for delivery."""
    project_manager: str
    """Who manages the project."""
    taskings: tuple[TaskingRef, ...]
    """The accepted taskings it delivers, each with the version taken into account."""
    outcomes: tuple[OutcomeV1, ...]
    """The measures it delivers, each towards one tasking."""
    milestones: tuple[Milestone, ...] = ()
    """Its milestones."""
    resources: tuple[ResourceCommitment, ...] = ()
    """The resources partners committed to it."""
    risks: tuple[Risk, ...] = ()
    """The risks to its delivery."""

    __pydantic_config__ = ConfigDict(title="ProjectOpened")  # the title it was published with


INTERNAL: frozenset[type[Fact]] = frozenset({ProgrammeOpened, ProjectAddedToProgramme})
"""Bookkeeping of the programme (a district's list of its projects), not integration events: ``ProjectOpened``
names the district and the programme. Every other event of the service is public
(``shared.contracts.publication``)."""

RETIRED: frozenset[type[Fact]] = frozenset({ProgrammeOpened, ProjectAddedToProgramme})
"""No longer recorded: the programme is derived from ``ProjectOpened`` (``services.projects.retired``). Old stores
still hold them, and the relay passes them over in every release."""
