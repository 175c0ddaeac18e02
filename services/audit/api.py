"""The auditor's REST surface: verification, history, state as of a time, checkpoints, decision completeness, and
verified reads (each event with its stored bytes and inclusion proof).

Read-only for auditors. The one write is a witness's: ``POST /cosignatures`` (the witness role only), which adds a
cosignature beside a checkpoint. Mount it at ``/audit`` (the composition root does; see docs/audit.md).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel, Field

from services.audit.auditor import Auditor
from shared.audit.checkpoint import trusted_public_key
from shared.auth import Principal, Role, TokenService
from shared.devtools import install_api_docs
from shared.web import install_problem_handlers, require_role

Auditor_ = Annotated[Principal, Depends(require_role(Role.AUDITOR))]
Witness_ = Annotated[Principal, Depends(require_role(Role.WITNESS))]
AuditorOrWitness = Annotated[Principal, Depends(require_role(Role.AUDITOR, Role.WITNESS))]


class CosignedCheckpoint(BaseModel):
    """A checkpoint note of one of our logs with the witness's cosignature/v1 line(s) appended."""

    note: str = Field(max_length=20_000)


def create_api(auditor: Auditor, tokens: TokenService) -> FastAPI:
    app = FastAPI(title="Audit", version="1.0", description=__doc__, docs_url=None, redoc_url=None)
    app.state.tokens = tokens
    install_problem_handlers(app)
    install_api_docs(app)

    @app.get("/verify", summary="Recompute every hash chain and signed checkpoint")
    def verify(principal: Auditor_, service: str | None = None) -> dict[str, Any]:
        reports = auditor.verify(service)
        problems = [str(p) for r in reports for p in r.problems]
        return {"intact": not problems, "first_bad_event": problems[0] if problems else None,
                "problems": problems[:100],
                "services": [{"service": r.service, "events": r.events, "aggregates": r.aggregates,
                              "checkpoints": r.checkpoints, "events_under_checkpoint": r.events_under_checkpoint,
                              "tree_size": r.tree_size, "not_yet_covered": r.uncovered,
                              "not_yet_covered_positions": r.uncovered_positions, "intact": r.ok}
                             for r in reports]}

    @app.get("/history/{aggregate_id}", summary="Every event of one aggregate: when, who, which decision, what")
    def history(principal: Auditor_, aggregate_id: UUID,
                proofs: Annotated[bool, Query(description="With each event's inclusion proof")] = False
                ) -> list[dict[str, Any]]:
        entries = auditor.history(aggregate_id)
        if proofs:
            for entry, proven in zip(entries, auditor.proofs(aggregate_id), strict=True):
                entry["stored"] = {"topic": proven["topic"], "state": proven["state"], "origin": proven["origin"]}
                entry["inclusion"] = proven["inclusion"]
        return entries

    @app.get("/proofs/{aggregate_id}", summary="Every event of one aggregate as stored, with its inclusion proof "
                                                "against the latest signed checkpoint")
    def proofs(principal: Auditor_, aggregate_id: UUID) -> list[dict[str, Any]]:
        return auditor.proofs(aggregate_id)

    @app.get("/state/{aggregate_id}", summary="The aggregate as it was at a time")
    def state(principal: Auditor_, aggregate_id: UUID, as_of: Annotated[datetime, Query()]) -> dict[str, Any]:
        return auditor.state(aggregate_id, as_of)

    @app.get("/checkpoints/{service}", summary="The signed checkpoints of a service's log, with cosignatures")
    def checkpoints(principal: AuditorOrWitness, service: str) -> list[dict[str, Any]]:
        cosignatures: dict[int, list[str]] = {}
        for cosignature in auditor.cosignatures(service):
            cosignatures.setdefault(cosignature.tree_size, []).append(cosignature.cosignature)
        return [{**c.summary(), "cosignatures": cosignatures.get(c.tree_size, [])}
                for c in auditor.checkpoints(service)]

    @app.get("/consistency/{service}", summary="The consistency proof between two tree sizes of a service's log")
    def consistency(principal: AuditorOrWitness, service: str, first: Annotated[int, Query(ge=0)],
                    second: Annotated[int, Query(ge=1)]) -> dict[str, Any]:
        return auditor.consistency(service, first, second)

    @app.post("/cosignatures", status_code=201, summary="A witness returns its cosignature of a checkpoint")
    def cosign(principal: Witness_, body: CosignedCheckpoint) -> dict[str, Any]:
        kept = auditor.add_cosignature(body.note)
        return {"kept": [{"tree_size": c.tree_size, "witness": c.witness, "cosigned_at": c.cosigned_at}
                         for c in kept]}

    @app.get("/public-key", summary="The published Ed25519 key checkpoints are signed with")
    def public_key(principal: Auditor_) -> dict[str, str | None]:
        return {"public_key": trusted_public_key(auditor.settings)}

    @app.get("/decisions/missing", summary="State changes that should carry a decision reference and do not")
    def missing_decisions(principal: Auditor_) -> list[dict[str, Any]]:
        return [asdict(m) for m in auditor.missing_decisions()]

    return app
