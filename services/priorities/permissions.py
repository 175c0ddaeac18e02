"""Who may do what in priorities, in one place: role and ownership checks as FastAPI dependencies. A check that needs
the aggregate loads it and hands it to the use case, so a command loads it once; the domain keeps the domain's rules
(the most agreed priorities a district keeps, SMART targets, reviews over every agreed priority).

Partnership officers manage the SCS, objectives, targets and reviews and sift evidence; a district coordinator acts
only for a district partnership one of their grants names; every role reads."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.priorities.application import PrioritiesApplication
from services.priorities.domain import DistrictPriority
from shared.auth import Grant, Principal, Role, authorize
from shared.web import on_the_loop, require_role


async def _app(request: Request) -> PrioritiesApplication:
    application: PrioritiesApplication = request.app.state.application
    return application


App = Annotated[PrioritiesApplication, Depends(_app)]
Officer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER))]
Coordinator = Annotated[Principal, Depends(require_role(Role.DISTRICT_COORDINATOR))]
Reader = Annotated[Principal, Depends(require_role(*Role))]


def coordinating(principal: Principal, district: str) -> Grant:
    """A district coordinator acts only for a district partnership one of their grants names."""
    held = ", ".join(principal.scopes(Role.DISTRICT_COORDINATOR)) or "no district"
    return authorize(principal, (Role.DISTRICT_COORDINATOR, district),
                     refusal=f"Only a coordinator of the {district} district partnership may do this "
                             f"(your token is for {held}).")


async def _for_district(district: str, principal: Coordinator) -> Grant:
    return coordinating(principal, district)


def _coordinated_priority(priority_id: UUID, principal: Coordinator,
                          application: App) -> tuple[DistrictPriority, Grant]:
    priority = application.priority(priority_id)
    return priority, coordinating(principal, priority.district)


DistrictCoordinator = Annotated[Grant, Depends(_for_district)]
"""The grant (district_coordinator, the district of the path) a coordinator proposes and submits evidence under."""
CoordinatedPriority = Annotated[tuple[DistrictPriority, Grant], Depends(on_the_loop(_coordinated_priority))]
"""The priority, loaded for a coordinator of its district (whose board agrees, rejects, retires and re-confirms it),
with the grant they act under."""
