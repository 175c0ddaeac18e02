"""HTTP API of the priorities service: parse, authorize (role, and district from the token), call the application.

Partnership officers manage the SCS, objectives, targets and reviews and sift evidence; a district coordinator acts
only for the district in their token; auditors and scrutiny members read. Commands on an existing record take the
version the client last read (``expected_version`` or ``If-Match``); creates take an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import Field

from services.priorities import publication
from services.priorities.application import PersonalDetails, PrioritiesApplication
from services.priorities.domain import (
    DistrictChapter,
    DistrictPriority,
    Evidence,
    Objective,
    ScsReview,
    Target,
    TargetTerms,
)
from services.priorities.permissions import (
    App,
    CoordinatedPriority,
    Coordinator,
    DistrictCoordinator,
    Officer,
    Reader,
)
from shared.auth import Role, TokenService
from shared.contracts.priorities import EvidenceFigure, PriorityStatus, StrategyLevel
from shared.devtools import install_api_docs
from shared.fields import Day, Figure, Line, Text, Whole
from shared.performance import DEFAULT_INTERVAL, ReportingInterval
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

# -- request bodies --------------------------------------------------------------------------------------------------


class AddObjective(StrictModel):
    """Add an objective to the SCS, or to a county strategy under an SCS objective."""

    title: Line = Field(min_length=1, max_length=300, examples=["A skilled and prosperous economy"])
    level: StrategyLevel
    strategy: Line = Field(min_length=1, max_length=200, examples=["Sustainable Community Strategy"])
    parent_id: UUID | None = None
    decision: DecisionIn


class Versioned(StrictModel):
    """A command on an existing record: the version the client last read (or send ``If-Match``)."""

    expected_version: Whole | None = Field(None, ge=1)


class Decided(Versioned):
    """A change that is a decision: which body, when, why."""

    decision: DecisionIn


class RewordObjective(Decided):
    title: Line = Field(min_length=1, max_length=300)


class TargetTermsIn(StrictModel):
    """A SMART target: metric and unit, baseline and its date, target value and deadline, data source and owner."""

    metric: Line = Field(max_length=300, examples=["new private-sector jobs"])
    unit: Line = Field(max_length=100, examples=["jobs"])
    baseline_value: Figure = Field(allow_inf_nan=False, examples=["0"])
    baseline_date: Day = Field(examples=["2011-04-01"])
    target_value: Figure = Field(allow_inf_nan=False, examples=["6000"])
    deadline: Day = Field(examples=["2016-03-31"])
    data_source: Line = Field(max_length=300, examples=["ONS Business Register and Employment Survey"])
    owner_organisation: Line = Field(max_length=100, examples=["worcestershire-cc"])

    def terms(self) -> TargetTerms:
        return TargetTerms(metric=self.metric, unit=self.unit, baseline_value=self.baseline_value,
                           baseline_date=self.baseline_date, target_value=self.target_value, deadline=self.deadline,
                           data_source=self.data_source, owner_organisation=self.owner_organisation)


class SetTarget(TargetTermsIn):
    objective_id: UUID
    decision: DecisionIn
    reporting_interval: ReportingInterval = Field(DEFAULT_INTERVAL, description=(
        "How often the target's figures are to be reported: a figure whose latest report is older is stale."))


class ProfileTarget(Decided):
    """A target's profile: expected values at dates between its baseline and deadline (quarterly, say), by a
    decision; empty: the straight line again."""

    profile: list[ProfilePointIn] = Field(max_length=PROFILE_POINTS)


class SetReportingInterval(Decided):
    """How often a target's figures are to be reported from a date on, by a decision."""

    reporting_interval: ReportingInterval
    in_force_from: Day = Field(description="The first date judged by the new interval, between the target's "
                                           "baseline date and deadline; earlier dates keep the interval before.")


class ReviseTarget(TargetTermsIn):
    expected_version: Whole | None = Field(None, ge=1)
    decision: DecisionIn
    tasking_versions: dict[UUID, Annotated[Whole, Field(ge=1)]] = Field(default_factory=dict, description=(
        "The version of each tasking of the target as you read it from the tasking service (a retasking answers "
        "it). A target is never revised below its tasked total; while priorities still knows an older version of "
        "a tasking named here, the answer is 503 with Retry-After instead of a refusal on a stale total."))


