"""Who may do what in tasking, in one place: role and ownership checks as FastAPI dependencies. A check that needs
the aggregate loads it and hands it to the use case, so a command loads it once; the domain keeps the domain's
rules (shares within the target, the lead partner at the table, decisions at quorate meetings)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.tasking.application import TaskingApplication
from services.tasking.domain import AgreedAction, Tasking, body_kind
from shared.auth import Principal, Role
from shared.contracts.tasking import BodyKind
from shared.errors import NotPermitted
from shared.web import require_role


def _app(request: Request) -> TaskingApplication:
    application: TaskingApplication = request.app.state.application
    return application


App = Annotated[TaskingApplication, Depends(_app)]
Reader = Annotated[Principal, Depends(require_role(*Role))]
Lead = Annotated[Principal, Depends(require_role(Role.THEME_GROUP_LEAD))]
Coordinator = Annotated[Principal, Depends(require_role(Role.DISTRICT_COORDINATOR))]
Writer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER, Role.THEME_GROUP_LEAD,
                                                   Role.DISTRICT_COORDINATOR, Role.PARTNER_OFFICER))]


def _issuing_theme_group(principal: Lead) -> str:
    """A theme-group lead tasks on behalf of the theme group their token names."""
    if not principal.theme_group:
        raise NotPermitted("Your token names no theme group to task on behalf of.")
    return principal.theme_group


def may_see(principal: Principal, tasking: Tasking) -> bool:
    """A partner officer sees the taskings its organisation leads; every other role reads all (auditors and
    scrutiny included)."""
    return principal.roles != frozenset({Role.PARTNER_OFFICER}) or tasking.lead_partner == principal.organisation


def _visible_tasking(tasking_id: UUID, principal: Reader, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    if not may_see(principal, tasking):
        raise NotPermitted("A partner officer sees the taskings its organisation leads.")
    return tasking


def _district_tasking(tasking_id: UUID, principal: Coordinator, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    if principal.district != tasking.district:
        raise NotPermitted(f"Only the {tasking.district} district partnership's coordinator may answer for it.")
    return tasking


def _theme_group_tasking(tasking_id: UUID, principal: Lead, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    if principal.theme_group != tasking.theme_group:
        raise NotPermitted(f"Only a lead of {tasking.theme_group} may change its taskings.")
    return tasking


IssuingThemeGroup = Annotated[str, Depends(_issuing_theme_group)]
VisibleTasking = Annotated[Tasking, Depends(_visible_tasking)]
DistrictTasking = Annotated[Tasking, Depends(_district_tasking)]
"""The tasking, loaded for its district's coordinator (who accepts, declines, starts and completes it)."""
ThemeGroupTasking = Annotated[Tasking, Depends(_theme_group_tasking)]
"""The tasking, loaded for a lead of the theme group that issued it (who withdraws and retasks it)."""


def body_role(principal: Principal, body: str, application: TaskingApplication) -> Role:
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


def joining_role(principal: Principal, body: str, nominated_by: str | None, application: TaskingApplication) -> Role:
    """A theme group supplies its representatives to district partnerships; otherwise whoever keeps the table."""
    if nominated_by and principal.has(Role.THEME_GROUP_LEAD) and principal.theme_group == nominated_by:
        return Role.THEME_GROUP_LEAD
    return body_role(principal, body, application)


def commitment_role(principal: Principal, organisation: str) -> Role:
    """A partner declares its own commitments (or the partnership officer records them)."""
    if principal.has(Role.PARTNERSHIP_OFFICER):
        return Role.PARTNERSHIP_OFFICER
    if principal.has(Role.PARTNER_OFFICER) and principal.organisation == organisation:
        return Role.PARTNER_OFFICER
    raise NotPermitted("A partner declares its own commitments (or the partnership officer records them).")


def commitments_reader(principal: Principal, organisation: str) -> None:
    """A partner officer sees its own organisation's commitments; every other role any organisation's."""
    if principal.roles == frozenset({Role.PARTNER_OFFICER}) and organisation != principal.organisation:
        raise NotPermitted("A partner officer sees its own organisation's commitments.")


def _action_owner_or_keeper(action_id: UUID, principal: Writer, application: App) -> tuple[AgreedAction, Role]:
    action = application.action(action_id)
    if principal.has(Role.PARTNER_OFFICER) and principal.organisation == action.owner:
        return action, Role.PARTNER_OFFICER
    return action, body_role(principal, action.body, application)


OwnedAction = Annotated[tuple[AgreedAction, Role], Depends(_action_owner_or_keeper)]
"""The agreed action, loaded for its owner (a partner officer of the owning organisation) or its body's keeper, with
the role they act in."""
