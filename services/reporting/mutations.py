"""Mutations: each forwards to the owning service's REST API with the caller's own token, and returns the service's
answer, or its refusal (problem+json) as a GraphQL error whose ``extensions.code`` names it (e.g. STALE_VERSION).

The gateway decides nothing itself: the service authorizes, validates and records. ``input`` is the body of the REST
command (its fields are documented in the service's OpenAPI page, e.g. ``/tasking/docs``), so each command's fields
are declared once, by its service. Where a service runs is ``PARTNERSHIP_SERVICE_URLS``; a service not named there is
called in-process through the ASGI app that also serves this gateway (the embedded mode).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import strawberry
from starlette.requests import Request
from starlette.routing import Mount
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.graphql_common import GatewayError, IsAuthenticated, bad_input

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0


@strawberry.type(description="What the owning service answered: its HTTP status and body (usually id and version).")
class CommandResult:
    service: str
    status: int
    id: strawberry.ID | None
    version: int | None
    body: JSON


def _mounted(app: Any, service: str) -> bool:
    return any(isinstance(route, Mount) and route.path == f"/{service}" for route in getattr(app, "routes", ()))


def _client(info: Info, service: str) -> httpx.AsyncClient:
    urls: Mapping[str, str] = info.context.get("service_urls") or {}
    if service in urls:
        return httpx.AsyncClient(base_url=urls[service].rstrip("/"), timeout=TIMEOUT_SECONDS)
    request: Request = info.context["request"]
    if _mounted(request.app, service):
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://embedded",
                                 timeout=TIMEOUT_SECONDS)
    raise GatewayError(f"The gateway does not know where the {service} service runs: set PARTNERSHIP_SERVICE_URLS.",
                       "SERVICE_UNAVAILABLE", service=service)


def _problem_code(problem: Mapping[str, Any], status: int) -> str:
    kind = str(problem.get("type", "")).rsplit(":", 1)[-1]
    return kind.replace("-", "_").upper() if kind else f"HTTP_{status}"


def _segment(value: object) -> str:
    """An argument as one path segment: percent-encoded, so an id or a district cannot reach another route (or
    break the URL) on its way to the owning service."""
    return quote(str(value), safe="")


async def forward(info: Info, service: str, path: str, body: Any, *, method: str = "POST",
                  expected_version: int | None = None, idempotency_key: str | None = None) -> CommandResult:
    """Send the command to ``/<service><path>`` as the caller; its refusal becomes a GraphQL error with a code."""
    request: Request = info.context["request"]
    headers = {"authorization": request.headers.get("authorization", "")}
    correlation = request.headers.get("x-correlation-id", "")
    if correlation and correlation.isascii() and correlation.isprintable():  # else the service makes its own
        headers["x-correlation-id"] = correlation[:100]
    if expected_version is not None:
        headers["if-match"] = str(expected_version)
    if idempotency_key is not None:
        # It travels as a header: visible ASCII only, as the services' Idempotency-Key is documented.
        if not (0 < len(idempotency_key) <= 200 and idempotency_key.isascii() and idempotency_key.isprintable()):
            raise bad_input("`idempotencyKey` is 1 to 200 visible ASCII characters", "idempotencyKey")
        headers["idempotency-key"] = idempotency_key
    try:
        async with _client(info, service) as client:
            response = await client.request(method, f"/{service}{path}", json=body if body is not None else {},
                                            headers=headers)
    except httpx.HTTPError as error:
        log.warning("forwarding a mutation failed", extra={"service": service, "path": path, "error": str(error)})
        raise GatewayError(f"The {service} service did not answer: {error}", "SERVICE_UNAVAILABLE",
                           service=service) from error
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {"text": response.text[:2000]}
    if response.status_code >= 400:
        problem = answer if isinstance(answer, dict) else {}
        message = str(problem.get("detail") or problem.get("title") or f"{service} refused the command")
        raise GatewayError(message, _problem_code(problem, response.status_code), status=response.status_code,
                           service=service, problem=problem)
    found = answer if isinstance(answer, dict) else {}
    return CommandResult(service=service, status=response.status_code,
                         id=strawberry.ID(str(found["id"])) if found.get("id") is not None else None,
                         version=found.get("version") if isinstance(found.get("version"), int) else None,
                         body=answer)


_INPUT = "The body of the REST command, as documented at /{service}/docs ({path})."


def _doc(service: str, path: str, what: str) -> str:
    return f"{what} Forwarded to POST /{service}{path}. " + _INPUT.format(service=service, path=path)


@strawberry.type
class Mutation:
    # -- priorities ---------------------------------------------------------------------------------------------
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/objectives", "Add an SCS or county-strategy objective."))
    async def add_objective(self, info: Info, input: JSON, idempotency_key: str | None = None) -> CommandResult:
        return await forward(info, "priorities", "/objectives", input, idempotency_key=idempotency_key)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/targets", "Set a SMART target on an objective."))
    async def set_target(self, info: Info, input: JSON, idempotency_key: str | None = None) -> CommandResult:
        return await forward(info, "priorities", "/targets", input, idempotency_key=idempotency_key)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/targets/{id}/revise", "Revise a target by a decision."))
    async def revise_target(self, info: Info, id: strawberry.ID, input: JSON,
                            expected_version: int | None = None) -> CommandResult:
        return await forward(info, "priorities", f"/targets/{_segment(id)}/revise", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/targets/{id}/retire", "Retire a target by a decision."))
    async def retire_target(self, info: Info, id: strawberry.ID, input: JSON,
                            expected_version: int | None = None) -> CommandResult:
        return await forward(info, "priorities", f"/targets/{_segment(id)}/retire", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/districts/{district}/priorities",
                                          "Propose a district priority."))
    async def propose_priority(self, info: Info, district: str, input: JSON,
                               idempotency_key: str | None = None) -> CommandResult:
        return await forward(info, "priorities", f"/districts/{_segment(district)}/priorities", input,
                             idempotency_key=idempotency_key)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("priorities", "/priorities/{id}/agree", "Agree a district priority."))
    async def agree_priority(self, info: Info, id: strawberry.ID, input: JSON,
                             expected_version: int | None = None) -> CommandResult:
        return await forward(info, "priorities", f"/priorities/{_segment(id)}/agree", input,
                             expected_version=expected_version)

    # -- tasking ------------------------------------------------------------------------------------------------
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings", "Task a district with a share of a target."))
    async def issue_tasking(self, info: Info, input: JSON, idempotency_key: str | None = None) -> CommandResult:
        return await forward(info, "tasking", "/taskings", input, idempotency_key=idempotency_key)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings/{id}/accept", "The district accepts a tasking."))
    async def accept_tasking(self, info: Info, id: strawberry.ID, input: JSON,
                             expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/taskings/{_segment(id)}/accept", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings/{id}/decline", "The district declines a tasking."))
    async def decline_tasking(self, info: Info, id: strawberry.ID, input: JSON,
                              expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/taskings/{_segment(id)}/decline", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings/{id}/retask",
                                          "Retask: another district, lead partner, share or deadline."))
    async def retask_tasking(self, info: Info, id: strawberry.ID, input: JSON,
                             expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/taskings/{_segment(id)}/retask", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings/{id}/transfer",
                                          "Move part of a tasking's share to another district."))
    async def transfer_tasking(self, info: Info, id: strawberry.ID, input: JSON,
                               expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/taskings/{_segment(id)}/transfer", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/taskings/{id}/withdraw", "The theme group withdraws a tasking."))
    async def withdraw_tasking(self, info: Info, id: strawberry.ID, input: JSON,
                               expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/taskings/{_segment(id)}/withdraw", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("tasking", "/actions/{id}/done", "The owner reports an agreed action done."))
    async def complete_action(self, info: Info, id: strawberry.ID, input: JSON,
                              expected_version: int | None = None) -> CommandResult:
        return await forward(info, "tasking", f"/actions/{_segment(id)}/done", input, expected_version=expected_version)

    # -- projects -----------------------------------------------------------------------------------------------
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("projects", "/projects", "Open a project delivering part of a tasking."))
    async def open_project(self, info: Info, input: JSON, idempotency_key: str | None = None) -> CommandResult:
        return await forward(info, "projects", "/projects", input, idempotency_key=idempotency_key)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("projects", "/projects/{id}/progress", "Report progress on a project."))
    async def report_progress(self, info: Info, id: strawberry.ID, input: JSON,
                              expected_version: int | None = None) -> CommandResult:
        return await forward(info, "projects", f"/projects/{_segment(id)}/progress", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("projects", "/projects/{id}/interventions",
                                          "The programme manager intervenes in a drifting project."))
    async def record_intervention(self, info: Info, id: strawberry.ID, input: JSON,
                                  expected_version: int | None = None) -> CommandResult:
        return await forward(info, "projects", f"/projects/{_segment(id)}/interventions", input,
                             expected_version=expected_version)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description=_doc("projects", "/projects/{id}/closure", "Close a project with its outcome."))
    async def close_project(self, info: Info, id: strawberry.ID, input: JSON,
                            expected_version: int | None = None) -> CommandResult:
        return await forward(info, "projects", f"/projects/{_segment(id)}/closure", input,
                             expected_version=expected_version)
