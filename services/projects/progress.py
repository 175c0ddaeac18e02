"""Reporting a project's progress, the one way: ``POST /projects/{id}/progress`` and a partner's inbound topic
(``services.projects.inbound``) both call ``report_progress`` here, on a body of the one model ``ReportProgress``,
after the one check of who may report (``permissions.reported_project``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import Field, ValidationError

from services.projects.application import ProjectsApplication
from services.projects.domain import Project
from services.projects.permissions import reported_project
from shared.auth import Grant, Principal
from shared.eventstore import CommandContext
from shared.fields import Day, Figure, Line, Text, Whole
from shared.web import StrictModel, expected_version, validation_problem_body


class Versioned(StrictModel):
    expected_version: Whole | None = Field(None, ge=1, description="The version you read (or send If-Match).")


class ReportProgress(Versioned):
    reported_on: Day
    values: dict[Line, Figure] = Field(min_length=1, description="Actual value per outcome id.")
    narrative: Text = Field(min_length=1, max_length=4000)
    correction: bool = False
    correction_reason: Text | None = Field(None, max_length=2000)


class ProgressReportCommand(ReportProgress):
    """A progress report sent on a partner organisation's inbound topic: the REST body with the project it reports
    (the path's ``project_id`` there). Who reports is never in it: the topic and its Kafka user say."""

    project_id: UUID = Field(description="The project reported (its lead partner must be the topic's organisation).")


def report_progress(application: ProjectsApplication, principal: Principal, grant: Grant, project: Project,
                    body: ReportProgress, correlation_id: str, if_match: str | None = None) -> Project:
    """Report ``body`` on ``project`` (loaded and authorized for ``principal`` under ``grant``)."""
    return application.report_progress(
        CommandContext(principal.actor(grant), correlation_id), project, reported_on=body.reported_on,
        values=body.values, narrative=body.narrative, correction=body.correction,
        correction_reason=body.correction_reason, expected_version=expected_version(body.expected_version, if_match))


class FieldsInvalid(Exception):
    """A command whose fields do not validate: ``problem`` is the body REST answers such a request with."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", "invalid fields"))
        self.problem = problem


def report_progress_command(application: ProjectsApplication, principal: Principal, data: Mapping[str, Any],
                            correlation_id: str) -> Project:
    """A progress report sent as data (a partner's inbound record), checked in REST's order: a project id that is no
    id is invalid with every other field's error (as a bad path is, with the body's); otherwise who may report
    (``reported_project``: the role, the project, its lead partner), then the body's fields, then the report.
    Refuses with the REST path's errors: a DomainError, or FieldsInvalid carrying REST's validation problem."""
    try:
        command = ProgressReportCommand.model_validate(data)
    except ValidationError as error:
        try:
            project_id = UUID(str(data.get("project_id")))
        except ValueError:
            raise FieldsInvalid(validation_problem_body(error.errors())) from None
        reported_project(project_id, principal, application)  # refuses first, as REST's dependencies do
        raise FieldsInvalid(validation_problem_body(error.errors())) from None
    project, grant = reported_project(command.project_id, principal, application)
    body = ReportProgress.model_validate(command.model_dump(exclude={"project_id"}))
    return report_progress(application, principal, grant, project, body, correlation_id)
