"""HTTP edge shared by every service: problem+json errors (RFC 9457), bearer authentication, role checks."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from fastapi import Depends, FastAPI, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from shared import idempotency
from shared.auth import AuthenticationError, Grant, Principal, Role, TokenService
from shared.contracts import Decision
from shared.errors import DomainError, InvalidCommand, NotPermitted, NotYetKnown
from shared.eventstore import CommandContext
from shared.fields import Day, Figure, Line, Text, Whole

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def on_the_loop(call: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``call`` (a plain function: an endpoint or a dependency) run on the event loop, not in the threadpool.

    FastAPI sends every plain function to anyio's threadpool, and a command went there two to four times (its
    aggregate-loading dependency, the endpoint, the response's validation): the hand-over (``Condition.notify``,
    the worker thread's wake-up) was 10-15 % of a service's web process. Only for what is short and waits on
    nothing this process serves: one command's transaction in its own store (a lock it waits for is held by a
    transaction of another thread or process, never by a request of this loop; in the embedded mode the gateway
    calls a service's API through the same loop, asynchronously). The loop runs nothing else meanwhile, so bulk
    work (an upload, an export, a scrutiny pack's rendering) stays in the threadpool."""
    if inspect.iscoroutinefunction(call):
        return call

    @functools.wraps(call)  # FastAPI reads the parameters through ``__wrapped__``
    async def inline(*args: P.args, **kwargs: P.kwargs) -> R:
        return call(*args, **kwargs)

    return inline


