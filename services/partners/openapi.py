"""The OpenAPI documents as published for partners: what each served document leaves implicit, said.

A served document (``/<service>/openapi.json``) describes its routes from inside the process: its paths carry no
mount prefix and it cannot know where it is deployed. The published one adds, without changing any operation:

- ``servers``: every environment (the Kubernetes overlays' ingress hosts and the embedded / one-host port), with the
  prefix each mounts the API under (``/api/<service>`` behind the ingress, ``/<service>`` in one process);
- ``security`` on every operation: a bearer token (OIDC or our own), HTTP Basic client credentials for the token
  endpoint, none for the public open-data feed; GraphQL takes a token but answers public fields without one;
- per operation, the refusals it can give (401 and 403 where a token is needed, 409 for commands, 422, 503), each
  as problem details; GraphQL's malformed requests (400) in its own media type;
- the licence (Open Government Licence v3.0, as the open data).
"""

from __future__ import annotations

import copy
from typing import Any

from shared.web import PROBLEM_JSON

LICENCE = {"name": "Open Government Licence v3.0", "identifier": "OGL-UK-3.0"}
ENVIRONMENTS: tuple[tuple[str, str, str], ...] = (
    ("https://partnership.worcestershire.example.org", "/api", "Production (deploy/k8s/overlays/prod ingress)"),
    ("https://partnership.dev.example.org", "/api", "Development cluster (deploy/k8s/overlays/dev ingress)"),
    ("http://127.0.0.1:8000", "", "One process (make run) or one Docker host (docker compose)"),
)
"""(origin, prefix of the services' REST APIs there, description) of every environment partners may call."""

BEARER = "bearer"
CLIENT_BASIC = "clientCredentials"
PUBLIC_PATHS = ("/open-data", "/healthz", "/readyz", "/metrics")
GRAPHQL = "/graphql"
TOKEN = "/oauth/token"

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_REFUSALS = {
    "401": "No valid bearer token (missing, expired, wrong issuer, audience or signature).",
    "403": "The token's role, organisation, district or theme group may not do this.",
    "409": "A conflict: the record changed since you read it (stale expected_version or If-Match), or a rule of "
           "the partnership refuses it as things stand (e.g. the limit of agreed priorities).",
    "422": "The request is not valid: errors names each field.",
    "503": "A store or an upstream fact is not available yet: retry after Retry-After seconds.",
}


def servers(service: str | None) -> list[dict[str, str]]:
    """The servers of one service's API (``None``: the process's own routes, at the root)."""
    return [{"url": origin if service is None else f"{origin}{api_prefix}/{service}", "description": description}
            for origin, api_prefix, description in ENVIRONMENTS]


def _security(path: str) -> list[dict[str, list[str]]]:
    if path == TOKEN:
        return [{CLIENT_BASIC: []}, {}]  # Basic, or client_id and client_secret in the form (RFC 6749 2.3.1)
    if path.startswith(PUBLIC_PATHS):
        return []
    if path == GRAPHQL:
        return [{BEARER: []}, {}]  # public fields answer without a token; the rest need one
    return [{BEARER: []}]


def _refusals(path: str, method: str, security: list[dict[str, list[str]]]) -> list[str]:
    if path == TOKEN:
        return ["503"]  # its own 400 and 401 (RFC 6749 5.2) are documented by the route
    codes = []
    if {BEARER: []} in security and {} not in security:
        codes += ["401", "403"]
    if method in ("post", "put", "patch", "delete"):
        codes.append("409")
    return [*codes, "422", "503"]


def published(document: dict[str, Any], service: str | None) -> dict[str, Any]:
    """The served ``document`` of ``service`` (None: the process itself) as partners get it."""
    result = copy.deepcopy(document)
    result["info"]["license"] = LICENCE
    result["servers"] = servers(service)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.pop("HTTPBearer", None)  # FastAPI's name for the scheme, replaced by the one described here
    schemes[BEARER] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "An access token: from the organisation's identity provider (OIDC), or from "
                                      "/oauth/token for a partner system."}
    if TOKEN in result.get("paths", {}):
        schemes[CLIENT_BASIC] = {"type": "http", "scheme": "basic",
                                 "description": "A partner system's client id and secret (docs/partners.md)."}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            security = _security(path)
            operation["security"] = security
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if path == GRAPHQL:
                responses.setdefault("400", {
                    "description": "Not a well-formed GraphQL request: errors[].extensions.code says why.",
                    "content": {"application/graphql-response+json": {"schema": {"type": "object"}}}})
                continue
            for code in _refusals(path, method, security):
                responses.setdefault(code, {"description": _REFUSALS[code], "content": _PROBLEM})
    return result
