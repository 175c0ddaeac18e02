"""HTTP API of the projects service: parse, authorize (role and organisation or district), call the application."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, Field

from services.projects import bulk, progress
from services.projects.application import ProjectsApplication
from services.projects.domain import Project
from services.projects.permissions import (
    App,
    LedOrManagedProject,
    ManagedProject,
    Manager,
    ManagerOrPartner,
    Partner,
    Reader,
    ReportedProject,
    SupportedProject,
    opening_district,
)
from services.projects.progress import (
    AchieveMilestone,
    CommitResources,
    CorrectReport,
    RecordRisk,
    ReportProgress,
    ResourcesIn,
    RiskIn,
    Versioned,
    WithdrawReport,
    committing_resources,
)
from shared.auth import TokenService
from shared.contracts import Decision
from shared.contracts.projects import (
    InterventionKind,
    Milestone,
    Outcome,
    Rag,
)
from shared.devtools import install_api_docs
from shared.errors import NotFound
from shared.fields import Day, Figure, Line, Text, Whole
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
    correlation_id,
    expected_version,
    install_problem_handlers,
    reads_one,
)

# -- request bodies -------------------------------------------------------------------------------------------------


class OutcomeIn(StrictModel):
    """A measure the project delivers, counting towards one of its taskings' share."""

    id: Line = Field(min_length=1, max_length=100, examples=["jobs"])
    tasking_id: UUID
    metric: Line = Field(min_length=1, max_length=300, examples=["new private-sector jobs"])
    unit: Line = Field(min_length=1, max_length=50, examples=["jobs"])
    baseline_value: Figure
    baseline_date: Day
    target_value: Figure
    target_date: Day
    weight: Figure = Field(Decimal(1), description="Part of the result credited to the tasking (0 < w <= 1).")
    sector: Line | None = Field(None, min_length=1, max_length=1, examples=["C"], description=(
        "The UK SIC 2007 section (A to U) the outcome is delivered in, e.g. C (manufacturing); none: its tasking's."))

    def to_outcome(self) -> Outcome:
        return Outcome(id=self.id, tasking_id=self.tasking_id, metric=self.metric, unit=self.unit,
                       baseline_value=self.baseline_value, baseline_date=self.baseline_date,
                       target_value=self.target_value, target_date=self.target_date, weight=self.weight,
                       sector=self.sector)


class MilestoneIn(StrictModel):
    id: Line = Field(min_length=1, max_length=100)
    title: Line = Field(min_length=1, max_length=300)
    due_on: Day

    def to_milestone(self) -> Milestone:
        return Milestone(self.id, self.title, self.due_on)


class OpenProject(StrictModel):
    """Open a project in your district's programme against accepted taskings."""

    title: Line = Field(min_length=1, max_length=300)
    district: Line | None = Field(None, min_length=1, max_length=100, examples=["worcester"],
                                  description="The district whose programme it joins; default: the one you manage.")
    lead_partner: Line = Field(min_length=1, max_length=100, examples=["worcester-college"])
    project_manager: Line = Field(min_length=1, max_length=200, description="The project manager's user id.")
    tasking_ids: list[UUID] = Field(min_length=1)
    outcomes: list[OutcomeIn] = Field(min_length=1)
    milestones: list[MilestoneIn] = []
    resources: list[ResourcesIn] = []
    risks: list[RiskIn] = []
    decision: DecisionIn | None = None
    tasking_versions: dict[UUID, Annotated[Whole, Field(ge=1)]] = Field(default_factory=dict, description=(
        "The version of each tasking as you read it from the tasking service (accepting answers it). While "
        "delivery still knows an older version, the answer is 503 with Retry-After instead of a refusal: a "
        "tasking accepted a moment ago may still be known here as issued. Without it, delivery's copy decides."))


class ProfileOutcome(Versioned):
    """An outcome's profile: expected values at dates (quarterly, say); empty: the straight line again."""

    profile: list[ProfilePointIn] = Field(max_length=PROFILE_POINTS)


class OverrideRag(Versioned):
    rag: Rag
    reason: Text = Field(min_length=1, max_length=2000)
    decision: DecisionIn


class AddMilestone(Versioned):
    milestone: MilestoneIn


class Intervene(Versioned):
    kind: InterventionKind
    description: Text = Field(min_length=1, max_length=4000)
    decision: DecisionIn
    due_on: Day | None = Field(None, description="By when it is to have worked (after the decision's date)")
    owner: Line | None = Field(None, max_length=100, description="The partner organisation that carries it out "
                                                                 "(default: the project's lead partner)")


