"""The GraphQL gateway (strawberry): one schema over every reporting module; queries take an optional ``asOf``.

Queries read the read models (paged lists in ``connections``); mutations forward to the owning service
(``mutations``); ``graphql_limits`` refuses abusive queries before they run and gives every error a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info

from services.reporting import changes, connections, directory
from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, read_model
from services.reporting.graphql_execution import LeafFastExecutor
from services.reporting.graphql_limits import QueryLimits, add_codes
from services.reporting.modules import READ_MODELS
from services.reporting.mutations import Mutation
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


class GatewaySchema(strawberry.Schema):
    """The schema whose every error carries ``extensions.code`` (see ``graphql_limits.add_codes``)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        add_codes(errors)
        super().process_errors(errors, execution_context)


Query = merge_types("Query", (HistoryQuery, directory.Query, connections.Query, changes.Query,
                              *(module.Query for module in READ_MODELS)))
schema = GatewaySchema(query=Query, mutation=Mutation, execution_context_class=LeafFastExecutor, extensions=[
    partial(MaxTokensLimiter, max_token_count=5_000),
    partial(MaxAliasesLimiter, max_alias_count=30),
    partial(AddValidationRules, [QueryLimits]),
])


def graphql_router(model: ReportingReadModel, tokens: TokenService,
                   service_urls: Mapping[str, str] | None = None) -> GraphQLRouter[dict[str, Any], None]:
    async def get_context(request: Request) -> dict[str, Any]:
        principal: Principal | None = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                principal = tokens.verify(header[7:].strip())
            except AuthenticationError:
                principal = None
        return {"model": model, "principal": principal, "request": request, "service_urls": service_urls or {}}

    return GraphQLRouter(schema, context_getter=get_context)