class ProposePriority(StrictModel):
    title: Line = Field(max_length=300, examples=["More private-sector jobs in Worcester"])
    rationale: Text = Field(max_length=4000)
    objective_id: UUID
    evidence_refs: list[Line] = Field(default_factory=list, max_length=50)


class FigureIn(StrictModel):
    label: Line = Field(max_length=200, examples=["Jobseeker's Allowance claimants"])
    value: Figure = Field(allow_inf_nan=False, examples=[2300])
    unit: Line = Field(max_length=100, examples=["people"])


class ContactIn(StrictModel):
    person_id: Line = Field(min_length=1, max_length=200, description="An opaque id of the person (no personal data)")
    name: Line | None = Field(None, max_length=200)
    email: Line | None = Field(None, max_length=320)
    phone: Line | None = Field(None, max_length=50)


class SubmitEvidence(StrictModel):
    title: Line = Field(max_length=300)
    summary: Text = Field(max_length=4000)
    source: Line = Field(max_length=300)
    evidence_date: Day
    figures: list[FigureIn] = Field(default_factory=list, max_length=100)
    objective_ids: list[UUID] = Field(default_factory=list, max_length=50)
    priority_ids: list[UUID] = Field(default_factory=list, max_length=50)
    contact: ContactIn | None = Field(None, description="Who to ask about it: personal data, stored erasably.")


class AcceptEvidence(Versioned):
    decision: DecisionIn


class NoteEvidence(Versioned):
    reason: Text = Field(min_length=1, max_length=4000)
    decision: DecisionIn


class OpenReview(StrictModel):
    decision: DecisionIn


# -- responses -------------------------------------------------------------------------------------------------------


class ObjectiveOut(StrictModel):
    id: UUID
    version: int
    title: str
    level: StrategyLevel
    strategy: str
    parent_id: UUID | None
    retired: bool


class IntervalOut(StrictModel):
    reporting_interval: ReportingInterval
    in_force_from: Day


class TargetOut(TargetTermsIn):
    id: UUID
    version: int
    objective_id: UUID
    retired: bool
    profile: list[ProfilePointIn] = Field(description="Expected values at dates; empty: the straight line.")
    reporting_interval: ReportingInterval = Field(description="The interval in force at the latest date declared "
                                                              "(quarterly unless one was).")
    reporting_intervals: list[IntervalOut] = Field(description="Each interval declared, from the date it judges.")

    @classmethod
    def of(cls, target: Target) -> TargetOut:
        return cls(id=target.id, version=target.version, objective_id=target.objective_id, retired=target.retired,
                   profile=[ProfilePointIn(on=d, value=v) for d, v in target.profile],
                   reporting_interval=target.reporting_interval,
                   reporting_intervals=[IntervalOut(reporting_interval=i, in_force_from=d)
                                        for d, i in target.intervals], **vars(target.terms))


class PriorityOut(StrictModel):
    id: UUID
    version: int
    district: str
    title: str
    rationale: str
    objective_id: UUID
    evidence_refs: list[str]
    status: PriorityStatus
    reconfirmed_in: UUID | None


class AgreedPriorityOut(StrictModel):
    id: UUID
    title: str


class ChapterOut(StrictModel):
    district: str
    id: UUID | None
    version: int
    limit: int
    agreed: list[AgreedPriorityOut]


class EvidenceOut(StrictModel):
    id: UUID
    version: int
    district: str
    title: str
    status: str


class ReviewOut(StrictModel):
    id: UUID
    version: int
    number: int
    open: bool
    outstanding: list[UUID]


def _version(aggregate: Objective | Target | DistrictPriority | Evidence | ScsReview) -> Created:
    return Created(id=aggregate.id, version=aggregate.version)


router = APIRouter(route_class=CommandRoute)  # commands run on the loop (shared.web.on_the_loop)

# -- objectives ------------------------------------------------------------------------------------------------------


