"""HTTP API of the tasking service: parse, authorize (``permissions``: role and the caller's theme group, district
or partner), call the application, return. Refusals become problem+json in ``install_problem_handlers``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, Field

from services.tasking.application import TaskingApplication
from services.tasking.domain import AgreedAction, Meeting, Membership, Tasking
from services.tasking.permissions import (
    App,
    Coordinator,
    DistrictTasking,
    IssuingThemeGroup,
    Lead,
    OwnedAction,
    Reader,
    ThemeGroupTasking,
    VisibleTasking,
    Writer,
    body_role,
    commitment_role,
    commitments_reader,
    coordinating,
    joining_role,
    leading,
    may_see,
    rules_role,
    scrutiny_pack_role,
)
from shared.auth import TokenService
from shared.contracts.tasking import BodyKind, CommissioningLevel, DelegationScheme, TopicPosition
from shared.devtools import install_api_docs
from shared.errors import NotFound
from shared.fields import Day, Figure, Line, Moment, Text, Whole, figure_in_range, figure_published
from shared.measures import MeasureKind
from shared.rules_history import (
    DistrictAddition,
    DistrictRenaming,
    DistrictRetirement,
    PriorityLimitChange,
    QuorumChange,
    RagChange,
    RuleChange,
    SchemesChange,
)
from shared.web import (
    PROFILE_POINTS,
    CommandRoute,
    Created,
    DecisionIn,
    IdempotencyKey,
    IfMatch,
    ProfilePointIn,
    StrictModel,
    command_context,
    expected_version,
    install_problem_handlers,
    reads_one,
)

# -- bodies ------------------------------------------------------------------------------------------------------


class Versioned(StrictModel):
    expected_version: Whole | None = Field(None, ge=1, description="The version you read (or send If-Match).")


class IssueTasking(StrictModel):
    """Task a district partnership with a share of a county target, one lead partner responsible."""

    target_id: UUID
    district: Line = Field(min_length=1, max_length=100, examples=["worcester"])
    share: Figure = Field(gt=0, max_digits=18, decimal_places=4, examples=["1200"])
    deadline: Day
    lead_partner: Line = Field(min_length=1, max_length=100, examples=["worcester-city-council"])
    commissioning_level: CommissioningLevel = CommissioningLevel.DISTRICT
    decision: DecisionIn
    sector: Line | None = Field(None, min_length=1, max_length=1, examples=["C"], description=(
        "The UK SIC 2007 section (A to U) the share is to be delivered in, e.g. C (manufacturing); none: any."))


class Answer(Versioned):
    decision: DecisionIn | None = None


class Decline(Versioned):
    reason: Text = Field(min_length=3, max_length=4000)
    decision: DecisionIn | None = None


class Complete(Versioned):
    achieved: Figure = Field(ge=0, max_digits=18, decimal_places=4)
    decision: DecisionIn | None = None


class Withdraw(Versioned):
    reason: Text = Field(min_length=3, max_length=4000)
    decision: DecisionIn


class ProfileShare(Versioned):
    """A share's profile: the part expected delivered by each date before its deadline (quarterly, say), by a
    decision of the theme group; empty: none (the target's profile, or the straight line, again)."""

    profile: list[ProfilePointIn] = Field(max_length=PROFILE_POINTS)
    decision: DecisionIn


class Retask(Versioned):
    """Any of a new district, lead partner, share or deadline; the decision's reason is the retasking's reason."""

    district: Line | None = Field(None, min_length=1, max_length=100)
    lead_partner: Line | None = Field(None, min_length=1, max_length=100)
    share: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4), figure_in_range,
                     figure_published] | None = None
    deadline: Day | None = None
    decision: DecisionIn


class Transfer(Versioned):
    """Move part of the share to another district: the rest stays, the part becomes a new tasking there."""

    district: Line = Field(min_length=1, max_length=100, examples=["wychavon"])
    lead_partner: Line = Field(min_length=1, max_length=100, examples=["wychavon-dc"])
    share: Figure = Field(gt=0, max_digits=18, decimal_places=4, examples=["200"])
    deadline: Day | None = None
    decision: DecisionIn


