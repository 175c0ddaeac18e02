"""Scrutiny packs published for a committee's meeting, at a stable URL.

Publishing is a decision (the partnership officer's, by the scheme of delegation for scrutiny packs), so tasking
records it (``ScrutinyPackPublished``): reporting builds the pack, works out the SHA-256 of its canonical JSON and
the topic positions it read, and sends the command to tasking with the officer's own token. Reporting then serves
the pack at ``/reports/scrutiny/published/{id}``, rebuilt from the history as it stood at the recorded moment:
without sign-in when the committee's papers are public, with the check of the rebuilt pack against the recorded
SHA-256 and the audit's verification of the event stores at the moment it is asked.

A published pack holds no personal data: people appear by role and organisation only, and a pack published for a
meeting lists no changes (that needs a previous pack's moment, which is a reader's, not the committee's).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from starlette.routing import Mount

from services.reporting.audit import AuditTrailFactory
from services.reporting.changes import Scope
from services.reporting.coordination.tables import PUBLISHED_PACKS
from services.reporting.pack_render import RENDERER_VERSION, MissingGlyphs, digest, to_html, to_json, to_pdf
from services.reporting.packs import PackRequest, ScrutinyPack, build_pack
from services.reporting.readmodel import ReportingReadModel, timestamp
from shared.auth import AuthenticationError, Principal, Role, TokenService
from shared.errors import InvalidCommand, NotFound, NotPermitted
from shared.fields import Day, Line, Moment
from shared.readstore import ReadStore
from shared.web import DecisionIn, StrictModel, correlation_id, require_role

TIMEOUT_SECONDS = 30.0
READERS = (Role.SCRUTINY_MEMBER, Role.AUDITOR, Role.PARTNERSHIP_OFFICER)

Officer = Annotated[Principal, Depends(require_role(Role.PARTNERSHIP_OFFICER))]
_bearer = HTTPBearer(auto_error=False)


class PublishPack(StrictModel):
    """Publish the pack of a committee's scope and period for its meeting."""

    committee: Line = Field(min_length=1, max_length=200, examples=["Worcestershire Overview and Scrutiny"])
    meeting_on: Day
    starts_on: Day
    ends_on: Day
    districts: list[Line] = Field(default_factory=list, max_length=50)
    theme_groups: list[Line] = Field(default_factory=list, max_length=50)
    papers_public: bool = Field(True, description="Whether the committee's papers are public (read without sign-in)")
    records_as_of: Moment | None = Field(None, description="Read the records as they stood then (default: now)")
    decision: DecisionIn


def positions_at(store: ReadStore, as_of: datetime) -> list[dict[str, Any]]:
    """How many events of each service's topic the read models had applied, of those recorded by ``as_of``."""
    counts = Counter(row["type"].split(".", 1)[0] for row in store.query(
        "SELECT type FROM event_log WHERE time <= ?", [timestamp(as_of)]))
    return [{"topic": f"{service}.events", "events": counts[service]} for service in sorted(counts)]


def request_of(row: Mapping[str, Any]) -> PackRequest:
    """The pack a publication names: its committee, scope and period, the records as they stood then."""
    return PackRequest(committee=row["committee"], start=datetime.fromisoformat(row["starts_on"]).date(),
                       end=datetime.fromisoformat(row["ends_on"]).date(),
                       scope=Scope(frozenset(json.loads(row["districts"])), frozenset(json.loads(row["theme_groups"]))),
                       as_of=datetime.fromisoformat(row["records_as_of"]))


def publication(store: ReadStore, pack_id: UUID) -> dict[str, Any]:
    rows = store.query(f"SELECT * FROM {PUBLISHED_PACKS.name} WHERE id = ?", [str(pack_id)])
    if not rows:
        raise NotFound("No scrutiny pack was published under that id.")
    return dict(rows[0])