@router.post("/objectives", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Add an SCS or county-strategy objective", tags=["objectives"])
def add_objective(body: AddObjective, principal: Officer, application: App, request: Request,
                  idempotency_key: IdempotencyKey = None) -> Any:
    objective = application.add_objective(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), title=body.title, level=body.level,
        strategy=body.strategy, parent_id=body.parent_id,
        decision=body.decision.to_decision(), idempotency_key=idempotency_key,
    )
    return _version(objective)


@router.get("/objectives/{objective_id}", response_model=ObjectiveOut, summary="An objective as it stands",
            tags=["objectives"])
@reads_one
def get_objective(objective_id: UUID, principal: Reader, application: App) -> Any:
    objective = application.objective(objective_id)
    return ObjectiveOut(id=objective.id, version=objective.version, title=objective.title, level=objective.level,
                        strategy=objective.strategy, parent_id=objective.parent_id, retired=objective.retired)


@router.post("/objectives/{objective_id}/reword", response_model=Created, tags=["objectives"],
             summary="Reword an objective (a decision with a reason)")
def reword_objective(objective_id: UUID, body: RewordObjective, principal: Officer, application: App,
                     request: Request, if_match: IfMatch = None) -> Any:
    return _version(application.reword_objective(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), objective_id,
        expected_version=expected_version(body.expected_version, if_match), title=body.title,
        decision=body.decision.to_decision()))


@router.post("/objectives/{objective_id}/retire", response_model=Created, tags=["objectives"],
             summary="Retire an objective (a decision with a reason; never deleted)")
def retire_objective(objective_id: UUID, body: Decided, principal: Officer, application: App, request: Request,
                     if_match: IfMatch = None) -> Any:
    return _version(application.retire_objective(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), objective_id,
        expected_version=expected_version(body.expected_version, if_match), decision=body.decision.to_decision()))


# -- targets ---------------------------------------------------------------------------------------------------------


@router.post("/targets", status_code=status.HTTP_201_CREATED, response_model=Created, tags=["targets"],
             summary="Set a SMART target on an objective (refused with a message per problem)")
def set_target(body: SetTarget, principal: Officer, application: App, request: Request,
               idempotency_key: IdempotencyKey = None) -> Any:
    return _version(application.set_target(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), objective_id=body.objective_id,
        terms=body.terms(), reporting_interval=body.reporting_interval,
        decision=body.decision.to_decision(), idempotency_key=idempotency_key))


@router.get("/targets/{target_id}", response_model=TargetOut, summary="A target as it stands", tags=["targets"])
@reads_one
def get_target(target_id: UUID, principal: Reader, application: App) -> Any:
    return TargetOut.of(application.target(target_id))


@router.put("/targets/{target_id}/profile", response_model=TargetOut, tags=["targets"],
            summary="Set a target's profile (expected values at dates), by a decision; empty: the straight line")
def profile_target(target_id: UUID, body: ProfileTarget, principal: Officer, application: App, request: Request,
                   if_match: IfMatch = None) -> Any:
    return TargetOut.of(application.profile_target(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), target_id,
        expected_version=expected_version(body.expected_version, if_match),
        profile=[(p.on, p.value) for p in body.profile], decision=body.decision.to_decision()))


@router.put("/targets/{target_id}/reporting-interval", response_model=TargetOut, tags=["targets"],
            summary="Change how often a target's figures are to be reported, from a date, by a decision")
def set_reporting_interval(target_id: UUID, body: SetReportingInterval, principal: Officer, application: App,
                           request: Request, if_match: IfMatch = None) -> Any:
    return TargetOut.of(application.set_reporting_interval(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), target_id,
        expected_version=expected_version(body.expected_version, if_match),
        reporting_interval=body.reporting_interval, in_force_from=body.in_force_from,
        decision=body.decision.to_decision()))


@router.post("/targets/{target_id}/revise", response_model=Created, tags=["targets"],
             summary="Re-baseline or change a target (a decision with a reason)")
def revise_target(target_id: UUID, body: ReviseTarget, principal: Officer, application: App, request: Request,
                  if_match: IfMatch = None) -> Any:
    return _version(application.revise_target(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), target_id,
        expected_version=expected_version(body.expected_version, if_match), terms=body.terms(),
        decision=body.decision.to_decision(), tasking_versions=body.tasking_versions))


