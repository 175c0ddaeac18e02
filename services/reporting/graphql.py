"""The GraphQL gateway (strawberry): read models for front-end apps; every query takes an optional ``asOf``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import strawberry
from starlette.requests import Request
from strawberry.fastapi import GraphQLRouter
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.readmodel import ReportingReadModel
from shared.auth import AuthenticationError, Principal, TokenService


class Context(dict[str, Any]):
    """Per-request context: the read model and the authenticated caller (if any)."""


class IsAuthenticated(BasePermission):
    message = "Authentication required: send a bearer token."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.get("principal") is not None


@strawberry.type
class Actor:
    user_id: str
    organisation: str
    role: str


@strawberry.type
class Decision:
    body: str
    decided_on: date
    reason: str
    meeting_id: str | None
    reference: str | None


def _decision(raw: str | dict[str, Any] | None) -> Decision | None:
    if not raw:
        return None
    values = json.loads(raw) if isinstance(raw, str) else raw
    return Decision(body=values["body"], decided_on=date.fromisoformat(values["decided_on"]),
                    reason=values["reason"], meeting_id=values.get("meeting_id"), reference=values.get("reference"))


@strawberry.type
class Objective:
    id: strawberry.ID
    version: int
    title: str
    level: str
    strategy: str
    parent_id: strawberry.ID | None
    changed_by: Actor
    decision: Decision | None
    valid_from: datetime
    valid_to: datetime | None

    @staticmethod
    def from_row(row: dict[str, Any]) -> Objective:
        return Objective(
            id=strawberry.ID(row["id"]), version=row["version"], title=row["title"], level=row["level"],
            strategy=row["strategy"], parent_id=row["parent_id"],
            changed_by=Actor(user_id=row["changed_by"], organisation=row["changed_by_organisation"],
                             role=row["changed_by_role"]),
            decision=_decision(row["decision"]), valid_from=datetime.fromisoformat(row["valid_from"]),
            valid_to=datetime.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        )


@strawberry.type
class HistoryEntry:
    aggregate_id: strawberry.ID
    version: int
    type: str
    time: datetime
    actor: Actor
    decision: Decision | None
    correlation_id: str
    data: JSON


def _model(info: Info) -> ReportingReadModel:
    model: ReportingReadModel = info.context["model"]
    return model


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Objectives of the SCS and the county strategies, as of a time (default now).")
    def objectives(self, info: Info, as_of: datetime | None = None, level: str | None = None) -> list[Objective]:
        return [Objective.from_row(r) for r in _model(info).objectives(as_of, level)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    def objective(self, info: Info, id: strawberry.ID, as_of: datetime | None = None) -> Objective | None:
        row = _model(info).objective(str(id), as_of)
        return Objective.from_row(row) if row else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every event of one aggregate: when, who, under which decision, what.")
    def history(self, info: Info, aggregate_id: strawberry.ID) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                aggregate_id=strawberry.ID(r["subject"]), version=r["version"], type=r["type"],
                time=datetime.fromisoformat(r["time"]),
                actor=Actor(user_id=r["actor"], organisation=r["actor_organisation"], role=r["actor_role"]),
                decision=_decision(r["decision"]), correlation_id=r["correlation_id"], data=r["data"],
            )
            for r in _model(info).history(str(aggregate_id))
        ]


schema = strawberry.Schema(query=Query)


def graphql_router(model: ReportingReadModel, tokens: TokenService) -> GraphQLRouter[Context, None]:
    async def get_context(request: Request) -> Context:
        principal: Principal | None = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                principal = tokens.verify(header[7:].strip())
            except AuthenticationError:
                principal = None
        return Context(model=model, principal=principal, request=request)

    return GraphQLRouter(schema, context_getter=get_context)
