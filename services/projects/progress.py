"""A project's progress reports, milestones, risks and resources, the one way: each REST handler (``POST
/projects/{id}/progress``, ``/progress/withdrawals``, ``/progress/corrections``, ``/milestones/{id}/achieved``,
``/risks``, ``/resources``) and a partner's inbound topic (``services.projects.inbound``) call the one function here
(``report_progress`` and the rest), on a body of the one model, after the one check of who may
(``permissions.reported_project``, ``led_or_managed_project``, ``supported_project`` with ``committing``).
``ReportedCommand`` runs one sent as data in REST's order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.projects.application import ProjectsApplication
from services.projects.domain import Project
from services.projects.permissions import committing, led_or_managed_project, reported_project, supported_project
from shared.auth import Grant, Principal
from shared.contracts.projects import ResourceCommitment, Risk
from shared.eventstore import CommandContext
from shared.fields import Day, Figure, Line, Text, Whole
from shared.web import StrictModel, expected_version, validation_problem_body


class Versioned(StrictModel):
    expected_version: Whole | None = Field(None, ge=1, description="The version you read (or send If-Match).")


class RatioPartsIn(StrictModel):
    """A ratio outcome's numerator and denominator (``shared.measures``): its value is their ratio in its unit."""

    numerator: Figure = Field(description="E.g. residents in employment.")
    denominator: Figure = Field(description="E.g. residents of working age; more than zero.")


_VALUES = "Actual value per outcome id."
_PARTS = "Numerator and denominator per ratio outcome id (a ratio is reported by its parts, never by its value)."


def _values_or_parts(values: dict[str, Decimal] | None, info: ValidationInfo) -> dict[str, Decimal]:
    """At least one value, unless ratios' parts are reported (a project of one ratio outcome reports no value): the
    very errors a value-only command gives (``values`` required, ``min_length=1``), so REST and the partner topic
    answer alike."""
    if info.data.get("parts"):
        return values or {}
    if values is None:
        raise PydanticCustomError("missing", "Field required")
    if not values:
        raise PydanticCustomError("too_short", "Dictionary should have at least 1 item after validation, not 0",
                                  {"field_type": "Dictionary", "min_length": 1, "actual_length": 0})
    return values


class _ReportProgress(Versioned):
    reported_on: Day
    values: dict[Line, Figure] = Field(min_length=1, description=_VALUES)
    narrative: Text = Field(min_length=1, max_length=4000)
    correction: bool = False
    correction_reason: Text | None = Field(None, max_length=2000)


class ReportProgress(Versioned):
    """A progress report: values per outcome id, and each ratio outcome's numerator and denominator. Through REST a
    report may carry ratios' parts (declared before the values, which are checked against them); the partner topic's
    commands stay as published until a release adds parts to them."""

    reported_on: Day
    parts: dict[Line, RatioPartsIn] = Field(default_factory=dict, description=_PARTS)
    values: dict[Line, Figure] | None = Field(None, validate_default=True, description=(
        f"{_VALUES} Required, and not empty, unless parts are reported."))
    narrative: Text = Field(min_length=1, max_length=4000)
    correction: bool = False
    correction_reason: Text | None = Field(None, max_length=2000)

    _values = field_validator("values")(_values_or_parts)


def _reported(body: ReportProgress | CorrectReport) -> dict[str, Any]:
    """The body's values and ratios' parts, as the aggregate takes them."""
    return {"values": dict(body.values or {}),
            "parts": {k: (p.numerator, p.denominator) for k, p in body.parts.items()}}


class WithdrawReport(Versioned):
    """Withdraw a mistaken report (every report standing at that date), with a reason."""

    reported_on: Day = Field(description="The date of the report withdrawn.")
    reason: Text = Field(min_length=1, max_length=2000)


_CORRECTED_ON = "The date of the report corrected."
_CORRECTED_TO = "The date the corrected values stand at (the same or another)."


class _CorrectReport(Versioned):
    """Supersede a mistaken report by a correction, with a reason: the corrected values stand at reported_on."""

    corrected_report_on: Day = Field(description=_CORRECTED_ON)
    reported_on: Day = Field(description=_CORRECTED_TO)
    values: dict[Line, Figure] = Field(min_length=1, description=_VALUES)
    narrative: Text = Field(min_length=1, max_length=4000)
    reason: Text = Field(min_length=1, max_length=2000)