class ByDecision(Versioned):
    decision: DecisionIn


class CloseProject(Versioned):
    outcome_achieved: Text = Field(min_length=1, max_length=4000)
    lessons: Text = Field(min_length=1, max_length=8000)
    decision: DecisionIn


class RepointContribution(Versioned):
    from_tasking_id: UUID
    to_tasking_id: UUID
    to_tasking_version: Whole | None = Field(None, ge=1, description=(
        "The version of the tasking moved to, as you read it from the tasking service: 503 with Retry-After while "
        "delivery knows an older one."))
    reason: Text = Field("", max_length=2000)
    decision: DecisionIn


# -- responses ------------------------------------------------------------------------------------------------------


class ContributionOut(BaseModel):
    tasking_id: UUID
    tasking_version: int
    open: bool
    share: Decimal | None


class MilestoneOut(BaseModel):
    id: str
    title: str
    due_on: date
    achieved_on: date | None


class RiskOut(BaseModel):
    id: str
    description: str
    likelihood: int
    impact: int
    score: int
    owner: str
    mitigation: str


class ProjectOut(BaseModel):
    id: UUID
    version: int
    programme_id: UUID
    district: str
    title: str
    lead_partner: str
    project_manager: str
    status: str
    rag: Rag | None
    derived_rag: Rag | None
    rag_override_reason: str | None
    last_reported_on: date | None
    flagged: str | None
    contributions: list[ContributionOut]
    outcomes: list[dict[str, Any]]
    actuals: dict[str, Decimal]
    parts: dict[str, dict[str, Decimal]] = Field(default_factory=dict, description=(
        "Each ratio outcome's numerator and denominator standing (its value in actuals is their ratio)."))
    milestones: list[MilestoneOut]
    resources: list[dict[str, Any]]
    risks: list[RiskOut]
    interventions: int

    @staticmethod
    def of(project: Project) -> ProjectOut:
        latest = project.latest_report
        return ProjectOut(
            id=project.id, version=project.version, programme_id=project.programme_id, district=project.district,
            title=project.title, lead_partner=project.lead_partner, project_manager=project.project_manager,
            status=project.status.value, rag=project.rag, derived_rag=project.derived_rag,
            rag_override_reason=project.rag_override_reason,
            last_reported_on=latest.reported_on if latest else None, flagged=project.flagged,
            contributions=[ContributionOut(tasking_id=c.tasking_id, tasking_version=c.upstream_version, open=c.open,
                                           share=c.share) for c in project.contributions.values()],
            outcomes=[vars(o) | {"tasking_id": str(o.tasking_id),
                                 "profile": [{"on": d, "value": v} for d, v in project.profiles.get(o.id, ())]}
                      for o in project.outcomes.values()],
            actuals=project.actuals(),
            parts={k: {"numerator": n, "denominator": d} for k, (n, d) in (latest.parts if latest else {}).items()},
            milestones=[MilestoneOut(id=m.id, title=m.title, due_on=m.due_on,
                                     achieved_on=project.milestones_achieved.get(m.id))
                        for m in project.milestones.values()],
            resources=[vars(r) for r in project.resources],
            risks=[RiskOut(id=r.id, description=r.description, likelihood=r.likelihood, impact=r.impact,
                           score=r.likelihood * r.impact, owner=r.owner, mitigation=r.mitigation)
                   for r in project.risks.values()],
            interventions=project.interventions,
        )


class ProgrammeOut(BaseModel):
    """A district's programme: derived from its projects (no aggregate of its own)."""

    id: UUID
    version: int = Field(description="The projects opened in it so far: it grows by one with each opening.")
    district: str
    project_ids: list[UUID]


class KnownTaskingOut(BaseModel):
    id: UUID
    version: int
    target_id: UUID
    district: str
    lead_partner: str
    share: Decimal
    unit: str
    deadline: date
    status: str


# -- routes --------------------------------------------------------------------------------------------------------


def _decision(body: DecisionIn | None) -> Decision | None:
    return body.to_decision() if body else None


router = APIRouter(route_class=CommandRoute)  # commands run on the loop (shared.web.on_the_loop)


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Open a project in your district's programme against accepted taskings")
def open_project(body: OpenProject, principal: Manager, application: App, request: Request,
                 idempotency_key: IdempotencyKey = None) -> Any:
    district, grant = opening_district(principal, body.district)
    project = application.open_project(
        command_context(principal, grant, request), district=district, title=body.title,
        lead_partner=body.lead_partner, project_manager=body.project_manager, tasking_ids=body.tasking_ids,
        outcomes=[o.to_outcome() for o in body.outcomes], milestones=[m.to_milestone() for m in body.milestones],
        resources=[r.to_commitment() for r in body.resources], risks=[r.to_risk() for r in body.risks],
        decision=_decision(body.decision), idempotency_key=idempotency_key, tasking_versions=body.tasking_versions,
    )
    return Created(id=project.id, version=project.version)