def _client(request: Request, service_urls: Mapping[str, str]) -> httpx.AsyncClient:
    """Tasking where it runs (``PARTNERSHIP_SERVICE_URLS``), or in this process when it is mounted here."""
    if "tasking" in service_urls:
        return httpx.AsyncClient(base_url=service_urls["tasking"].rstrip("/"), timeout=TIMEOUT_SECONDS)
    mounted = any(isinstance(r, Mount) and r.path == "/tasking" for r in getattr(request.app, "routes", ()))
    if not mounted:
        raise NotPermitted("This reporting service does not know where tasking runs: set PARTNERSHIP_SERVICE_URLS.")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://embedded",
                             timeout=TIMEOUT_SECONDS)


def publications_router(model: ReportingReadModel, service_urls: Mapping[str, str] | None = None,
                        auditor: AuditTrailFactory | None = None) -> APIRouter:
    router = APIRouter(prefix="/reports/scrutiny", tags=["scrutiny packs"])
    urls = service_urls or {}

    @router.post("/publications", status_code=201, summary="Publish a scrutiny pack for a committee's meeting",
                 description="Builds the pack, and records its publication in tasking (the partnership officer's "
                             "delegated decision) with the SHA-256 of its canonical JSON and the topic positions "
                             "it was built from. Answers with the pack's public URL.")
    async def publish(body: PublishPack, principal: Officer, request: Request) -> JSONResponse:
        from services.reporting.api import _check_scope  # one check of a scope, the pack route's
        from shared.partnership import load

        _check_scope(load(model.store.settings.partnership_file), body.districts, body.theme_groups, model)
        if body.ends_on < body.starts_on:
            raise InvalidCommand("The period ends before it starts.",
                                 [{"field": "ends_on", "message": "must not be before `starts_on`"}])
        as_of = body.records_as_of or datetime.now(UTC)
        pack = build_pack(model.store, PackRequest(
            committee=body.committee, start=body.starts_on, end=body.ends_on, as_of=as_of,
            scope=Scope(frozenset(body.districts), frozenset(body.theme_groups))))
        try:
            to_pdf(pack)  # a pack that cannot be drawn is not published
        except MissingGlyphs as missing:
            raise InvalidCommand(str(missing), [{"field": "committee", "message": "the PDF cannot draw it"}]) \
                from missing
        command = {"committee": body.committee, "meeting_on": body.meeting_on.isoformat(),
                   "starts_on": body.starts_on.isoformat(), "ends_on": body.ends_on.isoformat(),
                   "districts": sorted(body.districts), "theme_groups": sorted(body.theme_groups),
                   "records_as_of": as_of.isoformat(), "positions": positions_at(model.store, as_of),
                   "sha256": digest(pack), "renderer_version": RENDERER_VERSION,
                   "papers_public": body.papers_public, "decision": body.decision.model_dump(mode="json")}
        async with _client(request, urls) as client:
            answer = await client.post("/tasking/scrutiny-packs", json=command, headers={
                "authorization": request.headers.get("authorization", ""),
                "x-correlation-id": correlation_id(request)})
        if answer.status_code >= 400:  # tasking's refusal, as it gave it
            return JSONResponse(answer.json(), status_code=answer.status_code,
                                media_type="application/problem+json")
        created = answer.json()
        return JSONResponse({**created, "url": f"/reports/scrutiny/published/{created['id']}",
                             "sha256": command["sha256"], "renderer_version": RENDERER_VERSION,
                             "records_as_of": command["records_as_of"], "positions": command["positions"]},
                            status_code=201)

    def _reader(request: Request, credentials: HTTPAuthorizationCredentials | None, row: Mapping[str, Any]) -> None:
        """A pack whose committee's papers are public is for anyone; otherwise for those who read packs."""
        if row["papers_public"]:
            return
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationError("a bearer token is required: this committee's papers are not public")
        tokens: TokenService = request.app.state.tokens
        principal = tokens.verify(credentials.credentials)
        if not any(principal.has(role) for role in READERS):
            raise NotPermitted("This needs one of the roles: " + ", ".join(r.value for r in READERS) + ".")

    @router.get("/published", summary="The scrutiny packs published for committee meetings",
                description="Those of committees whose papers are public for anyone; the others too for those who "
                            "read packs (a scrutiny member, an auditor, a partnership officer).")
    def published_list(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
                       ) -> list[dict[str, Any]]:
        reader = False
        if credentials is not None and credentials.scheme.lower() == "bearer":
            tokens: TokenService = request.app.state.tokens
            reader = any(tokens.verify(credentials.credentials).has(role) for role in READERS)
        rows = model.store.query(f"SELECT id, committee, meeting_on, starts_on, ends_on, papers_public, sha256,"
                                 f" renderer_version FROM {PUBLISHED_PACKS.name} ORDER BY meeting_on DESC, committee")
        return [{"id": r["id"], "committee": r["committee"], "meeting_on": r["meeting_on"],
                 "starts_on": r["starts_on"], "ends_on": r["ends_on"], "papers_public": bool(r["papers_public"]),
                 "sha256": r["sha256"], "renderer_version": r["renderer_version"],
                 "url": f"/reports/scrutiny/published/{r['id']}"} for r in rows if r["papers_public"] or reader]

    def _rebuilt(row: Mapping[str, Any]) -> ScrutinyPack:
        return build_pack(model.store, request_of(row))

    @router.get("/published/{pack_id}", response_class=Response,
                summary="A published scrutiny pack (no sign-in when the committee's papers are public)",
                responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}}})
    def published(pack_id: UUID, request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
                  format: Annotated[Literal["html", "pdf", "json"], Query()] = "html") -> Response:
        row = publication(model.store, pack_id)
        _reader(request, credentials, row)
        pack = _rebuilt(row)
        body = to_json(pack)
        headers = {"x-pack-sha256": row["sha256"],
                   "x-pack-identical": "true" if hashlib.sha256(body).hexdigest() == row["sha256"] else "false",
                   "x-pack-renderer-version": row["renderer_version"], "cache-control": "public, max-age=60"
                   if row["papers_public"] else "private, no-store"}
        if format == "json":
            return Response(body, media_type="application/json", headers=headers)
        if format == "pdf":
            return Response(to_pdf(pack), media_type="application/pdf", headers={
                **headers, "content-disposition": f'inline; filename="scrutiny-pack-{pack_id}.pdf"'})
        return HTMLResponse(to_html(pack), headers=headers)

    @router.get("/published/{pack_id}/verification",
                summary="Whether the published pack rebuilds to what was recorded, and the audit's verification now")
    def verification(pack_id: UUID, request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
                     ) -> dict[str, Any]:
        row = publication(model.store, pack_id)
        _reader(request, credentials, row)
        pack = _rebuilt(row)
        rebuilt = digest(pack)
        as_of = datetime.fromisoformat(row["records_as_of"])
        found: dict[str, Any] = {
            "id": str(pack_id), "committee": row["committee"], "meeting_on": row["meeting_on"],
            "period": {"starts_on": row["starts_on"], "ends_on": row["ends_on"]},
            "records_as_of": row["records_as_of"], "recorded_sha256": row["sha256"], "rebuilt_sha256": rebuilt,
            "identical": rebuilt == row["sha256"], "recorded_renderer_version": row["renderer_version"],
            "renderer_version": RENDERER_VERSION, "recorded_positions": json.loads(row["positions"]),
            "positions_now": positions_at(model.store, as_of),
            "decision": json.loads(row["decision"]), "verified_at": datetime.now(UTC).isoformat()}
        found["same_positions"] = found["recorded_positions"] == found["positions_now"]
        if auditor is None:
            found["audit"] = {"available": False}
        else:
            reports = auditor().verify()
            problems = [str(p) for r in reports for p in r.problems]
            found["audit"] = {"available": True, "intact": not problems, "problems": problems[:20],
                              "services": [{"service": r.service, "events": r.events, "tree_size": r.tree_size,
                                            "events_under_checkpoint": r.events_under_checkpoint, "intact": r.ok}
                                           for r in reports]}
        return found

    return router
