"""The GraphQL gateway (strawberry): one schema over every reporting module; queries take an optional ``asOf``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from starlette.requests import Request
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import Info

from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, read_model
from services.reporting.modules import READ_MODELS
from services.reporting.readmodel import ReportingReadModel
from shared.auth import AuthenticationError, Principal, TokenService


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


@strawberry.type
class HistoryQuery:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every event of one aggregate: when, who, under which decision, what.")
    def history(self, info: Info, aggregate_id: strawberry.ID) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                aggregate_id=strawberry.ID(r["subject"]), version=r["version"], type=r["type"],
                time=datetime.fromisoformat(r["time"]),
                actor=Actor(user_id=r["actor"], organisation=r["actor_organisation"], role=r["actor_role"]),
                decision=decision_from(r["decision"]), correlation_id=r["correlation_id"], data=r["data"],
            )
            for r in read_model(info).history(str(aggregate_id))
        ]


Query = merge_types("Query", (HistoryQuery, *(module.Query for module in READ_MODELS)))
schema = strawberry.Schema(query=Query)


def graphql_router(model: ReportingReadModel, tokens: TokenService) -> GraphQLRouter[dict[str, Any], None]:
    async def get_context(request: Request) -> dict[str, Any]:
        principal: Principal | None = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                principal = tokens.verify(header[7:].strip())
            except AuthenticationError:
                principal = None
        return {"model": model, "principal": principal, "request": request}

    return GraphQLRouter(schema, context_getter=get_context)