def reads_one(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Marks a read of one record by its id (an aggregate, a row by its key) as short as a command's transaction:
    its route runs it ``on_the_loop`` (``CommandRoute``). Put it under the route's decorator."""
    endpoint.__dict__["reads_one"] = True
    return endpoint


class CommandRoute(APIRoute):
    """A router's route class that runs its command endpoints (POST, PUT, PATCH, DELETE) and its reads of one
    record (``reads_one``) ``on_the_loop``; other reads stay in the threadpool (a list or an export may take a
    while). A read in the threadpool went there twice, for its endpoint and for its response's validation."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        if (methods and methods <= WRITES) or getattr(endpoint, "reads_one", False):
            endpoint = on_the_loop(endpoint)
        super().__init__(path, endpoint, **kwargs)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "urn:partnership:problem:"


def problem_body(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """A problem+json body (RFC 9457): what every API refuses with, and what a partner's inbound command is
    answered with on its outcomes topic (``services.projects.inbound``)."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(problem_body(status, code, title, detail, **extra), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def refusal_body(error: DomainError) -> dict[str, Any]:
    """The problem body of a refused command, as the APIs answer it."""
    status, code, title, detail, extra = problem_fields(error)
    return problem_body(status, code, title, detail, **extra)


def validation_problem_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The problem body of a request whose fields do not validate (pydantic's errors, from a request body or a
    ``model_validate``): field names as clients name them, one entry per error."""
    problems = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "")),
                 "code": str(e.get("type", ""))} for e in errors]
    fields = ", ".join(sorted({e["field"] for e in problems}))
    return problem_body(422, "validation-failed", "The request is not valid", f"Invalid field(s): {fields}",
                        errors=problems)


def problem_fields(error: DomainError) -> tuple[int, str, str, str, dict[str, Any]]:
    """A refused command's problem: status, code, title, detail and its further members. The APIs answer with it,
    and the history import reports a refused row in the same words."""
    if isinstance(error, InvalidCommand):
        return (error.status, error.code, "The command is not valid", error.message,
                {"errors": error.problems or None, **error.details})
    return error.status, error.code, "The command was refused", error.message, dict(error.details)


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "title") -> "title": clients name fields, not where FastAPI found them.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def graphql_media_type(accept: str | None) -> str | None:
    """The media type a GraphQL answer is sent in (GraphQL over HTTP, "Body"): the first the ``Accept`` header
    prefers of ``application/graphql-response+json`` and ``application/json``; ``application/json`` when there is
    no header or it accepts anything (the legacy default: clients of this gateway read 200s); None when it accepts
    neither (406)."""
    if not accept or not accept.strip():
        return "application/json"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        kind, *parameters = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, kind))
    for _, _, kind in sorted(ranked):
        if kind == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if kind in ("application/json", "application/*", "*/*"):
            return "application/json"
    return None


def graphql_refusal(status: int, code: str, message: str, accept: str | None) -> tuple[bytes, str]:
    """The body and media type of a GraphQL request refused before it could run (not well-formed, too large, of a
    media type not read): errors with ``extensions.code`` and no ``data``, in ``application/graphql-response+json``
    unless the client accepts only ``application/json``."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code, "status": status}}]})
    listed = (accept or "").lower()
    only_json = "application/json" in listed and GRAPHQL_RESPONSE_JSON not in listed
    kind = "application/json" if only_json else GRAPHQL_RESPONSE_JSON
    return body.encode(), f"{kind}; charset=utf-8"


def is_graphql_path(path: str) -> bool:
    return path.rstrip("/").endswith("/graphql")


MAX_BODY_BYTES = 1_048_576
"""A command or a query is a few kilobytes; bulk uploads (paths ending ``/bulk``) may send up to MAX_BULK_BYTES."""
MAX_BULK_BYTES = 6_000_000
JSON_TYPES = ("application/json",)
FORM_PATHS = ("/oauth/token", "/sign-in", "/sign-out")
FORM_PATH_PREFIXES = ("/workspace/",)
"""Where a form-encoded body is read: the token endpoint, and the web pages' forms (``web/``: they post HTML forms,
which a browser sends form-encoded; everything else reads JSON)."""


class BodyGuard:
    """Refuses, before any parsing, a body larger than the path allows (413) and a body that is not JSON where only
    JSON is read (415; form-encoded only at ``/oauth/token``, CSV only at bulk uploads). Pure ASGI, streaming-safe:
    a body without a length is counted as it arrives."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        bulk = path.endswith("/bulk")
        limit = MAX_BULK_BYTES if bulk else MAX_BODY_BYTES
        length = headers.get("content-length", "")
        has_body = (length.isdigit() and int(length) > 0) or "transfer-encoding" in headers
        graphql = headers.get("accept", "") if is_graphql_path(path) else None
        if length.isdigit() and int(length) > limit:
            await self._refuse(send, 413, "body-too-large", "The request body is too large",
                               f"At most {limit:,} bytes may be sent here.", graphql)
            return
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        form = path.endswith(FORM_PATHS) or path.startswith(FORM_PATH_PREFIXES)
        allowed = kind in JSON_TYPES or kind.endswith("+json") or (bulk and kind == "text/csv") or (
            form and kind == "application/x-www-form-urlencoded")
        if has_body and not allowed:
            await self._refuse(send, 415, "unsupported-media-type", "Unsupported content type",
                               f"Send the body as application/json, not {kind or 'without a content type'}.",
                               graphql)
            return
        received = 0
        started = refused = False

        async def counted() -> Any:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    if not started:
                        await self._refuse(send, 413, "body-too-large", "The request body is too large",
                                           f"At most {limit:,} bytes may be sent here.", graphql)
                    return {"type": "http.disconnect"}  # the application stops reading; its answer is dropped
            return message

        async def tracked(message: Any) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)

    @staticmethod
    async def _refuse(send: Any, status: int, code: str, title: str, detail: str, graphql: str | None) -> None:
        """A problem (RFC 9457); on a GraphQL path (``graphql`` is then its Accept header) a GraphQL error."""
        if graphql is not None:
            body, kind = graphql_refusal(status, code.upper().replace("-", "_"), f"{title}. {detail}", graphql)
        else:
            body = json.dumps({"type": PROBLEM_BASE + code, "title": title, "status": status,
                               "detail": detail}).encode()
            kind = PROBLEM_JSON
        headers = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RecordVersionTag:
    """A record's GET (a JSON object with a whole ``version``) answers with that version as its ETag, the validator
    its commands take as If-Match; a matching If-None-Match gets 304 without the body. Pure ASGI: the one place for
    every service's records."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        held: list[Any] = []

        async def hold(message: Any) -> None:
            if held or (message["type"] == "http.response.start" and self._taggable(message)):
                held.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await self._answer(scope, held, send)
                return
            await send(message)

        await self.app(scope, receive, hold)

    @staticmethod
    def _taggable(start: Any) -> bool:
        headers = dict(start.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip()
        return start["status"] == 200 and kind == b"application/json" and b"etag" not in headers

    @staticmethod
    async def _answer(scope: Any, held: list[Any], send: Any) -> None:
        start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
        try:
            version = json.loads(body).get("version") if body.startswith(b"{") else None
        except ValueError:
            version = None
        if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
            tag = f'"{version}"'
            asked = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}.get(
                "if-none-match", "")
            listed = {t.strip().removeprefix("W/") for t in asked.split(",")}
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"etag", tag.encode()))
            if tag in listed or "*" in listed:
                await send({"type": "http.response.start", "status": 304,
                            "headers": [(k, v) for k, v in headers if k.lower() != b"content-type"]})
                await send({"type": "http.response.body", "body": b""})
                return
            headers.append((b"content-length", str(len(body)).encode()))
            start = {**start, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body})