class Join(StrictModel):
    body: Line = Field(min_length=1, max_length=100, examples=["worcester"],
                      description="A theme group, the partnership board, or a district (its partnership).")
    organisation: Line = Field(min_length=1, max_length=100, examples=["worcester-city-council"])
    nominated_by: Line | None = Field(None, max_length=100, description="The theme group it represents, if any.")
    joined_on: Day | None = Field(None, description="The day the membership came into force (default today); a "
                                                    "quorum on a date counts the members of that date.")
    decision: DecisionIn | None = None


class Leave(Versioned):
    reason: Text = Field(min_length=3, max_length=4000)
    left_on: Day | None = Field(None, description="The first day it is no longer a member (default today).")
    decision: DecisionIn | None = None


class DeclareCommitment(Versioned):
    districts: list[Line] = Field(max_length=50)


class HoldMeeting(StrictModel):
    body: Line = Field(min_length=1, max_length=100, examples=["pstg"])
    held_on: Day
    present: list[Line] = Field(default_factory=list, max_length=100, description=(
        "The partners present (their organisation ids): the quorum is counted from them. Required unless "
        "quorum_as_minuted is given."))
    title: Line = Field("", max_length=300)
    quorum_as_minuted: Line | None = Field(None, max_length=200, examples=["WP/2009/03"], description=(
        "For a historic meeting whose attendance was never minuted: the minute reference recording it as quorate, "
        "instead of present (never both). Its decisions are shown, and audited, as resting on a quorum as "
        "minuted."))


class ChangeQuorum(StrictModel):
    body: Line = Field(min_length=1, max_length=100, examples=["pstg"])
    quorum: int = Field(ge=1, le=1000, examples=[4])
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class AddDistrict(StrictModel):
    district: Line = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$", examples=["pershore"])
    name: Line = Field(min_length=1, max_length=200, examples=["Pershore"])
    partnership: Line = Field(min_length=1, max_length=200, examples=["Pershore Partnership"])
    quorum: int = Field(3, ge=1, le=1000)
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class RenameDistrict(StrictModel):
    name: Line = Field(min_length=1, max_length=200)
    partnership: Line = Field(min_length=1, max_length=200)
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class RetireDistrict(StrictModel):
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class SchemeIn(StrictModel):
    id: Line = Field(min_length=1, max_length=200)
    role: Line = Field(min_length=1, max_length=100, examples=["programme_manager"])
    decisions: list[Line] = Field(min_length=1, max_length=50, examples=[["project.intervention"]])
    name: Line = Field("", max_length=300)


class ChangeSchemes(StrictModel):
    schemes: list[SchemeIn] = Field(max_length=100, description="All the body's schemes from the decision's date")
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class ChangeRagThresholds(StrictModel):
    green_within_percent: float = Field(gt=0, le=100, examples=[10])
    amber_within_percent: float = Field(gt=0, le=100, examples=[25])
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class ChangePriorityLimit(StrictModel):
    max_agreed_priorities_per_district: int = Field(ge=1, le=1000, examples=[4])
    decision: DecisionIn
    expected_version: Whole | None = Field(None, ge=1, description="The partnership record's version you last read")


class PartnershipRulesOut(BaseModel):
    version: int
    quorums: dict[str, int]
    """Each body's quorum in force today."""
    districts: dict[str, str]
    """The districts in force today: id -> name."""
    green_within_percent: float
    amber_within_percent: float
    max_agreed_priorities_per_district: int
    changes: list[dict[str, Any]]
    """Every decision that changed the rules, in the order recorded, with the date it is in force from."""


class AgreeAction(StrictModel):
    description: Text = Field(min_length=3, max_length=2000)
    owner: Line = Field(min_length=1, max_length=100)
    due_on: Day


class MarkDone(Versioned):
    done_on: Day
    note: Text = Field("", max_length=2000)


# -- responses ---------------------------------------------------------------------------------------------------