@router.post("/targets/{target_id}/retire", response_model=Created, tags=["targets"],
             summary="Retire a target (a decision with a reason)")
def retire_target(target_id: UUID, body: Decided, principal: Officer, application: App, request: Request,
                  if_match: IfMatch = None) -> Any:
    return _version(application.retire_target(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), target_id,
        expected_version=expected_version(body.expected_version, if_match), decision=body.decision.to_decision()))


# -- district chapters and priorities --------------------------------------------------------------------------------


@router.post("/districts/{district}/priorities", status_code=status.HTTP_201_CREATED, response_model=Created,
             tags=["district priorities"], summary="Propose a priority for your district")
def propose_priority(district: str, body: ProposePriority, grant: DistrictCoordinator, principal: Coordinator,
                     application: App, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    return _version(application.propose_priority(
        command_context(principal, grant, request), district=district,
        title=body.title, rationale=body.rationale,
        objective_id=body.objective_id, evidence_refs=body.evidence_refs, idempotency_key=idempotency_key))


@router.get("/districts/{district}/chapter", response_model=ChapterOut, tags=["district priorities"],
            summary="A district's chapter: its agreed priorities and the most it may keep at once")
def get_chapter(district: str, principal: Reader, application: App) -> Any:
    chapter: DistrictChapter | None = application.chapter(district)
    agreed = [] if chapter is None else [AgreedPriorityOut(id=i, title=t) for i, t in chapter.agreed.items()]
    return ChapterOut(district=district, id=None if chapter is None else chapter.id,
                      version=0 if chapter is None else chapter.version, limit=application.priority_limit,
                      agreed=agreed)


@router.get("/priorities/{priority_id}", response_model=PriorityOut, tags=["district priorities"],
            summary="A district priority as it stands")
@reads_one
def get_priority(priority_id: UUID, principal: Reader, application: App) -> Any:
    p = application.priority(priority_id)
    return PriorityOut(id=p.id, version=p.version, district=p.district, title=p.title, rationale=p.rationale,
                       objective_id=p.objective_id, evidence_refs=list(p.evidence_refs), status=p.status,
                       reconfirmed_in=p.reconfirmed_in)


@router.post("/priorities/{priority_id}/agree", response_model=Created, tags=["district priorities"],
             summary="Record the district board's agreement (409 naming the current ones when the district is full)")
def agree_priority(body: Decided, coordinated: CoordinatedPriority, principal: Coordinator, application: App,
                   request: Request, if_match: IfMatch = None) -> Any:
    priority, grant = coordinated
    return _version(application.agree_priority(
        command_context(principal, grant, request), priority,
        expected_version=expected_version(body.expected_version, if_match),
        decision=body.decision.to_decision()))


@router.post("/priorities/{priority_id}/reject", response_model=Created, tags=["district priorities"],
             summary="Record the district board's rejection (a decision with a reason)")
def reject_priority(body: Decided, coordinated: CoordinatedPriority, principal: Coordinator, application: App,
                    request: Request, if_match: IfMatch = None) -> Any:
    priority, grant = coordinated
    return _version(application.reject_priority(
        command_context(principal, grant, request), priority,
        expected_version=expected_version(body.expected_version, if_match),
        decision=body.decision.to_decision()))


@router.post("/priorities/{priority_id}/retire", response_model=Created, tags=["district priorities"],
             summary="Retire an agreed priority, freeing its place")
def retire_priority(body: Decided, coordinated: CoordinatedPriority, principal: Coordinator, application: App,
                    request: Request, if_match: IfMatch = None) -> Any:
    priority, grant = coordinated
    return _version(application.retire_priority(
        command_context(principal, grant, request), priority,
        expected_version=expected_version(body.expected_version, if_match),
        decision=body.decision.to_decision()))


@router.post("/priorities/{priority_id}/reconfirm", response_model=Created, tags=["district priorities"],
             summary="Re-confirm an agreed priority in the open SCS review")
def reconfirm_priority(body: Decided, coordinated: CoordinatedPriority, principal: Coordinator, application: App,
                       request: Request, if_match: IfMatch = None) -> Any:
    priority, grant = coordinated
    return _version(application.reconfirm_priority(
        command_context(principal, grant, request), priority,
        expected_version=expected_version(body.expected_version, if_match),
        decision=body.decision.to_decision()))


# -- SCS reviews -----------------------------------------------------------------------------------------------------


def _review_out(review: ScsReview) -> ReviewOut:
    return ReviewOut(id=review.id, version=review.version, number=review.number, open=review.is_open,
                     outstanding=list(review.outstanding))


@router.post("/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut, tags=["SCS reviews"],
             summary="Open an SCS review over every agreed priority")
def open_review(body: OpenReview, principal: Officer, application: App, request: Request) -> Any:
    return _review_out(application.start_review(command_context(principal, Role.PARTNERSHIP_OFFICER, request),
                                                decision=body.decision.to_decision()))


@router.get("/reviews/{scs_review_id}", response_model=ReviewOut, tags=["SCS reviews"],
            summary="An SCS review and the priorities still awaiting it")
@reads_one
def get_review(scs_review_id: UUID, principal: Reader, application: App) -> Any:
    return _review_out(application.review(scs_review_id))


@router.post("/reviews/{scs_review_id}/close", response_model=Created, tags=["SCS reviews"],
             summary="Close the SCS review (only when every priority is re-confirmed or retired)")
def close_review(scs_review_id: UUID, body: Decided, principal: Officer, application: App, request: Request,
                 if_match: IfMatch = None) -> Any:
    return _version(application.close_review(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), scs_review_id,
        expected_version=expected_version(body.expected_version, if_match), decision=body.decision.to_decision()))


