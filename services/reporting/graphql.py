"""The GraphQL gateway (strawberry): one schema over every read model (``registry``); queries take an ``asOf``.

Queries read the read models (each serves its own types, lists and pages); mutations forward to the owning service
(``mutations``); ``graphql_limits`` refuses abusive queries before they run and gives every error a code;
``graphql_cache`` answers a query already answered for the same data and visibility; ``graphql_execution``
completes objects of plain leaves without the executor's per-field machinery.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as create_max_aliases_rule
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from services.reporting import audit, changes, decision_log, directory, graphql_node, subscriptions
from services.reporting.graphql_cache import EncodedData, ResponseCache, data_version
from services.reporting.graphql_common import Actor, Decision, IsAuthenticated, decision_from, read_model
from services.reporting.graphql_execution import LeafFastExecutor
from services.reporting.graphql_limits import QueryLimits, add_codes
from services.reporting.mutations import Mutation
from services.reporting.readmodel import ReportingReadModel
from services.reporting.registry import READ_MODELS
from services.reporting.subscriptions import Subscription
from services.reporting.trusted_documents import DocumentRefused, TrustedDocuments
from shared.auth import PUBLIC, AuthenticationError, IdentityProviderUnavailable, Principal, TokenService
from shared.devtools import graphiql_html
from shared.web import GRAPHQL_RESPONSE_JSON, graphql_media_type, graphql_refusal

log = logging.getLogger(__name__)


@strawberry.type
class HistoryEntry(graphql_node.Node):
    id: strawberry.ID = strawberry.field(description="Unique among all objects (opaque): the event's aggregate and "
                                                     "version name it (it does not change).")
    aggregate_id: strawberry.ID
    version: int
    type: str
    time: datetime
    actor: Actor
    decision: Decision | None
    correlation_id: str
    data: JSON

    @strawberry.field(description="The event as stored, with its inclusion proof against the latest signed "
                                  "checkpoint of its service's log (verified reads).")
    def inclusion_proof(self, info: Info) -> audit.InclusionProof:
        return audit.inclusion_proof(info, str(self.aggregate_id), self.version)


@strawberry.type
class HistoryQuery:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Every event of one aggregate: when, who, under which decision, what.")
    def history(self, info: Info, aggregate_id: strawberry.ID) -> list[HistoryEntry]:
        return [_history_entry(r) for r in read_model(info).history(str(aggregate_id))]


def _history_entry(r: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        id=graphql_node.typed_id("HistoryEntry", (r["subject"], r["version"])),
        aggregate_id=strawberry.ID(r["subject"]), version=r["version"], type=r["type"],
        time=datetime.fromisoformat(r["time"]),
        actor=Actor(user_id=r["actor"], organisation=r["actor_organisation"], role=r["actor_role"]),
        decision=decision_from(r["decision"]), correlation_id=r["correlation_id"], data=r["data"])


def _history_node(info: Info, key: str, when: object) -> HistoryEntry | None:
    parts = graphql_node.key_parts(key, 2)
    if parts is None:
        return None
    found = [r for r in read_model(info).history(str(parts[0])) if r["version"] == parts[1]]
    return _history_entry(found[0]) if found else None


graphql_node.register("HistoryEntry", "history", _history_node, own_ids=False)


class GatewaySchema(strawberry.Schema):
    """The schema whose every error carries ``extensions.code`` (see ``graphql_limits.add_codes``)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        add_codes(errors)
        super().process_errors(errors, execution_context)

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> ExecutionResult:
        """A request over HTTP runs queries and mutations; a subscription runs over a websocket (``updates``)."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed - {OperationType.SUBSCRIPTION}, operation_extensions)


Query = merge_types("Query", (HistoryQuery, directory.Query, decision_log.Query, changes.Query, audit.Query,
                              subscriptions.Query, graphql_node.Query, *(model.query for model in READ_MODELS)))
# One rule class for the process (MaxAliasesLimiter makes a new one per request), so that a document's validation
# can be cached: a dashboard sends the same few documents over and over, and validating one costs 1-2 ms.
_MaxAliases = create_max_aliases_rule(30)
schema = GatewaySchema(query=Query, mutation=Mutation, subscription=Subscription,
                       execution_context_class=LeafFastExecutor, extensions=[
    partial(MaxTokensLimiter, max_token_count=5_000),
    partial(AddValidationRules, [QueryLimits, _MaxAliases]),
    partial(ParserCache, maxsize=256),
    partial(ValidationCache, maxsize=256),
])


def _root_names(*types: type) -> frozenset[str]:
    convert = schema.config.name_converter.get_graphql_name
    return frozenset(convert(field) for type_ in types for field in type_.__strawberry_definition__.fields)  # type: ignore[attr-defined]


CACHEABLE_QUERIES = _root_names(HistoryQuery, directory.Query, decision_log.Query,
                                *(model.query for model in READ_MODELS if model.cacheable))
"""Root fields whose answer depends only on the read model, the arguments, the caller's visibility and the date
(see ``graphql_cache``). Not the auditors' fields (they recompute other services' hash chains, live) nor
``changes`` (its window ends at "now", which moves without any event)."""


class TransportError(HTTPException):
    """A GraphQL request that is not well-formed (GraphQL over HTTP): refused before it runs, with a code."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(status, reason)
        self.code = code