class DecisionOut(BaseModel):
    body: str
    decided_on: date
    reason: str
    meeting_id: str | None
    reference: str | None
    meeting_version: int | None = None
    delegation: str | None = None


class TaskingOut(BaseModel):
    id: UUID
    version: int
    target_id: UUID
    theme_group: str
    district: str
    share: Decimal
    unit: str
    deadline: date
    lead_partner: str
    commissioning_level: CommissioningLevel
    status: str
    retasked_from: UUID | None
    achieved: Decimal | None
    decision: DecisionOut | None
    sector: str | None = None
    profile: list[ProfilePointIn] = Field(default_factory=list, description=(
        "The part of the share expected delivered by each date; empty: none (the target's profile, or the line)."))

    @staticmethod
    def of(t: Tasking) -> TaskingOut:
        return TaskingOut(
            id=t.id, version=t.version, target_id=t.target_id, theme_group=t.theme_group, district=t.district,
            share=t.share, unit=t.unit, deadline=t.deadline, lead_partner=t.lead_partner,
            commissioning_level=t.commissioning_level, status=t.status.value, retasked_from=t.retasked_from,
            achieved=t.achieved, sector=getattr(t, "sector", None),
            profile=[ProfilePointIn(on=d, value=v) for d, v in getattr(t, "profile", ())],
            decision=DecisionOut(**vars(t.decision)) if t.decision else None,
        )


class TransferOut(BaseModel):
    retasked: Created
    issued: Created


class AllocationOut(BaseModel):
    target_id: UUID
    metric: str
    unit: str
    target_value: Decimal
    deadline: date
    retired: bool
    tasked: Decimal
    available: Decimal | None = Field(description="What may still be tasked: the improvement (target minus baseline) "
                                                  "less the shares that count; null for a level, never summed.")
    kind: str = Field(description="The measure's kind, from its unit: count, level or ratio.")
    baseline_value: Decimal
    improvement: Decimal = Field(description="What the target asks to change: target minus baseline.")
    over_allocated_by: Decimal | None = Field(description=(
        "How far the shares that count exceed the improvement (a revision raced past a tasking), until the theme "
        "group retasks; null when they do not (and for a level)."))
    over_allocation_recorded: bool = Field(description=(
        "Whether tasking recorded the target over-allocated (TargetOverAllocated) and no retasking, withdrawal, "
        "decline or revision has cleared it yet (TargetOverAllocationCleared)."))
    taskings: list[TaskingOut]


class MembershipOut(BaseModel):
    id: UUID
    version: int
    body: str
    body_kind: BodyKind
    organisation: str
    nominated_by: str | None
    is_member: bool
    joined_on: date
    left_on: date | None

    @staticmethod
    def of(m: Membership) -> MembershipOut:
        return MembershipOut(id=m.id, version=m.version, body=m.body, body_kind=m.body_kind,
                             organisation=m.organisation, nominated_by=m.nominated_by, is_member=m.is_member,
                             joined_on=m.joined_on, left_on=m.left_on)


class CommitmentsOut(BaseModel):
    organisation: str
    lead_of: list[TaskingOut]
    committed_districts: list[str]
    commitment_version: int | None


class MeetingOut(BaseModel):
    id: UUID
    version: int
    meeting_version: int | None = Field(description="The meeting's entry in its body's minute book: name it, with "
                                                    "the id, in every decision taken at the meeting.")
    body: str
    held_on: date
    present: list[str]
    title: str
    quorum_as_minuted: str | None = Field(None, description=(
        "The minute reference recording the meeting as quorate, for a historic meeting whose attendance was never "
        "minuted; null when attendance was recorded."))

    @staticmethod
    def of(m: Meeting, meeting_version: int | None, quorum_as_minuted: str | None = None) -> MeetingOut:
        return MeetingOut(id=m.id, version=m.version, meeting_version=meeting_version, body=m.body,
                          held_on=m.held_on, present=m.present, title=m.title, quorum_as_minuted=quorum_as_minuted)