# -- evidence --------------------------------------------------------------------------------------------------------


@router.post("/districts/{district}/evidence", status_code=status.HTTP_201_CREATED, response_model=Created,
             tags=["evidence"], summary="Submit local evidence or a consultation outcome for your district")
def submit_evidence(district: str, body: SubmitEvidence, grant: DistrictCoordinator, principal: Coordinator,
                    application: App, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    return _version(application.submit_evidence(
        command_context(principal, grant, request), district=district,
        title=body.title, summary=body.summary, source=body.source,
        evidence_date=body.evidence_date,
        figures=[EvidenceFigure(label=f.label, value=f.value, unit=f.unit) for f in body.figures],
        objective_ids=body.objective_ids, priority_ids=body.priority_ids, idempotency_key=idempotency_key,
        contact=None if body.contact is None else PersonalDetails(**body.contact.model_dump())))


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut, tags=["evidence"], summary="A piece of evidence")
@reads_one
def get_evidence(evidence_id: UUID, principal: Reader, application: App) -> Any:
    e = application.evidence(evidence_id)
    return EvidenceOut(id=e.id, version=e.version, district=e.district, title=e.title, status=e.status)


@router.post("/evidence/{evidence_id}/accept", response_model=Created, tags=["evidence"],
             summary="Sift: accept the evidence into the evidence base")
def accept_evidence(evidence_id: UUID, body: AcceptEvidence, principal: Officer, application: App,
                    request: Request, if_match: IfMatch = None) -> Any:
    return _version(application.accept_evidence(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), evidence_id,
        expected_version=expected_version(body.expected_version, if_match), decision=body.decision.to_decision()))


@router.post("/evidence/{evidence_id}/note", response_model=Created, tags=["evidence"],
             summary="Sift: note the evidence, with the reason it is not taken into the evidence base")
def note_evidence(evidence_id: UUID, body: NoteEvidence, principal: Officer, application: App, request: Request,
                  if_match: IfMatch = None) -> Any:
    return _version(application.note_evidence(
        command_context(principal, Role.PARTNERSHIP_OFFICER, request), evidence_id,
        expected_version=expected_version(body.expected_version, if_match), reason=body.reason,
        decision=body.decision.to_decision()))


def create_app(application: PrioritiesApplication, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Priorities service", version="1.0",
                  description="Strategy: SCS and county-strategy objectives, SMART targets, district chapters and "
                              "priorities, local evidence and SCS reviews.",
                  docs_url=None, redoc_url=None)
    app.state.application = application
    app.state.tokens = tokens
    install_problem_handlers(app)
    install_api_docs(app)
    app.include_router(router)
    app.include_router(publication.router)  # release of performance figures for open data
    return app
