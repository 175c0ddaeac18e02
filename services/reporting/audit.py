"""GraphQL fields for auditors: verification of every service's hash chains and checkpoints, and the
store-side history of an aggregate (from the event stores themselves, with hashes), by the auditor the composition
root hands the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from services.reporting.graphql_common import GatewayError, bad_input
from shared.audit.verify import Report
from shared.auth import Role
from shared.errors import NotFound


class AuditTrail(Protocol):
    """What these fields ask of the auditor (``services.audit.auditor.Auditor``, which the composition root hands
    the gateway: it reads every service's own store)."""

    def verify(self, service: str | None = None) -> list[Report]: ...

    def history(self, aggregate_id: UUID) -> Any: ...

    def proofs(self, aggregate_id: UUID) -> list[dict[str, Any]]: ...


AuditTrailFactory = Callable[[], AuditTrail]
"""The gateway context's ``auditor``: the process's auditor, made when first asked for."""


class IsAuditor(BasePermission):
    message = "Only an auditor may verify the event stores."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.get("principal")
        return principal is not None and principal.has(Role.AUDITOR)


class MayVerify(BasePermission):
    """Whether the records are intact is for scrutiny members too (their pages' "verified" badge): the answer is
    counts and tree sizes, no record's content."""

    message = "Only an auditor or a scrutiny member may verify the event stores."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.get("principal")
        return principal is not None and (principal.has(Role.AUDITOR) or principal.has(Role.SCRUTINY_MEMBER))


def _auditor(info: Info) -> AuditTrail:
    factory: AuditTrailFactory | None = info.context.get("auditor")
    if factory is None:
        raise GatewayError("This gateway does not reach the services' event stores.", "NOT_AVAILABLE")
    return factory()


@strawberry.type
class ServiceVerification:
    service: str
    events: int
    aggregates: int
    checkpoints: int
    events_under_checkpoint: int
    tree_size: int
    not_yet_covered: int = strawberry.field(description="Events after the last signed checkpoint (chains only).")
    intact: bool


@strawberry.type
class Verification:
    intact: bool
    first_bad_event: str | None
    problems: list[str]
    services: list[ServiceVerification]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[MayVerify],
                      description="Recompute every service's hash chains and signed checkpoints (auditors and "
                                  "scrutiny members).")
    def audit_verification(self, info: Info, service: str | None = None) -> Verification:
        reports = _auditor(info).verify(service)
        problems = [str(p) for r in reports for p in r.problems]
        return Verification(intact=not problems, first_bad_event=problems[0] if problems else None,
                            problems=problems[:100],
                            services=[ServiceVerification(service=r.service, events=r.events, aggregates=r.aggregates,
                                                          checkpoints=r.checkpoints,
                                                          events_under_checkpoint=r.events_under_checkpoint,
                                                          tree_size=r.tree_size, not_yet_covered=r.uncovered,
                                                          intact=r.ok) for r in reports])

    @strawberry.field(permission_classes=[IsAuditor],
                      description="Every stored event of one aggregate with its hashes and what changed (auditors).")
    def audit_history(self, info: Info, aggregate_id: strawberry.ID) -> JSON:
        try:
            aggregate = UUID(str(aggregate_id))
        except ValueError:
            raise bad_input("`aggregateId` is not a record id (a UUID)", "aggregateId") from None
        history: Any = _auditor(info).history(aggregate)
        return history  # type: ignore[no-any-return]


@strawberry.type(description="An event as stored, with its proof of inclusion in the latest signed checkpoint of its "
                             "service's log (docs/audit.md): recompute the leaf from storedState and check the proof "
                             "against the checkpoint's root.")
class InclusionProof:
    covered: bool
    service: str | None = None
    origin: str | None = None
    topic: str | None = None
    stored_state: str | None = strawberry.field(default=None, description="The stored bytes, base64.")
    leaf_index: int | None = None
    tree_size: int | None = None
    leaf_hash: str | None = strawberry.field(default=None, description="base64")
    proof: list[str] = strawberry.field(default_factory=list, description="RFC 9162 inclusion path, base64")
    checkpoint: str | None = strawberry.field(default=None, description="The signed C2SP checkpoint note.")


def inclusion_proof(info: Info, aggregate_id: str, version: int) -> InclusionProof:
    """One history entry's proof (the aggregate's proofs are computed once per request)."""
    cache: dict[str, dict[int, dict[str, Any]]] = info.context.setdefault("_inclusion_proofs", {})
    if aggregate_id not in cache:
        try:
            cache[aggregate_id] = {p["version"]: p for p in _auditor(info).proofs(UUID(aggregate_id))}
        except NotFound:  # in the read model, not (or no longer) in a store this gateway reads
            cache[aggregate_id] = {}
    found = cache[aggregate_id].get(version)
    if found is None:
        return InclusionProof(covered=False)
    inclusion = found["inclusion"]
    return InclusionProof(covered=inclusion["covered"], service=found["service"], origin=found["origin"],
                          topic=found["topic"], stored_state=found["state"], leaf_index=inclusion.get("leaf_index"),
                          tree_size=inclusion.get("tree_size"), leaf_hash=inclusion.get("leaf_hash"),
                          proof=inclusion.get("proof", []), checkpoint=inclusion.get("checkpoint"))