class CorrectReport(Versioned):
    """Supersede a mistaken report by a correction, with a reason: the corrected values (and ratios' parts) stand at
    reported_on."""

    corrected_report_on: Day = Field(description=_CORRECTED_ON)
    reported_on: Day = Field(description=_CORRECTED_TO)
    parts: dict[Line, RatioPartsIn] = Field(default_factory=dict, description=_PARTS)
    values: dict[Line, Figure] | None = Field(None, validate_default=True, description=(
        f"{_VALUES} Required, and not empty, unless parts are reported."))
    narrative: Text = Field(min_length=1, max_length=4000)
    reason: Text = Field(min_length=1, max_length=2000)

    _values = field_validator("values")(_values_or_parts)


class RiskIn(StrictModel):
    id: Line = Field(min_length=1, max_length=100)
    description: Text = Field(min_length=1, max_length=2000)
    likelihood: Whole
    impact: Whole
    owner: Line = Field(min_length=1, max_length=200)
    mitigation: Text = Field(min_length=1, max_length=2000)

    def to_risk(self) -> Risk:
        return Risk(self.id, self.description, self.likelihood, self.impact, self.owner, self.mitigation)


class AchieveMilestone(Versioned):
    achieved_on: Day


class RecordRisk(Versioned):
    risk: RiskIn


class ResourcesIn(StrictModel):
    organisation: Line = Field(min_length=1, max_length=100)
    money_gbp: Figure = Decimal(0)
    staff_days: Figure = Decimal(0)
    note: Text = Field("", max_length=1000)

    def to_commitment(self) -> ResourceCommitment:
        return ResourceCommitment(self.organisation, self.money_gbp, self.staff_days, self.note)


class CommitResources(Versioned):
    commitment: ResourcesIn


_PROJECT_ID = Field(description="The project (its lead partner must be the topic's organisation).")


class ProgressReportCommand(_ReportProgress):
    """A progress report sent on a partner organisation's inbound topic: the REST body with the project it reports
    (the path's ``project_id`` there). Who reports is never in it: the topic and its Kafka user say."""

    project_id: UUID = _PROJECT_ID


class WithdrawReportCommand(WithdrawReport):
    """A report withdrawn, sent on a partner organisation's inbound topic: the REST body with the path's project."""

    project_id: UUID = _PROJECT_ID


class CorrectReportCommand(_CorrectReport):
    """A report corrected, sent on a partner organisation's inbound topic: the REST body with the path's project."""

    project_id: UUID = _PROJECT_ID


class AchieveMilestoneCommand(AchieveMilestone):
    """A milestone achieved, sent on a partner organisation's inbound topic: the REST body with the path's project
    and milestone."""

    project_id: UUID = _PROJECT_ID
    milestone_id: str = Field(description="The milestone achieved (the path's milestone_id through REST).")


class CommitResourcesCommand(CommitResources):
    """Resources committed, sent on a partner organisation's inbound topic: the REST body with the path's project.
    The commitment's organisation must be the topic's: a partner commits only its own organisation's resources."""

    project_id: UUID = _PROJECT_ID


class RecordRiskCommand(RecordRisk):
    """A risk recorded or re-assessed, sent on a partner organisation's inbound topic: the REST body with the path's
    project."""

    project_id: UUID = _PROJECT_ID


def report_progress(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                    body: ReportProgress, correlation_id: str, if_match: str | None = None) -> Project:
    """Report ``body`` on ``project`` (loaded and authorized for ``principal`` under ``grant``)."""
    return application.report_progress(
        CommandContext(principal.actor(grant), correlation_id), project, reported_on=body.reported_on,
        narrative=body.narrative, correction=body.correction, correction_reason=body.correction_reason,
        expected_version=expected_version(body.expected_version, if_match), **_reported(body))


def withdraw_report(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                    body: WithdrawReport, correlation_id: str, if_match: str | None = None) -> Project:
    """Withdraw the report ``body`` names on ``project`` (loaded and authorized under ``grant``)."""
    return application.withdraw_report(
        CommandContext(principal.actor(grant), correlation_id), project, reported_on=body.reported_on,
        reason=body.reason, expected_version=expected_version(body.expected_version, if_match))


def correct_report(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                   body: CorrectReport, correlation_id: str, if_match: str | None = None) -> Project:
    """Supersede the report ``body`` names on ``project`` by its correction (loaded and authorized under ``grant``)."""
    return application.correct_report(
        CommandContext(principal.actor(grant), correlation_id), project, corrected_report_on=body.corrected_report_on,
        reported_on=body.reported_on, narrative=body.narrative, reason=body.reason,
        expected_version=expected_version(body.expected_version, if_match), **_reported(body))