# strawberry's own refusals (HTTPException reasons) -> (status, code)
_STRAWBERRY_REFUSALS = [
    ("subscriptions are not allowed", 400, "SUBSCRIPTION_OVER_HTTP"),
    ("Batching is not enabled", 400, "BATCHING_NOT_SUPPORTED"),
    ("Unable to parse request body as JSON", 400, "MALFORMED_JSON"),
    ("Unsupported content type", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("not allowed when using", 405, "METHOD_NOT_ALLOWED"),
    ("only supports GET and POST", 405, "METHOD_NOT_ALLOWED"),
    ("Not Found", 404, "NOT_FOUND"),
]


def _transport_error(error: HTTPException) -> TransportError:
    if isinstance(error, TransportError):
        return error
    for marker, status, code in _STRAWBERRY_REFUSALS:
        if marker in error.reason:
            reason = error.reason if code != "SUBSCRIPTION_OVER_HTTP" else (
                "A subscription runs over a websocket at /graphql (protocol graphql-transport-ws), not over HTTP.")
            return TransportError(status, code, reason)
    return TransportError(error.status_code, "INVALID_REQUEST", error.reason)


def _well_formed(document: object) -> dict[str, Any]:
    """The parameters of a GraphQL-over-HTTP request body, or TransportError saying what is wrong with them."""
    if isinstance(document, list):
        raise TransportError(400, "BATCHING_NOT_SUPPORTED", "Send one operation per request: batching is not "
                                                            "supported.")
    if not isinstance(document, dict):
        raise TransportError(400, "INVALID_REQUEST", "The body is a JSON object with `query` (and optionally "
                                                     "`variables`, `operationName`, `extensions`).")
    for name, kinds, what in (("query", (str,), "a string"), ("operationName", (str,), "a string"),
                              ("variables", (dict,), "an object"), ("extensions", (dict,), "an object")):
        value = document.get(name)
        if value is not None and not isinstance(value, kinds):
            raise TransportError(400, "INVALID_REQUEST", f"`{name}` must be {what} or null.")
    if not document.get("query") and not (document.get("extensions") or {}).get("persistedQuery"):
        raise TransportError(400, "INVALID_REQUEST", "No GraphQL query found in the request: send `query`.")
    return document


class CachingGraphQLRouter(GraphQLRouter[dict[str, Any], None]):
    """The gateway's router: a cacheable query is answered from ``cache`` when the same caller visibility asked it
    of the same data version; otherwise it runs, and its answer is kept if the data did not move meanwhile.

    Transport follows GraphQL over HTTP: a request that is not well-formed (not UTF-8, not JSON, not one object with
    a string query, a batch, a media type not read) is refused with 400 (415 for the media type, 405 for a
    mutation by GET) and errors with ``extensions.code``, in ``application/graphql-response+json``. A client that
    accepts that media type also gets 400 for a document that does not parse or validate (no ``data``); one that
    asks for ``application/json`` or sends no ``Accept`` gets 200 for every well-formed request, as before.
    """

    def __init__(self, *args: Any, model: ReportingReadModel, cache: ResponseCache,
                 tokens: TokenService | None = None, trusted: TrustedDocuments | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.cache = cache
        self.tokens = tokens
        self.trusted = trusted or TrustedDocuments({}, {})
        self._readers: asyncio.Semaphore | None = None
        # The last answers sent to subscribers, encoded: subscribers alike get one answer object per update
        # (``graphql_execution.SharedEvents``), so it is encoded once, not once per subscriber.
        self._encoded_answers: OrderedDict[int, tuple[object, str]] = OrderedDict()

    async def execute_single(self, request: Request, request_adapter: Any, sub_response: Any,
                             context: dict[str, Any], root_value: None, request_data: Any) -> ExecutionResult:
        """One operation, read from one snapshot of the read models (``ReadStore.snapshot``): every field of the
        answer, its dataloaders and the data version its cache entry is keyed by see the same commits. At most
        ``_readers`` run at once, so waiting operations never hold the event loop waiting for a pooled connection
        that an operation suspended at an ``await`` holds. A persisted document is looked up by its hash first, and
        a client restricted to its trusted documents runs nothing else (``trusted_documents``)."""
        try:
            request_data.query = self.trusted.resolve(context.get("principal"), request_data.query,
                                                      request_data.extensions)
        except DocumentRefused as refused:
            return ExecutionResult(data=None, errors=[GraphQLError(str(refused), extensions={"code": refused.code})])
        if self._readers is None:
            self._readers = asyncio.Semaphore(max(1, self.model.store.max_connections - 2))
        async with self._readers:
            with self.model.store.snapshot():
                return await self._execute_in_snapshot(request, request_adapter, sub_response, context,
                                                       root_value, request_data)

    async def _execute_in_snapshot(self, request: Request, request_adapter: Any, sub_response: Any,
                                   context: dict[str, Any], root_value: None,
                                   request_data: Any) -> ExecutionResult:
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
        self.cache.put(key, encoded)  # read in the snapshot whose data version is in the key
        return ExecutionResult(data=cast(dict[str, Any], encoded), errors=None)

    async def on_ws_connect(self, context: dict[str, Any]) -> Any:
        """A ``graphql-transport-ws`` connection authenticates in its ``connection_init`` payload:
        ``{"authorization": "Bearer <token>"}`` (browsers cannot set headers on a websocket). No token, or one that
        does not verify: refused with close code 4403 (a subscription sent before that is refused with 4401)."""
        params = context.get("connection_params") or {}
        raw = next((params[k] for k in ("authorization", "Authorization", "token") if k in params), None)
        token = raw[7:].strip() if isinstance(raw, str) and raw.lower().startswith("bearer ") else raw
        if not isinstance(token, str) or not token or self.tokens is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        try:
            context["principal"] = await asyncio.to_thread(self.tokens.verify, token)
        except (AuthenticationError, IdentityProviderUnavailable) as error:
            log.info("websocket connection refused", extra={"reason": str(error)[:200]})
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None
        return UNSET

    def decode_json(self, data: str | bytes) -> object:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as error:
            raise TransportError(400, "INVALID_UTF8", f"The body is not UTF-8 (byte {error.start}).") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise TransportError(400, "MALFORMED_JSON", f"The body is not JSON: {error.msg} at line {error.lineno}, "
                                                        f"column {error.colno}.") from None
        except RecursionError:
            raise TransportError(400, "MALFORMED_JSON", "The body is nested too deeply.") from None

    async def parse_http_body(self, request: Any) -> Any:
        if request.method == "POST":
            kind = (request.content_type or "").split(";")[0].strip().lower()
            if kind != "application/json":
                raise TransportError(415, "UNSUPPORTED_MEDIA_TYPE",
                                     f"Send the request as application/json, not {kind or 'without a content type'}.")
            _well_formed(self.decode_json(await request.get_body()))
        return await super().parse_http_body(request)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        processed = await super().process_result(request, result)
        # A request error (the document does not parse or validate, variables do not coerce): no field ran, so
        # no error has a path. In graphql-response+json that is a 400 without ``data``.
        if (result.data is None and result.errors and all(e.path is None for e in result.errors)
                and graphql_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON):
            request.state.graphql_request_error = True
            processed.pop("data", None)
        return processed

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request) or self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        accept = request.headers.get("accept")
        media = graphql_media_type(accept)
        try:
            if media is None and not self.should_render_graphql_ide(self.request_adapter_class(request)):
                raise TransportError(406, "NOT_ACCEPTABLE", "The answer is application/graphql-response+json or "
                                                            "application/json: accept one of them.")
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            refused = _transport_error(error)
            body, kind = graphql_refusal(refused.status_code, refused.code, refused.reason, accept)
            headers = {"Allow": "GET, POST"} if refused.status_code == 405 else {}
            return Response(body, status_code=refused.status_code, media_type=kind,
                            headers={**headers, "Cache-Control": "private, no-store"})
        if media == GRAPHQL_RESPONSE_JSON and response.headers.get("content-type", "").startswith("application/json"):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if getattr(request.state, "graphql_request_error", False):
                response.status_code = 400
        return _http_caching(request, response)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_html(request)  # from the app's own assets: strawberry's page loads its scripts from a CDN

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and len(data) == 1 and isinstance(data.get("data"), EncodedData):
            return f'{{"data":{data["data"].text}}}'
        if isinstance(data, dict) and data.get("type") == "next" and data.keys() == {"id", "type", "payload"}:
            payload = data["payload"]
            if isinstance(payload, dict) and payload.keys() == {"data"} and isinstance(payload["data"], dict):
                return (f'{{"id":{json.dumps(data["id"])},"type":"next","payload":{{"data":'
                        f'{self._encoded_answer(payload["data"])}}}}}')
        return super().encode_json(data)

    def _encoded_answer(self, answer: dict[str, Any]) -> str:
        kept = self._encoded_answers.get(id(answer))
        if kept is not None and kept[0] is answer:  # kept holds the object, so its id is not reused meanwhile
            return kept[1]
        text = json.dumps(answer, separators=(",", ":"))
        self._encoded_answers[id(answer)] = (answer, text)
        while len(self._encoded_answers) > 256:
            self._encoded_answers.popitem(last=False)
        return text


PUBLIC_MAX_AGE = 60
"""Seconds a browser or a CDN may reuse an anonymous (``public`` role) answer before revalidating it by ETag."""


def _http_caching(request: Request, response: Response) -> Response:
    """HTTP caching of answers: every GET answer has a strong ``ETag`` (the SHA-256 of its body), and a request
    whose ``If-None-Match`` names it gets 304 without a body. Only an anonymous GET answered without errors (the
    ``public`` role: open data, the same for everyone) is ``Cache-Control: public``; every other answer, and every
    answer to a caller with a token, is ``private, no-store``."""
    body = getattr(response, "body", None)
    shared = False
    if (request.method == "GET" and response.status_code == 200 and isinstance(body, bytes)
            and getattr(request.state, "graphql_principal", None) is PUBLIC):
        try:
            shared = not json.loads(body).get("errors")
        except (ValueError, AttributeError):
            shared = False
    response.headers["cache-control"] = f"public, max-age={PUBLIC_MAX_AGE}" if shared else "private, no-store"
    if request.method != "GET" or response.status_code != 200 or not isinstance(body, bytes):
        return response
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    response.headers["etag"] = etag
    vary = [v for v in (response.headers.get("vary") or "").split(",") if v.strip()]
    response.headers["vary"] = ", ".join([*(v.strip() for v in vary), "Accept", "Authorization"])
    asked = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    if etag in asked or "*" in asked:
        kept = {k: v for k, v in response.headers.items() if k in ("cache-control", "etag", "vary")}
        return Response(status_code=304, headers=kept)
    return response


def graphql_router(model: ReportingReadModel, tokens: TokenService, service_urls: Mapping[str, str] | None = None,
                   cache_bytes: int = 64 * 2**20,
                   auditor: audit.AuditTrailFactory | None = None,
                   trusted: TrustedDocuments | None = None) -> GraphQLRouter[dict[str, Any], None]:
    """The gateway's router; ``cache_bytes`` of encoded answers at most are kept (0: no response cache);
    ``auditor`` serves the auditors' fields (none: they answer NOT_AVAILABLE); ``trusted``: the partner clients'
    registered documents (``trusted_documents``).

    A GET without a token runs as the anonymous ``public`` role (``shared.auth.PUBLIC``: open data only), so that
    the public pages' data can be cached by a browser or a CDN; any other request without a token is refused."""

    async def get_context(request: HTTPConnection) -> dict[str, Any]:
        # A websocket's caller is who its connection_init payload names (``on_ws_connect``), never its headers.
        principal: Principal | None = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and request.scope["type"] == "http":
            try:
                principal = tokens.verify(header[7:].strip())
            except AuthenticationError:
                principal = None
        elif not header and request.scope["type"] == "http" and request.scope.get("method") == "GET":
            principal = PUBLIC
        request.state.graphql_principal = principal
        return {"model": model, "principal": principal, "request": request, "service_urls": service_urls or {},
                "auditor": auditor}

    return CachingGraphQLRouter(schema, context_getter=get_context, model=model, tokens=tokens,
                                cache=ResponseCache(cache_bytes, CACHEABLE_QUERIES), trusted=trusted,
                                subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
                                connection_init_wait_timeout=timedelta(seconds=10))
