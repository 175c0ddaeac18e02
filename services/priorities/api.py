"""HTTP API of the priorities service: parse, authorize, call the application, return."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request, status
from pydantic import Field

from services.priorities.application import PrioritiesApplication
from shared.auth import Principal, Role, TokenService
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.web import (
    Created,
    DecisionIn,
    StrictModel,
    correlation_id,
    install_problem_handlers,
    require_role,
)


class AddObjective(StrictModel):
    """Add an objective to the SCS, or to a county strategy under an SCS objective."""

    title: str = Field(min_length=1, max_length=300, examples=["A skilled and prosperous economy"])
    level: StrategyLevel
    strategy: str = Field(min_length=1, max_length=200, examples=["Sustainable Community Strategy"])
    parent_id: UUID | None = None
    decision: DecisionIn | None = None


class ObjectiveOut(StrictModel):
    id: UUID
    version: int
    title: str
    level: StrategyLevel
    strategy: str
    parent_id: UUID | None


def _app(request: Request) -> PrioritiesApplication:
    application: PrioritiesApplication = request.app.state.application
    return application


Officer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER))]
Reader = Annotated[Principal, Depends(require_role(*Role))]
App = Annotated[PrioritiesApplication, Depends(_app)]

router = APIRouter()


@router.post("/objectives", status_code=status.HTTP_201_CREATED, response_model=Created,
             summary="Add an SCS or county-strategy objective")
def add_objective(body: AddObjective, principal: Officer, application: App, request: Request) -> Any:
    context = CommandContext(principal.actor(Role.PARTNERSHIP_OFFICER), correlation_id(request))
    objective = application.add_objective(
        context, title=body.title, level=body.level, strategy=body.strategy, parent_id=body.parent_id,
        decision=body.decision.to_decision() if body.decision else None,
    )
    return Created(id=objective.id, version=objective.version)


@router.get("/objectives/{objective_id}", response_model=ObjectiveOut, summary="An objective as it stands")
def get_objective(objective_id: UUID, principal: Reader, application: App) -> Any:
    objective = application.objective(objective_id)
    return ObjectiveOut(id=objective.id, version=objective.version, title=objective.title, level=objective.level,
                        strategy=objective.strategy, parent_id=objective.parent_id)


def create_app(application: PrioritiesApplication, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Priorities service", version="1.0",
                  description="Strategy: SCS and county-strategy objectives, SMART targets, district priorities.")
    app.state.application = application
    app.state.tokens = tokens
    install_problem_handlers(app)
    app.include_router(router)
    return app