class FieldsInvalid(Exception):
    """A command whose fields do not validate: ``problem`` is the body REST answers such a request with."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", "invalid fields"))
        self.problem = problem


def achieve_milestone(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                      body: AchieveMilestone, correlation_id: str, if_match: str | None = None, *,
                      milestone_id: str) -> Project:
    """Record ``milestone_id`` of ``project`` as achieved (loaded and authorized under ``grant``)."""
    return application.achieve_milestone(
        CommandContext(principal.actor(grant), correlation_id), project, milestone_id=milestone_id,
        achieved_on=body.achieved_on, expected_version=expected_version(body.expected_version, if_match))


def record_risk(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                body: RecordRisk, correlation_id: str, if_match: str | None = None) -> Project:
    """Record or re-assess the risk ``body`` gives on ``project`` (loaded and authorized under ``grant``)."""
    return application.record_risk(
        CommandContext(principal.actor(grant), correlation_id), project, body.risk.to_risk(),
        expected_version=expected_version(body.expected_version, if_match))


def committing_resources(principal: Principal, project: Project, body: CommitResources) -> Grant:
    """Who may commit the body's resources to ``project``: ``permissions.committing`` on its organisation."""
    return committing(principal, project, body.commitment.organisation)


def commit_resources(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                     body: CommitResources, correlation_id: str, if_match: str | None = None) -> Project:
    """Commit the body's resources to ``project`` (loaded, and the commitment authorized under ``grant``)."""
    return application.commit_resources(
        CommandContext(principal.actor(grant), correlation_id), project, body.commitment.to_commitment(),
        expected_version=expected_version(body.expected_version, if_match))


B = TypeVar("B", bound=Versioned)


@dataclass(frozen=True)
class ReportedCommand(Generic[B]):
    """A command on a project's reports, as REST takes it (``body`` on ``POST /projects/{project_id}/...``, checked
    by ``reported_project``, applied by ``apply``) and as a partner's inbound record carries it (``data``: the body
    with the path's ``project_id``)."""

    body: type[B]
    data: type[BaseModel]
    apply: Callable[..., Project]
    """(application, principal, grant, project, body, correlation id, **path): the function REST calls."""
    permit: Callable[[UUID, Principal, ProjectsApplication], tuple[Project, Grant | None]] = reported_project
    """Who may (the role, the project, and whose it is): the check REST's dependency makes."""
    permit_body: Callable[[Principal, Project, Any], Grant] | None = None
    """For a command whose grant depends on its body (``permit`` gave none): the check REST's handler makes."""
    path: tuple[str, ...] = ()
    """Fields REST takes in the path besides the project's id (passed to ``apply`` by name)."""

    def run(self, application: ProjectsApplication, principal: Principal, data: Mapping[str, Any],
            correlation_id: str) -> Project:
        """The command sent as data, checked in REST's order: a project id that is no id is invalid with every other
        field's error (as a bad path is, with the body's); otherwise who may (``reported_project``: the role, the
        project, its lead partner), then the body's fields, then the command. Refuses with the REST path's errors:
        a DomainError, or FieldsInvalid carrying REST's validation problem."""
        try:
            command = self.data.model_validate(data)
        except ValidationError as error:
            try:
                project_id = UUID(str(data.get("project_id")))
            except ValueError:
                raise FieldsInvalid(validation_problem_body(error.errors())) from None
            self.permit(project_id, principal, application)  # refuses first, as REST's dependencies do
            raise FieldsInvalid(validation_problem_body(error.errors())) from None
        fields = command.model_dump()
        project, grant = self.permit(fields.pop("project_id"), principal, application)
        path = {name: fields.pop(name) for name in self.path}
        body = self.body.model_validate(fields)
        if grant is None:
            assert self.permit_body is not None, "a command's permit gives a grant, or its permit_body does"
            grant = self.permit_body(principal, project, body)
        return self.apply(application, principal, grant, project, body, correlation_id, **path)


REPORT_PROGRESS = ReportedCommand(ReportProgress, ProgressReportCommand, report_progress)
WITHDRAW_REPORT = ReportedCommand(WithdrawReport, WithdrawReportCommand, withdraw_report)
CORRECT_REPORT = ReportedCommand(CorrectReport, CorrectReportCommand, correct_report)
ACHIEVE_MILESTONE = ReportedCommand(AchieveMilestone, AchieveMilestoneCommand, achieve_milestone,
                                    led_or_managed_project, path=("milestone_id",))
RECORD_RISK = ReportedCommand(RecordRisk, RecordRiskCommand, record_risk, led_or_managed_project)
COMMIT_RESOURCES = ReportedCommand(CommitResources, CommitResourcesCommand, commit_resources, supported_project,
                                   permit_body=committing_resources)

