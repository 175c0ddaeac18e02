"""Who may do what in projects, in one place: role and ownership checks as FastAPI dependencies. A check that needs
the project loads it and hands it to the use case, so a command loads it once; the domain keeps the domain's rules
(accepted taskings of the district, the lead partner reports, decisions of the district partnership)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.projects.application import ProjectsApplication
from services.projects.domain import Project
from shared.auth import Grant, Principal, Role, authorize
from shared.errors import NotPermitted
from shared.web import check_roles, on_the_loop, require_role


async def _app(request: Request) -> ProjectsApplication:
    application: ProjectsApplication = request.app.state.application
    return application


App = Annotated[ProjectsApplication, Depends(_app)]
Reader = Annotated[Principal, Depends(require_role(*Role))]
Manager = Annotated[Principal, Depends(require_role(Role.PROGRAMME_MANAGER))]
REPORTERS = (Role.PARTNER_OFFICER,)
"""Who reports progress (of their own organisation's projects)."""
Partner = Annotated[Principal, Depends(require_role(*REPORTERS))]
LEADERS = (Role.PROGRAMME_MANAGER, Role.PARTNER_OFFICER)
"""Who keeps a project's milestones and risks: its district's programme manager, its lead partner's officers."""
ManagerOrPartner = Annotated[Principal, Depends(require_role(*LEADERS))]


def managing(principal: Principal, district: str) -> Grant:
    """A programme manager acts for the district their grant names."""
    return authorize(principal, (Role.PROGRAMME_MANAGER, district),
                     refusal=f"Only {district}'s programme manager may do this.")


def opening_district(principal: Principal, named: str | None) -> tuple[str, Grant]:
    """The district a project is opened in (the one named, or else the only one the manager's token names), with the
    grant its manager acts under."""
    managed = principal.scopes(Role.PROGRAMME_MANAGER)
    district = named or (managed[0] if len(managed) == 1 else None)
    if district is None:
        raise NotPermitted("Your token names no district: only a district's programme manager opens projects."
                           if not managed else f"You manage {', '.join(managed)}: name the district (district).")
    return district, managing(principal, district)


def _managed(project_id: UUID, principal: Manager, application: App) -> tuple[Project, Grant]:
    project = application.project(project_id)
    return project, managing(principal, project.district)


def reported_project(project_id: UUID, principal: Principal, application: ProjectsApplication,
                     ) -> tuple[Project, Grant]:
    """The project whose progress ``principal`` reports, with the grant they report under: a partner officer
    (``REPORTERS``) of its lead partner. REST (``Partner`` and ``ReportedProject``) and a partner's inbound topic
    (``services.projects.inbound``) check by this one function."""
    check_roles(principal, *REPORTERS)
    project = application.project(project_id)
    return project, authorize(principal, (Role.PARTNER_OFFICER, project.lead_partner),
                              refusal=f"Only the lead partner ({project.lead_partner}) reports this project's "
                                      "progress.")


def _reported(project_id: UUID, principal: Partner, application: App) -> tuple[Project, Grant]:
    return reported_project(project_id, principal, application)


def led_or_managed_project(project_id: UUID, principal: Principal, application: ProjectsApplication,
                           ) -> tuple[Project, Grant]:
    """The project, for its district's programme manager or a partner officer of its lead partner (``LEADERS``),
    with the grant they act under: REST (``LedOrManagedProject``) and a partner's inbound topic check by it."""
    check_roles(principal, *LEADERS)
    project = application.project(project_id)
    return project, authorize(principal, (Role.PROGRAMME_MANAGER, project.district),
                              (Role.PARTNER_OFFICER, project.lead_partner),
                              refusal=f"Only the lead partner ({project.lead_partner}) or {project.district}'s "
                                      "programme manager may do this.")


def _led_or_managed(project_id: UUID, principal: ManagerOrPartner, application: App) -> tuple[Project, Grant]:
    return led_or_managed_project(project_id, principal, application)


def supported_project(project_id: UUID, principal: Principal, application: ProjectsApplication,
                      ) -> tuple[Project, None]:
    """The project, for a manager or a partner committing resources to it (``LEADERS``); who may commit what is
    ``committing``, on the body. REST (``SupportedProject``) and a partner's inbound topic check by it."""
    check_roles(principal, *LEADERS)
    return application.project(project_id), None


def _supported(project_id: UUID, principal: ManagerOrPartner, application: App) -> Project:
    return supported_project(project_id, principal, application)[0]


ManagedProject = Annotated[tuple[Project, Grant], Depends(on_the_loop(_managed))]
"""The project, loaded for its district's programme manager, with the grant (programme_manager, its district)."""
ReportedProject = Annotated[tuple[Project, Grant], Depends(on_the_loop(_reported))]
"""The project, loaded for a partner officer of its lead partner (who reports its progress), with that grant."""
LedOrManagedProject = Annotated[tuple[Project, Grant], Depends(on_the_loop(_led_or_managed))]
"""The project, loaded for its lead partner or its district's programme manager, with the grant they act under."""
SupportedProject = Annotated[Project, Depends(on_the_loop(_supported))]
"""The project, loaded for a manager or a partner committing resources to it: who may is ``committing``."""


def committing(principal: Principal, project: Project, organisation: str) -> Grant:
    """A partner commits only its own organisation's resources; the district's programme manager records any."""
    return authorize(principal, (Role.PROGRAMME_MANAGER, project.district), (Role.PARTNER_OFFICER, organisation),
                     refusal="A partner commits only its own organisation's resources.")


def reporting_for_own_organisation(principal: Principal) -> Grant:
    """A bulk upload reports for the uploader's own organisation; each row's project must be led by it (the domain's
    rule)."""
    return authorize(principal, (Role.PARTNER_OFFICER, principal.organisation),
                     refusal="Only a partner organisation's officers report progress, for their own organisation.")