class MeetingCreated(Created):
    meeting_version: int = Field(description="Name it as decision.meeting_version in the decisions taken at it.")


class ActionOut(BaseModel):
    id: UUID
    version: int
    meeting_id: UUID
    body: str
    description: str
    owner: str
    due_on: date
    done_on: date | None
    overdue: bool

    @staticmethod
    def of(a: AgreedAction) -> ActionOut:
        return ActionOut(id=a.id, version=a.version, meeting_id=a.meeting_id, body=a.body, description=a.description,
                         owner=a.owner, due_on=a.due_on, done_on=a.done_on, overdue=a.is_overdue(date.today()))


router = APIRouter(route_class=CommandRoute)  # commands run on the loop (shared.web.on_the_loop)

# -- taskings ----------------------------------------------------------------------------------------------------


@router.post("/taskings", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Task a district partnership with a share of a target",
             responses={503: {"description": "The target is not known yet (its event is in flight): retry after "
                                             "the Retry-After header's seconds."}})
def issue_tasking(body: IssueTasking, principal: Lead, grant: IssuingThemeGroup, application: App,
                  request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    tasking = application.issue(
        command_context(principal, grant, request), target_id=body.target_id,
        theme_group=grant.scope or "", district=body.district, share=body.share, deadline=body.deadline,
        lead_partner=body.lead_partner, commissioning_level=body.commissioning_level,
        decision=body.decision.to_decision(), idempotency_key=idempotency_key, sector=body.sector,
    )
    return Created(id=tasking.id, version=tasking.version)


@router.get("/taskings/{tasking_id}", response_model=TaskingOut, summary="A tasking as it stands")
@reads_one
def get_tasking(tasking: VisibleTasking) -> Any:
    return TaskingOut.of(tasking)


@router.post("/taskings/{tasking_id}/accept", response_model=Created, summary="The district accepts the tasking")
def accept(tasking: DistrictTasking, body: Answer, principal: Coordinator, application: App,
           request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.accept(command_context(principal, coordinating(tasking), request), tasking,
                                 expected_version(body.expected_version, if_match),
                                 body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/decline", response_model=Created, summary="The district declines, with a reason")
def decline(tasking: DistrictTasking, body: Decline, principal: Coordinator, application: App,
            request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.decline(command_context(principal, coordinating(tasking), request), tasking,
                                  expected_version(body.expected_version, if_match), body.reason,
                                  body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/start-delivery", response_model=Created, summary="Delivery starts")
def start_delivery(tasking: DistrictTasking, body: Versioned, principal: Coordinator, application: App,
                   request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.start_delivery(command_context(principal, coordinating(tasking), request), tasking,
                                         expected_version(body.expected_version, if_match))
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/complete", response_model=Created, summary="The tasking is completed")
def complete(tasking: DistrictTasking, body: Complete, principal: Coordinator, application: App,
             request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.complete(command_context(principal, coordinating(tasking), request), tasking,
                                   expected_version(body.expected_version, if_match), body.achieved,
                                   body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/withdraw", response_model=Created, summary="The theme group withdraws it")
def withdraw(tasking: ThemeGroupTasking, body: Withdraw, principal: Lead, application: App,
             request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.withdraw(command_context(principal, leading(tasking), request), tasking,
                                   expected_version(body.expected_version, if_match), body.reason,
                                   body.decision.to_decision())
    return Created(id=tasking.id, version=tasking.version)


@router.put("/taskings/{tasking_id}/profile", response_model=TaskingOut,
            summary="Set a share's profile (the part expected delivered by each date), by a decision")
def profile_share(tasking: ThemeGroupTasking, body: ProfileShare, principal: Lead, application: App,
                  request: Request, if_match: IfMatch = None) -> Any:
    return TaskingOut.of(application.profile_share(
        command_context(principal, leading(tasking), request), tasking,
        expected_version(body.expected_version, if_match), profile=[(p.on, p.value) for p in body.profile],
        decision=body.decision.to_decision()))


@router.post("/taskings/{tasking_id}/retask", response_model=Created,
             summary="Retask: another district, lead partner, share or deadline, by a decision with a reason")
def retask(tasking: ThemeGroupTasking, body: Retask, principal: Lead, application: App,
           request: Request, if_match: IfMatch = None) -> Any:
    tasking = application.retask(command_context(principal, leading(tasking), request), tasking,
                                 expected_version(body.expected_version, if_match),
                                 decision=body.decision.to_decision(),
                                 district=body.district, lead_partner=body.lead_partner, share=body.share,
                                 deadline=body.deadline)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/transfer", status_code=status.HTTP_201_CREATED, response_model=TransferOut,
             summary="Move part of the share to another district (a retasking plus a new tasking, one decision)")
def transfer(tasking: ThemeGroupTasking, body: Transfer, principal: Lead, application: App, request: Request,
             if_match: IfMatch = None, idempotency_key: IdempotencyKey = None) -> Any:
    retasked, issued = application.transfer(
        command_context(principal, leading(tasking), request), tasking,
        expected_version(body.expected_version, if_match),
        decision=body.decision.to_decision(), district=body.district, lead_partner=body.lead_partner,
        share=body.share, deadline=body.deadline, idempotency_key=idempotency_key,
    )
    return TransferOut(retasked=Created(id=retasked.id, version=retasked.version),
                       issued=Created(id=issued.id, version=issued.version))


@router.get("/targets/{target_id}/allocation", response_model=AllocationOut,
            summary="A target's shares across districts: tasked, still available, and the taskings")
def allocation(target_id: UUID, principal: Reader, application: App) -> Any:
    target = application.target(target_id)
    taskings = application.taskings_of_target(target_id)
    tasked = sum((t.share for t in taskings if t.counts_against_target), Decimal(0))
    visible = [TaskingOut.of(tasking) for tasking in taskings if may_see(principal, tasking)]
    summed = target.kind is MeasureKind.COUNT  # a level's (or a ratio's) shares are each district's own
    over = tasked - target.improvement
    recorded = application.allocation(target_id)
    return AllocationOut(target_id=target.id, metric=target.metric, unit=target.unit,
                         target_value=target.target_value, deadline=target.deadline, retired=target.retired,
                         tasked=tasked, available=max(-over, Decimal(0)) if summed else None,
                         kind=target.kind.value, baseline_value=target.baseline_value,
                         improvement=target.improvement,
                         over_allocated_by=over if summed and over > 0 else None,
                         over_allocation_recorded=recorded is not None and recorded.over_allocated,
                         taskings=visible)


@router.get("/commitments", response_model=CommitmentsOut,
            summary="What a partner organisation has committed to: the taskings it leads, the districts it serves")
def commitments(principal: Reader, application: App, organisation: str | None = None) -> Any:
    organisation = organisation or principal.organisation
    commitments_reader(principal, organisation)
    commitment = application.commitment(organisation)
    return CommitmentsOut(
        organisation=organisation,
        lead_of=[TaskingOut.of(t) for t in application.all_taskings() if t.lead_partner == organisation],
        committed_districts=commitment.districts if commitment else [],
        commitment_version=commitment.version if commitment else None,
    )


# -- memberships -------------------------------------------------------------------------------------------------


class PositionIn(StrictModel):
    topic: Line = Field(min_length=1, max_length=200, examples=["tasking.events"])
    events: Whole = Field(ge=0)


class PublishScrutinyPack(StrictModel):
    """Publish a scrutiny pack for a committee's meeting (reporting's ``POST /reports/scrutiny/publications``
    builds the pack and sends this with its SHA-256 and positions)."""

    committee: Line = Field(min_length=1, max_length=200, examples=["Worcestershire Overview and Scrutiny"])
    meeting_on: Day
    starts_on: Day
    ends_on: Day
    districts: list[Line] = Field(default_factory=list, max_length=50)
    theme_groups: list[Line] = Field(default_factory=list, max_length=50)
    records_as_of: Moment
    positions: list[PositionIn] = Field(max_length=20)
    sha256: Line = Field(pattern=r"^[0-9a-f]{64}$")
    renderer_version: Line = Field(min_length=1, max_length=40)
    papers_public: bool
    decision: DecisionIn


@router.post("/scrutiny-packs", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Record that a scrutiny pack was published for a committee's meeting (a delegated decision)")
def publish_scrutiny_pack(body: PublishScrutinyPack, principal: Writer, application: App, request: Request) -> Any:
    role = scrutiny_pack_role(principal)
    pack = application.publish_scrutiny_pack(
        command_context(principal, role, request), decision=body.decision.to_decision(), committee=body.committee,
        meeting_on=body.meeting_on, starts_on=body.starts_on, ends_on=body.ends_on,
        districts=sorted(body.districts), theme_groups=sorted(body.theme_groups),
        records_as_of=body.records_as_of.isoformat(), sha256=body.sha256, renderer_version=body.renderer_version,
        positions=[TopicPosition(p.topic, p.events) for p in body.positions], papers_public=body.papers_public)
    return Created(id=pack.id, version=pack.version)


@router.post("/memberships", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="A partner joins a body's table (a theme group may nominate its representative to a district)")
def join(body: Join, principal: Writer, application: App, request: Request) -> Any:
    role = joining_role(principal, body.body, body.nominated_by, application)
    membership = application.join(command_context(principal, role, request), body=body.body,
                                  organisation=body.organisation,
                                  nominated_by=body.nominated_by, joined_on=body.joined_on,
                                  decision=body.decision.to_decision() if body.decision else None)
    return Created(id=membership.id, version=membership.version)


@router.get("/memberships/{body}/{organisation}", response_model=MembershipOut, summary="One partner's seat")
def get_membership(body: str, organisation: str, principal: Reader, application: App) -> Any:
    membership = application.membership(body, organisation)
    if membership is None:
        raise NotFound(f"'{organisation}' has never been a member of '{body}'.")
    return MembershipOut.of(membership)


@router.post("/memberships/{body}/{organisation}/leave", response_model=Created, summary="A partner leaves a table")
def leave(body: str, organisation: str, payload: Leave, principal: Writer, application: App, request: Request,
          if_match: IfMatch = None) -> Any:
    role = body_role(principal, body, application)
    membership = application.leave(command_context(principal, role, request), body=body, organisation=organisation,
                                   expected_version=expected_version(payload.expected_version, if_match),
                                   reason=payload.reason, left_on=payload.left_on,
                                   decision=payload.decision.to_decision() if payload.decision else None)
    return Created(id=membership.id, version=membership.version)


@router.put("/commitments/{organisation}", response_model=Created,
            summary="A county-wide partner declares the districts it commits to")
def declare_commitment(organisation: str, body: DeclareCommitment, principal: Writer, application: App,
                       request: Request, if_match: IfMatch = None) -> Any:
    role = commitment_role(principal, organisation)
    expected = body.expected_version if body.expected_version is not None else (
        expected_version(body.expected_version, if_match) if if_match else None)
    commitment = application.declare_commitment(command_context(principal, role, request), organisation=organisation,
                                                districts=body.districts, expected_version=expected)
    return Created(id=commitment.id, version=commitment.version)


# -- the partnership's rules (history: founded from the definition, changed by decisions) --------------------------


def _change_out(change: RuleChange) -> dict[str, Any]:
    said: dict[str, Any] = {"change": _CHANGE_NAMES[type(change)], "decided_on": change.decided_on.isoformat()}
    if isinstance(change, QuorumChange):
        said.update(body=change.body, quorum=change.quorum)
    elif isinstance(change, DistrictAddition):
        said.update(district=change.district.id, name=change.district.name,
                    partnership=change.district.partnership, quorum=change.quorum)
    elif isinstance(change, DistrictRenaming):
        said.update(district=change.district, name=change.name, partnership=change.partnership)
    elif isinstance(change, DistrictRetirement):
        said.update(district=change.district)
    elif isinstance(change, SchemesChange):
        said.update(body=change.body, schemes=sorted(s.id for s in change.schemes))
    elif isinstance(change, RagChange):
        said.update(green_within_percent=change.rag.green_within_percent,
                    amber_within_percent=change.rag.amber_within_percent)
    elif isinstance(change, PriorityLimitChange):
        said.update(max_agreed_priorities_per_district=change.limit)
    return said


_CHANGE_NAMES: dict[type, str] = {
    QuorumChange: "quorum", DistrictAddition: "district_added", DistrictRenaming: "district_renamed",
    DistrictRetirement: "district_retired", SchemesChange: "schemes_of_delegation", RagChange: "rag_thresholds",
    PriorityLimitChange: "priority_limit"}


def _rules_out(application: TaskingApplication) -> PartnershipRulesOut:
    partnership = application.partnership()
    today = application.rules.as_of_or_founding(application.definition.calendar()())
    return PartnershipRulesOut(
        version=partnership.version, quorums={b.id: b.quorum for b in today.all_bodies()},
        districts={d.id: d.name for d in today.all_districts()},
        green_within_percent=today.rag.green_within_percent, amber_within_percent=today.rag.amber_within_percent,
        max_agreed_priorities_per_district=today.priority_limit,
        changes=[_change_out(c) for c in partnership.changes])


@router.get("/partnership", response_model=PartnershipRulesOut,
            summary="The partnership's rules of record: quorums now, and every decision that changed them")
def get_partnership(principal: Reader, application: App) -> Any:
    return _rules_out(application)


@router.post("/partnership/quorums", response_model=PartnershipRulesOut,
             summary="Record a board decision that changes a body's quorum from the decision's date")
def change_quorum(body: ChangeQuorum, principal: Writer, application: App, request: Request) -> Any:
    role = rules_role(principal)
    application.change_quorum(command_context(principal, role, request), body=body.body, quorum=body.quorum,
                              decision=body.decision.to_decision(), expected_version=body.expected_version)
    return _rules_out(application)


@router.post("/partnership/districts", response_model=PartnershipRulesOut,
             summary="Record a board decision that adds a district and its district partnership from its date")
def add_district(body: AddDistrict, principal: Writer, application: App, request: Request) -> Any:
    role = rules_role(principal)
    application.add_district(command_context(principal, role, request), district=body.district, name=body.name,
                             partnership=body.partnership, quorum=body.quorum, decision=body.decision.to_decision(),
                             expected_version=body.expected_version)
    return _rules_out(application)


@router.post("/partnership/districts/{district}/name", response_model=PartnershipRulesOut,
             summary="Record a board decision that renames a district or its district partnership from its date")
def rename_district(district: str, body: RenameDistrict, principal: Writer, application: App,
                    request: Request) -> Any:
    role = rules_role(principal)
    application.rename_district(command_context(principal, role, request), district=district, name=body.name,
                                partnership=body.partnership, decision=body.decision.to_decision(),
                                expected_version=body.expected_version)
    return _rules_out(application)


@router.post("/partnership/districts/{district}/retirement", response_model=PartnershipRulesOut,
             summary="Record a board decision that retires a district from its date")
def retire_district(district: str, body: RetireDistrict, principal: Writer, application: App,
                    request: Request) -> Any:
    role = rules_role(principal)
    application.retire_district(command_context(principal, role, request), district=district,
                                decision=body.decision.to_decision(), expected_version=body.expected_version)
    return _rules_out(application)


@router.put("/partnership/schemes/{body_id}", response_model=PartnershipRulesOut,
            summary="Record a decision that replaces a body's schemes of delegation from its date")
def change_schemes(body_id: str, body: ChangeSchemes, principal: Writer, application: App, request: Request) -> Any:
    role = rules_role(principal)
    schemes = [DelegationScheme(s.id, body_id, s.role, list(s.decisions), s.name) for s in body.schemes]
    application.change_schemes(command_context(principal, role, request), body=body_id, schemes=schemes,
                               decision=body.decision.to_decision(), expected_version=body.expected_version)
    return _rules_out(application)


@router.post("/partnership/rag-thresholds", response_model=PartnershipRulesOut,
             summary="Record a board decision that changes the RAG thresholds from its date")
def change_rag_thresholds(body: ChangeRagThresholds, principal: Writer, application: App, request: Request) -> Any:
    role = rules_role(principal)
    application.change_rag_thresholds(command_context(principal, role, request),
                                      green_within_percent=body.green_within_percent,
                                      amber_within_percent=body.amber_within_percent,
                                      decision=body.decision.to_decision(), expected_version=body.expected_version)
    return _rules_out(application)


@router.post("/partnership/priority-limit", response_model=PartnershipRulesOut,
             summary="Record a board decision that changes the limit on agreed priorities from its date")
def change_priority_limit(body: ChangePriorityLimit, principal: Writer, application: App, request: Request) -> Any:
    role = rules_role(principal)
    application.change_priority_limit(command_context(principal, role, request),
                                      limit=body.max_agreed_priorities_per_district,
                                      decision=body.decision.to_decision(), expected_version=body.expected_version)
    return _rules_out(application)


# -- meetings and agreed actions ---------------------------------------------------------------------------------


@router.post("/meetings", status_code=status.HTTP_201_CREATED, response_model=MeetingCreated,
             summary="Record a body's meeting and who was present (decisions reference it)")
def hold_meeting(body: HoldMeeting, principal: Writer, application: App, request: Request,
                 idempotency_key: IdempotencyKey = None) -> Any:
    role = body_role(principal, body.body, application)
    meeting = application.hold_meeting(command_context(principal, role, request), body=body.body, held_on=body.held_on,
                                       present=body.present, title=body.title, idempotency_key=idempotency_key,
                                       quorum_as_minuted=body.quorum_as_minuted)
    return MeetingCreated(id=meeting.id, version=meeting.version,
                          meeting_version=application.meeting_version(meeting) or 0)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut, summary="A meeting")
@reads_one
def get_meeting(meeting_id: UUID, principal: Reader, application: App) -> Any:
    meeting = application.meeting(meeting_id)
    book = application.minute_book(meeting.body)
    return MeetingOut.of(meeting, application.meeting_version(meeting),
                         None if book is None else book.minuted.get(meeting.id))


@router.post("/meetings/{meeting_id}/actions", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Record an action agreed at the meeting: owner and due date")
def agree_action(meeting_id: UUID, body: AgreeAction, principal: Writer, application: App, request: Request,
                 idempotency_key: IdempotencyKey = None) -> Any:
    role = body_role(principal, application.meeting(meeting_id).body, application)
    action = application.agree_action(command_context(principal, role, request), meeting_id=meeting_id,
                                      description=body.description, owner=body.owner, due_on=body.due_on,
                                      idempotency_key=idempotency_key)
    return Created(id=action.id, version=action.version)


@router.get("/actions/{action_id}", response_model=ActionOut, summary="An agreed action (overdue or not)")
@reads_one
def get_action(action_id: UUID, principal: Reader, application: App) -> Any:
    return ActionOut.of(application.action(action_id))


@router.post("/actions/{action_id}/done", response_model=Created, summary="The owner reports the action done")
def action_done(owned: OwnedAction, body: MarkDone, principal: Writer, application: App, request: Request,
                if_match: IfMatch = None) -> Any:
    action, role = owned
    action = application.action_done(command_context(principal, role, request), action,
                                     expected_version(body.expected_version, if_match),
                                     body.done_on, body.note)
    return Created(id=action.id, version=action.version)


def create_app(application: TaskingApplication, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Tasking service", version="1.0",
                  description="Coordination: memberships, taskings of district partnerships with one lead partner, "
                              "retasking, meetings, decisions and agreed actions.",
                  docs_url=None, redoc_url=None)
    app.state.application = application
    app.state.tokens = tokens
    install_problem_handlers(app)
    install_api_docs(app)
    app.include_router(router)
    return app
