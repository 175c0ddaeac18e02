"""HTTP API of the tasking service: parse, authorize (role and the caller's theme group, district or partner),
call the application, return. Refusals become problem+json in ``install_problem_handlers``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request, status
from pydantic import BaseModel, Field

from services.tasking.application import TaskingApplication
from services.tasking.domain import AgreedAction, Meeting, Membership, Tasking, body_kind
from shared.auth import Principal, Role, TokenService
from shared.contracts.tasking import BodyKind, CommissioningLevel
from shared.errors import NotFound, NotPermitted
from shared.fields import Day, Figure, Line, Text, Whole
from shared.web import (
    Created,
    DecisionIn,
    IdempotencyKey,
    IfMatch,
    StrictModel,
    command_context,
    expected_version,
    install_problem_handlers,
    require_role,
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


class Retask(Versioned):
    """Any of a new district, lead partner, share or deadline; the decision's reason is the retasking's reason."""

    district: Line | None = Field(None, min_length=1, max_length=100)
    lead_partner: Line | None = Field(None, min_length=1, max_length=100)
    share: Figure | None = Field(None, gt=0, max_digits=18, decimal_places=4)
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
    present: list[Line] = Field(min_length=1, max_length=100)
    title: Line = Field("", max_length=300)


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

    @staticmethod
    def of(t: Tasking) -> TaskingOut:
        return TaskingOut(
            id=t.id, version=t.version, target_id=t.target_id, theme_group=t.theme_group, district=t.district,
            share=t.share, unit=t.unit, deadline=t.deadline, lead_partner=t.lead_partner,
            commissioning_level=t.commissioning_level, status=t.status.value, retasked_from=t.retasked_from,
            achieved=t.achieved,
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
    available: Decimal
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

    @staticmethod
    def of(m: Meeting, meeting_version: int | None) -> MeetingOut:
        return MeetingOut(id=m.id, version=m.version, meeting_version=meeting_version, body=m.body,
                          held_on=m.held_on, present=m.present, title=m.title)


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


# -- dependencies and authorization ------------------------------------------------------------------------------


def _app(request: Request) -> TaskingApplication:
    application: TaskingApplication = request.app.state.application
    return application


App = Annotated[TaskingApplication, Depends(_app)]
Reader = Annotated[Principal, Depends(require_role(*Role))]
Lead = Annotated[Principal, Depends(require_role(Role.THEME_GROUP_LEAD))]
Coordinator = Annotated[Principal, Depends(require_role(Role.DISTRICT_COORDINATOR))]
Writer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER, Role.THEME_GROUP_LEAD,
                                                   Role.DISTRICT_COORDINATOR, Role.PARTNER_OFFICER))]






def _own_theme_group(principal: Principal, tasking: Tasking) -> None:
    if principal.theme_group != tasking.theme_group:
        raise NotPermitted(f"Only a lead of {tasking.theme_group} may change its taskings.")


def _own_district(principal: Principal, district: str) -> None:
    if principal.district != district:
        raise NotPermitted(f"Only the {district} district partnership's coordinator may answer for it.")


def _may_see(principal: Principal, tasking: Tasking) -> None:
    """A partner officer sees its own commitments; every other role reads all (auditors, scrutiny included)."""
    if principal.roles == frozenset({Role.PARTNER_OFFICER}) and tasking.lead_partner != principal.organisation:
        raise NotPermitted("A partner officer sees the taskings its organisation leads.")


def _body_role(principal: Principal, body: str, application: TaskingApplication) -> Role:
    """Who may keep a body's table and minutes: the partnership officer for any body, a theme-group lead for
    their group, a district coordinator for their district partnership."""
    kind = body_kind(application.definition, body)
    if principal.has(Role.PARTNERSHIP_OFFICER):
        return Role.PARTNERSHIP_OFFICER
    if kind is BodyKind.THEME_GROUP and principal.has(Role.THEME_GROUP_LEAD) and principal.theme_group == body:
        return Role.THEME_GROUP_LEAD
    if kind is BodyKind.DISTRICT_PARTNERSHIP and principal.has(Role.DISTRICT_COORDINATOR) \
            and principal.district == body:
        return Role.DISTRICT_COORDINATOR
    raise NotPermitted(f"You may not keep the records of '{body}'.")


router = APIRouter()

# -- taskings ----------------------------------------------------------------------------------------------------


@router.post("/taskings", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Task a district partnership with a share of a target",
             responses={503: {"description": "The target is not known yet (its event is in flight): retry after "
                                             "the Retry-After header's seconds."}})
def issue_tasking(body: IssueTasking, principal: Lead, application: App, request: Request,
                  idempotency_key: IdempotencyKey = None) -> Any:
    if not principal.theme_group:
        raise NotPermitted("Your token names no theme group to task on behalf of.")
    tasking = application.issue(
        command_context(principal, Role.THEME_GROUP_LEAD, request), target_id=body.target_id,
        theme_group=principal.theme_group, district=body.district, share=body.share, deadline=body.deadline,
        lead_partner=body.lead_partner, commissioning_level=body.commissioning_level,
        decision=body.decision.to_decision(), idempotency_key=idempotency_key,
    )
    return Created(id=tasking.id, version=tasking.version)


@router.get("/taskings/{tasking_id}", response_model=TaskingOut, summary="A tasking as it stands")
def get_tasking(tasking_id: UUID, principal: Reader, application: App) -> Any:
    tasking = application.tasking(tasking_id)
    _may_see(principal, tasking)
    return TaskingOut.of(tasking)


@router.post("/taskings/{tasking_id}/accept", response_model=Created, summary="The district accepts the tasking")
def accept(tasking_id: UUID, body: Answer, principal: Coordinator, application: App, request: Request,
           if_match: IfMatch = None) -> Any:
    _own_district(principal, application.tasking(tasking_id).district)
    tasking = application.accept(command_context(principal, Role.DISTRICT_COORDINATOR, request), tasking_id,
                                 expected_version(body.expected_version, if_match),
                                 body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/decline", response_model=Created, summary="The district declines, with a reason")
def decline(tasking_id: UUID, body: Decline, principal: Coordinator, application: App, request: Request,
            if_match: IfMatch = None) -> Any:
    _own_district(principal, application.tasking(tasking_id).district)
    tasking = application.decline(command_context(principal, Role.DISTRICT_COORDINATOR, request), tasking_id,
                                  expected_version(body.expected_version, if_match), body.reason,
                                  body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/start-delivery", response_model=Created, summary="Delivery starts")
def start_delivery(tasking_id: UUID, body: Versioned, principal: Coordinator, application: App, request: Request,
                   if_match: IfMatch = None) -> Any:
    _own_district(principal, application.tasking(tasking_id).district)
    tasking = application.start_delivery(command_context(principal, Role.DISTRICT_COORDINATOR, request), tasking_id,
                                         expected_version(body.expected_version, if_match))
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/complete", response_model=Created, summary="The tasking is completed")
def complete(tasking_id: UUID, body: Complete, principal: Coordinator, application: App, request: Request,
             if_match: IfMatch = None) -> Any:
    _own_district(principal, application.tasking(tasking_id).district)
    tasking = application.complete(command_context(principal, Role.DISTRICT_COORDINATOR, request), tasking_id,
                                   expected_version(body.expected_version, if_match), body.achieved,
                                   body.decision.to_decision() if body.decision else None)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/withdraw", response_model=Created, summary="The theme group withdraws it")
def withdraw(tasking_id: UUID, body: Withdraw, principal: Lead, application: App, request: Request,
             if_match: IfMatch = None) -> Any:
    _own_theme_group(principal, application.tasking(tasking_id))
    tasking = application.withdraw(command_context(principal, Role.THEME_GROUP_LEAD, request), tasking_id,
                                   expected_version(body.expected_version, if_match), body.reason,
                                   body.decision.to_decision())
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/retask", response_model=Created,
             summary="Retask: another district, lead partner, share or deadline, by a decision with a reason")
def retask(tasking_id: UUID, body: Retask, principal: Lead, application: App, request: Request,
           if_match: IfMatch = None) -> Any:
    _own_theme_group(principal, application.tasking(tasking_id))
    tasking = application.retask(command_context(principal, Role.THEME_GROUP_LEAD, request), tasking_id,
                                 expected_version(body.expected_version, if_match),
                                 decision=body.decision.to_decision(),
                                 district=body.district, lead_partner=body.lead_partner, share=body.share,
                                 deadline=body.deadline)
    return Created(id=tasking.id, version=tasking.version)


@router.post("/taskings/{tasking_id}/transfer", status_code=status.HTTP_201_CREATED, response_model=TransferOut,
             summary="Move part of the share to another district (a retasking plus a new tasking, one decision)")
def transfer(tasking_id: UUID, body: Transfer, principal: Lead, application: App, request: Request,
             if_match: IfMatch = None, idempotency_key: IdempotencyKey = None) -> Any:
    _own_theme_group(principal, application.tasking(tasking_id))
    retasked, issued = application.transfer(
        command_context(principal, Role.THEME_GROUP_LEAD, request), tasking_id,
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
    visible = []
    for tasking in taskings:
        try:
            _may_see(principal, tasking)
        except NotPermitted:
            continue
        visible.append(TaskingOut.of(tasking))
    return AllocationOut(target_id=target.id, metric=target.metric, unit=target.unit,
                         target_value=target.target_value, deadline=target.deadline, retired=target.retired,
                         tasked=tasked, available=max(target.target_value - tasked, Decimal(0)), taskings=visible)


@router.get("/commitments", response_model=CommitmentsOut,
            summary="What a partner organisation has committed to: the taskings it leads, the districts it serves")
def commitments(principal: Reader, application: App, organisation: str | None = None) -> Any:
    organisation = organisation or principal.organisation
    if principal.roles == frozenset({Role.PARTNER_OFFICER}) and organisation != principal.organisation:
        raise NotPermitted("A partner officer sees its own organisation's commitments.")
    commitment = application.commitment(organisation)
    return CommitmentsOut(
        organisation=organisation,
        lead_of=[TaskingOut.of(t) for t in application.all_taskings() if t.lead_partner == organisation],
        committed_districts=commitment.districts if commitment else [],
        commitment_version=commitment.version if commitment else None,
    )


# -- memberships -------------------------------------------------------------------------------------------------


@router.post("/memberships", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="A partner joins a body's table (a theme group may nominate its representative to a district)")
def join(body: Join, principal: Writer, application: App, request: Request) -> Any:
    if body.nominated_by and principal.has(Role.THEME_GROUP_LEAD) and principal.theme_group == body.nominated_by:
        role = Role.THEME_GROUP_LEAD  # a theme group supplies its representatives to district partnerships
    else:
        role = _body_role(principal, body.body, application)
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
    role = _body_role(principal, body, application)
    membership = application.leave(command_context(principal, role, request), body=body, organisation=organisation,
                                   expected_version=expected_version(payload.expected_version, if_match),
                                   reason=payload.reason, left_on=payload.left_on,
                                   decision=payload.decision.to_decision() if payload.decision else None)
    return Created(id=membership.id, version=membership.version)


@router.put("/commitments/{organisation}", response_model=Created,
            summary="A county-wide partner declares the districts it commits to")
def declare_commitment(organisation: str, body: DeclareCommitment, principal: Writer, application: App,
                       request: Request, if_match: IfMatch = None) -> Any:
    if principal.has(Role.PARTNERSHIP_OFFICER):
        role = Role.PARTNERSHIP_OFFICER
    elif principal.has(Role.PARTNER_OFFICER) and principal.organisation == organisation:
        role = Role.PARTNER_OFFICER
    else:
        raise NotPermitted("A partner declares its own commitments (or the partnership officer records them).")
    expected = body.expected_version if body.expected_version is not None else (
        expected_version(body.expected_version, if_match) if if_match else None)
    commitment = application.declare_commitment(command_context(principal, role, request), organisation=organisation,
                                                districts=body.districts, expected_version=expected)
    return Created(id=commitment.id, version=commitment.version)


# -- meetings and agreed actions ---------------------------------------------------------------------------------


@router.post("/meetings", status_code=status.HTTP_201_CREATED, response_model=MeetingCreated,
             summary="Record a body's meeting and who was present (decisions reference it)")
def hold_meeting(body: HoldMeeting, principal: Writer, application: App, request: Request,
                 idempotency_key: IdempotencyKey = None) -> Any:
    role = _body_role(principal, body.body, application)
    meeting = application.hold_meeting(command_context(principal, role, request), body=body.body, held_on=body.held_on,
                                       present=body.present, title=body.title, idempotency_key=idempotency_key)
    return MeetingCreated(id=meeting.id, version=meeting.version,
                          meeting_version=application.meeting_version(meeting) or 0)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut, summary="A meeting")
def get_meeting(meeting_id: UUID, principal: Reader, application: App) -> Any:
    meeting = application.meeting(meeting_id)
    return MeetingOut.of(meeting, application.meeting_version(meeting))


@router.post("/meetings/{meeting_id}/actions", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Record an action agreed at the meeting: owner and due date")
def agree_action(meeting_id: UUID, body: AgreeAction, principal: Writer, application: App, request: Request,
                 idempotency_key: IdempotencyKey = None) -> Any:
    role = _body_role(principal, application.meeting(meeting_id).body, application)
    action = application.agree_action(command_context(principal, role, request), meeting_id=meeting_id,
                                      description=body.description, owner=body.owner, due_on=body.due_on,
                                      idempotency_key=idempotency_key)
    return Created(id=action.id, version=action.version)


@router.get("/actions/{action_id}", response_model=ActionOut, summary="An agreed action (overdue or not)")
def get_action(action_id: UUID, principal: Reader, application: App) -> Any:
    return ActionOut.of(application.action(action_id))


@router.post("/actions/{action_id}/done", response_model=Created, summary="The owner reports the action done")
def action_done(action_id: UUID, body: MarkDone, principal: Writer, application: App, request: Request,
                if_match: IfMatch = None) -> Any:
    action = application.action(action_id)
    if principal.has(Role.PARTNER_OFFICER) and principal.organisation == action.owner:
        role = Role.PARTNER_OFFICER
    else:
        role = _body_role(principal, action.body, application)
    action = application.action_done(command_context(principal, role, request), action_id,
                                     expected_version(body.expected_version, if_match),
                                     body.done_on, body.note)
    return Created(id=action.id, version=action.version)


def create_app(application: TaskingApplication, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Tasking service", version="1.0",
                  description="Coordination: memberships, taskings of district partnerships with one lead partner, "
                              "retasking, meetings, decisions and agreed actions.")
    app.state.application = application
    app.state.tokens = tokens
    install_problem_handlers(app)
    app.include_router(router)
    return app
