"""Who may do what in tasking, in one place: role and ownership checks as FastAPI dependencies. A check that needs
the aggregate loads it and hands it to the use case, so a command loads it once; the domain keeps the domain's
rules (shares within the target, the lead partner at the table, decisions at quorate meetings)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.tasking.application import TaskingApplication
from services.tasking.domain import AgreedAction, Tasking, body_kind
from shared.auth import Grant, Principal, Role, authorize
from shared.contracts.tasking import BodyKind
from shared.errors import NotPermitted
from shared.web import on_the_loop, require_role


async def _app(request: Request) -> TaskingApplication:
    application: TaskingApplication = request.app.state.application
    return application


App = Annotated[TaskingApplication, Depends(_app)]
Reader = Annotated[Principal, Depends(require_role(*Role))]
Lead = Annotated[Principal, Depends(require_role(Role.THEME_GROUP_LEAD))]
Coordinator = Annotated[Principal, Depends(require_role(Role.DISTRICT_COORDINATOR))]
Writer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER, Role.THEME_GROUP_LEAD,
                                                   Role.DISTRICT_COORDINATOR, Role.PARTNER_OFFICER))]


async def _issuing_theme_group(principal: Lead) -> Grant:
    """A theme-group lead tasks on behalf of the theme group their grant names (the one they lead)."""
    led = principal.scopes(Role.THEME_GROUP_LEAD)
    if len(led) != 1:
        raise NotPermitted("Your token names no theme group to task on behalf of." if not led else
                           f"You lead {', '.join(led)}: task from a token for one theme group.")
    return authorize(principal, (Role.THEME_GROUP_LEAD, led[0]), refusal="Only a theme group's lead tasks for it.")


def may_see(principal: Principal, tasking: Tasking) -> bool:
    """A partner officer sees the taskings its organisation leads; every other role reads all (auditors and
    scrutiny included)."""
    return principal.roles != frozenset({Role.PARTNER_OFFICER}) or \
        principal.grant_for(Role.PARTNER_OFFICER, tasking.lead_partner) is not None


def _visible_tasking(tasking_id: UUID, principal: Reader, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    if not may_see(principal, tasking):
        raise NotPermitted("A partner officer sees the taskings its organisation leads.")
    return tasking


def _district_tasking(tasking_id: UUID, principal: Coordinator, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    authorize(principal, (Role.DISTRICT_COORDINATOR, tasking.district),
              refusal=f"Only the {tasking.district} district partnership's coordinator may answer for it.")
    return tasking


def _theme_group_tasking(tasking_id: UUID, principal: Lead, application: App) -> Tasking:
    tasking = application.tasking(tasking_id)
    authorize(principal, (Role.THEME_GROUP_LEAD, tasking.theme_group),
              refusal=f"Only a lead of {tasking.theme_group} may change its taskings.")
    return tasking


IssuingThemeGroup = Annotated[Grant, Depends(_issuing_theme_group)]
"""The grant of the theme-group lead issuing a tasking: its scope is the issuing theme group."""
VisibleTasking = Annotated[Tasking, Depends(on_the_loop(_visible_tasking))]
DistrictTasking = Annotated[Tasking, Depends(on_the_loop(_district_tasking))]
"""The tasking, loaded for its district's coordinator (who accepts, declines, starts and completes it): they act
under the grant (district_coordinator, its district)."""
ThemeGroupTasking = Annotated[Tasking, Depends(on_the_loop(_theme_group_tasking))]
"""The tasking, loaded for a lead of the theme group that issued it (who withdraws and retasks it): they act under
the grant (theme_group_lead, its theme group)."""


def coordinating(tasking: Tasking) -> Grant:
    """The grant a ``DistrictTasking``'s coordinator acts under."""
    return Grant(Role.DISTRICT_COORDINATOR, tasking.district)


def leading(tasking: Tasking) -> Grant:
    """The grant a ``ThemeGroupTasking``'s lead acts under."""
    return Grant(Role.THEME_GROUP_LEAD, tasking.theme_group)


def body_role(principal: Principal, body: str, application: TaskingApplication) -> Grant:
    """Who may keep a body's table and minutes: the partnership officer for any body, a theme-group lead for
    their group, a district coordinator for their district partnership. The grant they act under."""
    today = application.definition_on(application.definition.calendar()())
    # Today's rules know a district added by decision; the definition still names one retired since (back-filling).
    kind = body_kind(today if today.body(body) or today.district(body) else application.definition, body)
    allowed: list[tuple[Role, str | None]] = [(Role.PARTNERSHIP_OFFICER, None)]
    if kind is BodyKind.THEME_GROUP:
        allowed.append((Role.THEME_GROUP_LEAD, body))
    if kind is BodyKind.DISTRICT_PARTNERSHIP:
        allowed.append((Role.DISTRICT_COORDINATOR, body))
    return authorize(principal, *allowed, refusal=f"You may not keep the records of '{body}'.")


def joining_role(principal: Principal, body: str, nominated_by: str | None, application: TaskingApplication) -> Grant:
    """A theme group supplies its representatives to district partnerships; otherwise whoever keeps the table."""
    nominating = principal.grant_for(Role.THEME_GROUP_LEAD, nominated_by) if nominated_by else None
    return nominating or body_role(principal, body, application)


def commitment_role(principal: Principal, organisation: str) -> Grant:
    """A partner declares its own commitments (or the partnership officer records them)."""
    return authorize(principal, (Role.PARTNERSHIP_OFFICER, None), (Role.PARTNER_OFFICER, organisation),
                     refusal="A partner declares its own commitments (or the partnership officer records them).")


def commitments_reader(principal: Principal, organisation: str) -> None:
    """A partner officer sees its own organisation's commitments; every other role any organisation's."""
    if principal.roles == frozenset({Role.PARTNER_OFFICER}) and \
            principal.grant_for(Role.PARTNER_OFFICER, organisation) is None:
        raise NotPermitted("A partner officer sees its own organisation's commitments.")


def _action_owner_or_keeper(action_id: UUID, principal: Writer, application: App) -> tuple[AgreedAction, Grant]:
    action = application.action(action_id)
    owner = principal.grant_for(Role.PARTNER_OFFICER, action.owner)
    return action, owner or body_role(principal, action.body, application)


OwnedAction = Annotated[tuple[AgreedAction, Grant], Depends(on_the_loop(_action_owner_or_keeper))]
"""The agreed action, loaded for its owner (a partner officer of the owning organisation) or its body's keeper, with
the grant they act under."""


def data_protection_role(principal: Principal) -> Grant:
    """Erasures and redactions of personal data are decided by the partnership officer, under the partnership's
    scheme of delegation for data protection (``audit erase`` and ``audit redact`` act as that officer)."""
    return authorize(principal, (Role.PARTNERSHIP_OFFICER, None),
                     refusal="Only the partnership officer erases or redacts personal data.")


def scrutiny_pack_role(principal: Principal) -> Grant:
    """Publishing a scrutiny pack for a committee meeting is the partnership officer's, under the scheme of
    delegation for scrutiny packs (or the board's, at a meeting)."""
    return authorize(principal, (Role.PARTNERSHIP_OFFICER, None),
                     refusal="Only the partnership officer publishes scrutiny packs.")


def rules_role(principal: Principal) -> Grant:
    """The partnership officer records the board's decisions that change the partnership's rules."""
    return authorize(principal, (Role.PARTNERSHIP_OFFICER, None),
                     refusal="Only the partnership officer records changes to the partnership's rules.")