@router.get("/projects/{project_id}", response_model=ProjectOut, summary="A project as it stands")
@reads_one
def get_project(project_id: UUID, principal: Reader, application: App) -> Any:
    return ProjectOut.of(application.project(project_id))


@router.get("/programmes/{district}", response_model=ProgrammeOut, summary="A district's programme")
def get_programme(district: str, principal: Reader, application: App) -> Any:
    programme = application.programme(district)
    if programme is None:
        raise NotFound(f"{district} has no programme yet.")
    return ProgrammeOut(id=programme.id, version=len(programme.project_ids), district=programme.district,
                        project_ids=programme.project_ids)


@router.get("/taskings/{tasking_id}", response_model=KnownTaskingOut,
            summary="A tasking as delivery knows it (from tasking.events)")
@reads_one
def get_tasking(tasking_id: UUID, principal: Reader, application: App) -> Any:
    known = application.tasking(tasking_id)
    return KnownTaskingOut(**vars(known))


@router.post("/projects/{project_id}/progress", response_model=ProjectOut,
             summary="Report actual values at a date (the lead partner's people)")
def report_progress(body: ReportProgress, reported: ReportedProject, principal: Partner, application: App,
                    request: Request, if_match: IfMatch = None) -> Any:
    project, grant = reported
    return ProjectOut.of(progress.report_progress(application, principal, grant, project, body,
                                                  correlation_id(request), if_match))


@router.post("/projects/{project_id}/progress/withdrawals", response_model=ProjectOut,
             summary="Withdraw a mistaken progress report, with a reason (the lead partner's people)")
def withdraw_report(body: WithdrawReport, reported: ReportedProject, principal: Partner, application: App,
                    request: Request, if_match: IfMatch = None) -> Any:
    project, grant = reported
    return ProjectOut.of(progress.withdraw_report(application, principal, grant, project, body,
                                                  correlation_id(request), if_match))


@router.post("/projects/{project_id}/progress/corrections", response_model=ProjectOut,
             summary="Supersede a mistaken progress report by a correction, with a reason (the lead partner's people)")
def correct_report(body: CorrectReport, reported: ReportedProject, principal: Partner, application: App,
                   request: Request, if_match: IfMatch = None) -> Any:
    project, grant = reported
    return ProjectOut.of(progress.correct_report(application, principal, grant, project, body,
                                                 correlation_id(request), if_match))


class RefusalOut(BaseModel):
    """A report or correction refused as bad data: when, what it was dated, who sent it (organisation and role),
    and every problem named."""

    refused_at: str
    command: str
    reported_on: date | None
    organisation: str
    role: str
    problems: list[dict[str, str]]


@router.get("/projects/{project_id}/progress/refusals", response_model=list[RefusalOut],
            summary="The project's progress reports and corrections refused as bad data, with their problems")
def progress_refusals(managed: ManagedProject, principal: Manager, application: App) -> Any:
    project, _ = managed
    return [RefusalOut(**{k: r[k] for k in RefusalOut.model_fields}) for r in application.refusals.of(project.id)]


@router.post("/projects/{project_id}/rag-override", response_model=ProjectOut,
             summary="Override the derived RAG, with a reason, until the next report")
def override_rag(body: OverrideRag, managed: ManagedProject, principal: Manager, application: App,
                 request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.override_rag(
        command_context(principal, grant, request), project, rag=body.rag, reason=body.reason,
        expected_version=expected_version(body.expected_version, if_match), decision=body.decision.to_decision()))


@router.put("/projects/{project_id}/outcomes/{outcome_id}/profile", response_model=ProjectOut,
            summary="Set an outcome's profile (expected values at dates); RAG is derived again against it")
def profile_outcome(outcome_id: str, body: ProfileOutcome, managed: ManagedProject, principal: Manager,
                    application: App, request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.profile_outcome(
        command_context(principal, grant, request), project, outcome_id=outcome_id,
        profile=[(p.on, p.value) for p in body.profile],
        expected_version=expected_version(body.expected_version, if_match)))