async def refuse_unknown_query_parameters(request: HTTPConnection) -> None:
    """Refuses a query parameter that the route does not declare (422 naming it): a misspelt filter such as
    ``theme_group=pstg`` for ``themeGroup`` must not be silently ignored and answer for everything. A dependency of
    every route of an app (``install_problem_handlers``); GraphQL, whose GET parameters are its own, is left alone,
    and so is a websocket (an ``HTTPConnection``: a dependency asking for a ``Request`` fails every websocket)."""
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute) or is_graphql_path(request.url.path):
        return
    known = _KNOWN_QUERY.get(id(route))
    if known is None or known[0] is not route:
        known = _KNOWN_QUERY[id(route)] = (route, frozenset(_query_names(route.dependant)))
    unknown = sorted({name for name in request.query_params if name not in known[1]})
    if unknown:
        listed = ", ".join(sorted(known[1])) or "none"
        raise InvalidCommand(f"Unknown query parameter(s): {', '.join(unknown)}.",
                             [{"field": name, "code": "unknown_parameter",
                               "message": f"Not a parameter here; the parameters are: {listed}."} for name in unknown])


_KNOWN_QUERY: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem", "type": "object", "required": ["type", "title", "status"], "additionalProperties": True,
        "description": "A refusal or an error, as RFC 9457 problem details (sent as application/problem+json). "
                       "A refused command may carry errors (one per field) and details such as current_version; "
                       "a 503 comes with Retry-After.",
        "properties": {
            "type": {"type": "string", "examples": [PROBLEM_BASE + "validation-failed"],
                     "description": f"{PROBLEM_BASE}<code>: what kind of refusal."},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "Why, in words a partnership officer understands."},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemField"}},
            "incident": {"type": "string", "description": "For a 500: the id of the logged error."},
        },
    },
    "ProblemField": {
        "title": "ProblemField", "type": "object", "required": ["message"], "additionalProperties": True,
        "properties": {"field": {"type": "string", "examples": ["title"]}, "message": {"type": "string"},
                       "code": {"type": "string", "examples": ["missing"]}},
    },
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def _document_problems(schema: dict[str, Any], not_problem_paths: set[str]) -> dict[str, Any]:
    """FastAPI documents its 422 as application/json HTTPValidationError and no other refusal; what is sent is
    problem+json for all of them. Each operation's refusals say so, and ``default`` covers the ones not listed
    (401, 403, 404, 409, 413, 415, 503, ...). ``not_problem_paths`` are left as they are."""
    for path, operations in schema.get("paths", {}).items():
        if path in not_problem_paths:
            continue
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code, response in responses.items():
                if not (code[:1] in "45" and code != "default"):
                    continue
                content = response.get("content")
                if content is None or content.get("application/json", {}).get("schema", {}).get(
                        "$ref") == _FASTAPI_VALIDATION:
                    response["content"] = _PROBLEM_CONTENT
                    if response.get("description") == "Validation Error":
                        response["description"] = "The request is not valid: errors names each field"
            responses.setdefault("default", {"description": "Refused, or failed: problem details",
                                             "content": _PROBLEM_CONTENT})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(PROBLEM_SCHEMAS)
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, in that order (one refers to the next)
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
            components.pop(unused, None)
    return schema


