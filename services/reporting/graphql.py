"""The GraphQL gateway (strawberry): one schema over every reporting module; queries take an optional ``asOf``.

Queries read the read models (paged lists in ``connections``); mutations forward to the owning service
(``mutations``); ``graphql_limits`` refuses abusive queries before they run and gives every error a code;
``graphql_cache`` answers a query already answered for the same data and visibility; ``graphql_execution``
completes objects of plain leaves without the executor's per-field machinery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as create_max_aliases_rule
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult, Info

from services.reporting import audit, changes, connections, directory
from services.reporting.graphql_cache import EncodedData, ResponseCache, data_version
from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, read_model
from services.reporting.graphql_execution import LeafFastExecutor
from services.reporting.graphql_limits import QueryLimits, add_codes
from services.reporting.modules import READ_MODELS
from services.reporting.mutations import Mutation
from services.reporting.readmodel import ReportingReadModel
from shared.auth import AuthenticationError, Principal, TokenService

log = logging.getLogger(__name__)


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
# One rule class for the process (MaxAliasesLimiter makes a new one per request), so that a document's validation
# can be cached: a dashboard sends the same few documents over and over, and validating one costs 1-2 ms.
_MaxAliases = create_max_aliases_rule(30)
schema = GatewaySchema(query=Query, mutation=Mutation, execution_context_class=LeafFastExecutor, extensions=[
    partial(MaxTokensLimiter, max_token_count=5_000),
    partial(AddValidationRules, [QueryLimits, _MaxAliases]),
    partial(ParserCache, maxsize=256),
    partial(ValidationCache, maxsize=256),
])


def _root_names(*types: type) -> frozenset[str]:
    convert = schema.config.name_converter.get_graphql_name
    return frozenset(convert(field) for type_ in types for field in type_.__strawberry_definition__.fields)  # type: ignore[attr-defined]


CACHEABLE_QUERIES = _root_names(HistoryQuery, directory.Query, connections.Query,
                                *(module.Query for module in READ_MODELS if module is not audit))
"""Root fields whose answer depends only on the read model, the arguments, the caller's visibility and the date
(see ``graphql_cache``). Not the auditors' fields (they recompute other services' hash chains, live) nor
``changes`` (its window ends at "now", which moves without any event)."""


class CachingGraphQLRouter(GraphQLRouter[dict[str, Any], None]):
    """The gateway's router: a cacheable query is answered from ``cache`` when the same caller visibility asked it
    of the same data version; otherwise it runs, and its answer is kept if the data did not move meanwhile."""

    def __init__(self, *args: Any, model: ReportingReadModel, cache: ResponseCache, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.cache = cache

    async def execute_single(self, request: Request, request_adapter: Any, sub_response: Any,
                             context: dict[str, Any], root_value: None, request_data: Any) -> ExecutionResult:
        run = partial(super().execute_single, request=request, request_adapter=request_adapter,
                      sub_response=sub_response, context=context, root_value=root_value, request_data=request_data)
        principal: Principal | None = context.get("principal")
        query, operation = request_data.query, request_data.operation_name
        if (not self.cache.enabled or principal is None or not isinstance(query, str)
                or not self.cache.cacheable(query, operation)):
            return await run()
        try:
            version = data_version(self.model.store)
        except Exception:  # the store is away: run the query, its resolvers report the error
            log.warning("GraphQL response cache bypassed: the read model's data version could not be read",
                        exc_info=True)
            return await run()
        key = self.cache.key(query, operation, request_data.variables, principal, version)
        # ``Cache-Control: no-cache``: the caller wants it computed afresh (it is still kept for the next).
        refresh = "no-cache" in request.headers.get("cache-control", "").lower()
        found = self.cache.get(key, refresh=refresh)
        if found is not None:
            return ExecutionResult(data=cast(dict[str, Any], found), errors=None)
        result = await run()
        if result.errors or result.extensions or result.data is None:
            return result
        encoded = EncodedData(super().encode_json_string(result.data))
        try:
            unchanged = data_version(self.model.store) == version
        except Exception:  # then it is not known to be unchanged
            unchanged = False
        if unchanged:
            self.cache.put(key, encoded)
        return ExecutionResult(data=cast(dict[str, Any], encoded), errors=None)

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and len(data) == 1 and isinstance(data.get("data"), EncodedData):
            return f'{{"data":{data["data"].text}}}'
        return super().encode_json(data)


def graphql_router(model: ReportingReadModel, tokens: TokenService, service_urls: Mapping[str, str] | None = None,
                   cache_bytes: int = 64 * 2**20) -> GraphQLRouter[dict[str, Any], None]:
    """The gateway's router; ``cache_bytes`` of encoded answers at most are kept (0: no response cache)."""

    async def get_context(request: Request) -> dict[str, Any]:
        principal: Principal | None = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                principal = tokens.verify(header[7:].strip())
            except AuthenticationError:
                principal = None
        return {"model": model, "principal": principal, "request": request, "service_urls": service_urls or {}}

    return CachingGraphQLRouter(schema, context_getter=get_context, model=model,
                                cache=ResponseCache(cache_bytes, CACHEABLE_QUERIES))