@router.post("/projects/{project_id}/milestones", response_model=ProjectOut, summary="Add a milestone (re-plan)")
def add_milestone(body: AddMilestone, managed: ManagedProject, principal: Manager, application: App,
                  request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.add_milestone(
        command_context(principal, grant, request), project, body.milestone.to_milestone(),
        expected_version=expected_version(body.expected_version, if_match)))


@router.post("/projects/{project_id}/milestones/{milestone_id}/achieved", response_model=ProjectOut,
             summary="Record a milestone as achieved")
def achieve_milestone(milestone_id: str, body: AchieveMilestone, led: LedOrManagedProject, principal: ManagerOrPartner,
                      application: App, request: Request, if_match: IfMatch = None) -> Any:
    project, grant = led
    return ProjectOut.of(progress.achieve_milestone(application, principal, grant, project, body,
                                                    correlation_id(request), if_match, milestone_id=milestone_id))


@router.post("/projects/{project_id}/resources", response_model=ProjectOut,
             summary="Commit your organisation's resources (money, staff days)")
def commit_resources(body: CommitResources, project: SupportedProject, principal: ManagerOrPartner, application: App,
                     request: Request, if_match: IfMatch = None) -> Any:
    grant = committing_resources(principal, project, body)
    return ProjectOut.of(progress.commit_resources(application, principal, grant, project, body,
                                                   correlation_id(request), if_match))


@router.post("/projects/{project_id}/risks", response_model=ProjectOut, summary="Record or re-assess a risk")
def record_risk(body: RecordRisk, led: LedOrManagedProject, principal: ManagerOrPartner,
                application: App, request: Request, if_match: IfMatch = None) -> Any:
    project, grant = led
    return ProjectOut.of(progress.record_risk(application, principal, grant, project, body,
                                              correlation_id(request), if_match))


@router.post("/projects/{project_id}/interventions", response_model=ProjectOut,
             summary="Intervene in a red project, one that missed a milestone or whose tasking changed")
def intervene(body: Intervene, managed: ManagedProject, principal: Manager, application: App,
              request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.intervene(
        command_context(principal, grant, request), project, kind=body.kind,
        description=body.description, decision=body.decision.to_decision(),
        expected_version=expected_version(body.expected_version, if_match), due_on=body.due_on, owner=body.owner))


@router.post("/projects/{project_id}/deferral", response_model=ProjectOut, summary="Defer a project by a decision")
def defer(body: ByDecision, managed: ManagedProject, principal: Manager, application: App,
          request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.defer(command_context(principal, grant, request), project,
                                           decision=body.decision.to_decision(),
                                           expected_version=expected_version(body.expected_version, if_match)))


@router.post("/projects/{project_id}/resumption", response_model=ProjectOut, summary="Resume a deferred project")
def resume(body: ByDecision, managed: ManagedProject, principal: Manager, application: App,
           request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.resume(command_context(principal, grant, request), project,
                                            decision=body.decision.to_decision(),
                                            expected_version=expected_version(body.expected_version, if_match)))


@router.post("/projects/{project_id}/closure", response_model=ProjectOut,
             summary="Close with the outcome achieved and the lessons learnt")
def close_project(body: CloseProject, managed: ManagedProject, principal: Manager, application: App,
                  request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.close_project(
        command_context(principal, grant, request), project, outcome_achieved=body.outcome_achieved,
        lessons=body.lessons, decision=body.decision.to_decision(),
        expected_version=expected_version(body.expected_version, if_match)))


@router.post("/projects/{project_id}/contributions/repoint", response_model=ProjectOut,
             summary="Move a project's outcomes from one tasking to another accepted tasking of the district")
def repoint_contribution(body: RepointContribution, managed: ManagedProject, principal: Manager, application: App,
                         request: Request, if_match: IfMatch = None) -> Any:
    project, grant = managed
    return ProjectOut.of(application.repoint_contribution(
        command_context(principal, grant, request), project, from_tasking_id=body.from_tasking_id,
        to_tasking_id=body.to_tasking_id, reason=body.reason, decision=body.decision.to_decision(),
        expected_version=expected_version(body.expected_version, if_match), to_tasking_version=body.to_tasking_version))


def create_app(application: ProjectsApplication, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Projects service", version="1.0",
                  description="Delivery: programmes, projects, progress against the trajectory, RAG, interventions.",
                  docs_url=None, redoc_url=None)
    app.state.application = application
    app.state.tokens = tokens
    install_problem_handlers(app)
    install_api_docs(app)
    app.include_router(router)
    app.include_router(bulk.router)  # partner systems' bulk progress upload
    return app
