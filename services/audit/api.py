"""The auditor's REST surface: verification, history, state as of a time, checkpoints, decision completeness.

Read-only, for the auditor role only. Mount it at ``/audit`` (the composition root does; see docs/audit.md).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI, Query

from services.audit.auditor import Auditor
from shared.audit.checkpoint import trusted_public_key
from shared.auth import Principal, Role, TokenService
from shared.web import install_problem_handlers, require_role

Auditor_ = Annotated[Principal, Depends(require_role(Role.AUDITOR))]


def create_api(auditor: Auditor, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Audit", version="1.0", description=__doc__)
    app.state.tokens = tokens
    install_problem_handlers(app)

    @app.get("/verify", summary="Recompute every hash chain and signed checkpoint")
    def verify(principal: Auditor_, service: str | None = None) -> dict[str, Any]:
        reports = auditor.verify(service)
        problems = [str(p) for r in reports for p in r.problems]
        return {"intact": not problems, "first_bad_event": problems[0] if problems else None,
                "problems": problems[:100],
                "services": [{"service": r.service, "events": r.events, "aggregates": r.aggregates,
                              "checkpoints": r.checkpoints, "events_under_checkpoint": r.events_under_checkpoint,
                              "intact": r.ok} for r in reports]}

    @app.get("/history/{aggregate_id}", summary="Every event of one aggregate: when, who, which decision, what")
    def history(principal: Auditor_, aggregate_id: UUID) -> list[dict[str, Any]]:
        return auditor.history(aggregate_id)

    @app.get("/state/{aggregate_id}", summary="The aggregate as it was at a time")
    def state(principal: Auditor_, aggregate_id: UUID, as_of: Annotated[datetime, Query()]) -> dict[str, Any]:
        return auditor.state(aggregate_id, as_of)

    @app.get("/checkpoints/{service}", summary="The signed checkpoints of a service's log")
    def checkpoints(principal: Auditor_, service: str) -> list[dict[str, Any]]:
        return [c.summary() for c in auditor.checkpoints(service)]

    @app.get("/public-key", summary="The published Ed25519 key checkpoints are signed with")
    def public_key(principal: Auditor_) -> dict[str, str | None]:
        return {"public_key": trusted_public_key(auditor.settings)}

    @app.get("/decisions/missing", summary="State changes that should carry a decision reference and do not")
    def missing_decisions(principal: Auditor_) -> list[dict[str, Any]]:
        return [asdict(m) for m in auditor.missing_decisions()]

    return app