# Served by Strawberry, whose refusals are GraphQL's own (errors in a 200, a 400 in plain text).
_NOT_PROBLEM_PATHS = {"/graphql"}


def _install_problem_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_problems(FastAPI.openapi(app), _NOT_PROBLEM_PATHS)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    """Map every refusal to problem+json once, here, and say so in the app's OpenAPI; refuse oversized and non-JSON
    bodies before parsing."""
    app.add_middleware(BodyGuard)
    app.add_middleware(RecordVersionTag)
    app.router.dependencies.append(Depends(refuse_unknown_query_parameters))  # every route added after this
    _install_problem_openapi(app)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_problem_body(error.errors()), status_code=422, media_type=PROBLEM_JSON)

    @app.exception_handler(InvalidCommand)
    async def _invalid(request: Request, error: InvalidCommand) -> JSONResponse:
        status, code, title, detail, extra = problem_fields(error)
        return problem(status, code, title, detail, **extra)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        status, code, title, detail, extra = problem_fields(error)
        response = problem(status, code, title, detail, **extra)
        if isinstance(error, NotYetKnown):  # retryable: tell the client when
            response.headers["Retry-After"] = str(error.details.get("retry_after", 1))
        return response

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, error: AuthenticationError) -> JSONResponse:
        return problem(401, "unauthenticated", "Authentication required", str(error))

    @app.exception_handler(AggregateNotFoundError)
    async def _not_found(request: Request, error: AggregateNotFoundError) -> JSONResponse:
        return problem(404, "not-found", "Not found", "No such record")

    @app.exception_handler(IntegrityError)
    async def _conflict(request: Request, error: IntegrityError) -> JSONResponse:
        # Another command saved the same aggregate first: optimistic concurrency, never a lost update.
        return problem(409, "concurrent-change", "Changed by someone else",
                       "The record was changed by another command at the same time; reload and retry.")

    @app.exception_handler(PersistenceOperationalError)
    @app.exception_handler(PersistenceInterfaceError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)
    async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
        # The database is restarting or unreachable. A connection lost during a commit leaves the outcome unknown,
        # so the client retries: a create with the same Idempotency-Key, a change with the version it read.
        log.warning("store unavailable", extra={"path": request.url.path, "error": type(error).__name__})
        response = problem(503, "store-unavailable", "Temporarily unavailable",
                           "The records could not be reached just now. Retry shortly: a retried create with the same "
                           "Idempotency-Key, or a change with the version you read, is never applied twice.")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == "There was an error parsing the body":  # FastAPI's words
            return problem(400, "body-not-readable", "The request body could not be read",
                           "Send the body as JSON in UTF-8, nested at most a few hundred levels deep.")
        return problem(error.status_code, f"http-{error.status_code}", str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        incident = str(uuid.uuid4())
        log.exception("unexpected error", extra={"incident": incident, "path": request.url.path})
        return problem(500, "internal", "Internal error", "The error was logged.", incident=incident)


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    # Pure dependencies are coroutines: FastAPI runs every plain-function dependency in the threadpool, and a
    # command's hops to it (one per dependency) were a quarter of its web CPU. Only a token not verified before
    # (a signature to check, perhaps an identity provider's keys to fetch) goes to a thread.
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("a bearer token is required")
    tokens: TokenService = request.app.state.tokens
    principal = tokens.verified(credentials.credentials)
    if principal is None:
        principal = await run_in_threadpool(tokens.verify, credentials.credentials)
    request.state.principal = principal
    return principal


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers holding one of ``roles`` (default deny)."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        return check_roles(principal, *roles)

    return check


def check_roles(principal: Principal, *roles: Role) -> Principal:
    """The principal, if it holds one of ``roles``; refused otherwise (``require_role``'s check, for callers that
    are not HTTP requests: a partner's inbound topic)."""
    if not any(principal.has(role) for role in roles):
        names = ", ".join(r.value for r in roles)
        raise NotPermitted(f"This needs one of the roles: {names}.")
    return principal


def acting_role(principal: Principal, *allowed: Role) -> Role:
    """The role under which the principal performs a command (the first of ``allowed`` it holds)."""
    for role in allowed:
        if principal.has(role):
            return role
    raise NotPermitted("No role of yours allows this.")


def correlation_id(request: Request) -> str:
    supplied = request.headers.get("x-correlation-id", "")
    return supplied[:100] if supplied else str(uuid.uuid4())


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DecisionIn(StrictModel):
    """The decision behind a command: which body, when, why."""

    body: Line = Field(min_length=1, max_length=200, examples=["pstg"])
    decided_on: Day
    reason: Text = Field(min_length=3, max_length=4000)
    meeting_id: Line | None = Field(None, max_length=200)
    meeting_version: Whole | None = Field(None, ge=1, description="The meeting_version recording the meeting answered.")
    reference: Line | None = Field(None, max_length=200)
    delegation: Line | None = Field(None, max_length=200, description="The scheme of delegation, for an officer's "
                                                                       "decision taken without a meeting.")

    def to_decision(self) -> Decision:
        return Decision(body=self.body, decided_on=self.decided_on, reason=self.reason,
                        meeting_id=self.meeting_id, reference=self.reference,
                        meeting_version=self.meeting_version, delegation=self.delegation)


class ProfilePointIn(StrictModel):
    """A point of a profile (a target's, a share's or a project outcome's): the value expected at a date."""

    on: Day = Field(description="The date, after the baseline date and before the target date (or deadline).")
    value: Figure = Field(description="The value expected then, in the measure's unit.")


PROFILE_POINTS = 400
"""At most this many points in a profile: one a month for over thirty years."""


class Created(BaseModel):
    id: UUID
    version: int


IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=50,
                                       description='The version last read, e.g. "3".')]


async def _idempotency_key(request: Request, key: Annotated[str | None, Header(
        alias="Idempotency-Key", max_length=200,
        description="A retried create with the same key and body returns the first result; the same key with "
                    "another body is refused (422 idempotency-key-reused).")] = None) -> str | None:
    # Async, so that what it notes is seen by the endpoint (a sync dependency runs in a copied context).
    fingerprint = idempotency.fingerprint(request.method, request.url.path, await request.body()) if key else None
    idempotency.begin_keyed_command(fingerprint)
    return key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


def command_context(principal: Principal, grant: Grant | Role, request: Request) -> CommandContext:
    """Who asks, under which grant (``shared.auth.authorize``'s; a partnership-wide role is its own grant), and the
    correlation id of this request."""
    return CommandContext(principal.actor(grant), correlation_id(request))


class _VersionsDisagree(InvalidCommand):
    code = "version-disagreement"


def expected_version(body_value: int | None, if_match: str | None) -> int:
    """The version a command was written against: the body's ``expected_version``, or ``If-Match`` (the ETag of
    the record's GET). Both may be sent; if they disagree the request contradicts itself and is refused (422, as
    any incoherent command: 412 would say the record moved, when the client has not said which version it read)."""
    raw = (if_match or "").strip()
    header: int | None = None
    if raw and raw != "*":  # "*": any current version, which names none
        value = raw.removeprefix("W/").strip('"')
        if not (value.isdigit() and int(value) >= 1):
            raise InvalidCommand("If-Match is the version you last read, as its ETag gives it, e.g. \"3\".",
                                 [{"field": "If-Match", "code": "not-a-version", "message": "Not a version."}])
        header = int(value)
    if body_value is not None and header is not None and body_value != header:
        raise _VersionsDisagree(
            f"If-Match says you read version {header}, expected_version says {body_value}: send one, or both the same.",
            [{"field": "If-Match", "code": "version-disagreement", "message": f"Version {header}."},
             {"field": "expected_version", "code": "version-disagreement", "message": f"Version {body_value}."}],
            if_match=header, expected_version=body_value)
    if body_value is not None:
        return body_value
    if header is not None:
        return header
    raise InvalidCommand("Send the version you last read, as expected_version in the body or an If-Match header.",
                         [{"field": "expected_version", "message": "The version you last read is required."}])

