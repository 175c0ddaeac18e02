"""The scrutiny pages (signed in as a scrutiny member): the drill-down county target -> districts -> projects, red
and worsening projects with their interventions, overdue actions by owner, what changed since the last committee,
the pack to download, and a badge saying the records were verified at which log position."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shared.auth import TokenService
from web.api import call
from web.graphql import PageDataError
from web.names import NAMES_QUERY, Names
from web.render import Renderer
from web.session import SignedIn, signed_in

ROLLUPS = "query Rollups { " + NAMES_QUERY + """
deliveryRollups { targetId metric unit kind targetValue deadline tasked actual percentOfTarget numerator denominator
  shares { taskingId district leadPartner status share deadline actual percentOfShare
    projects { projectId title leadPartner status rag contribution } } }
}"""

VERIFIED = "query Verified { auditVerification { intact services { service treeSize eventsUnderCheckpoint intact } } }"

PROJECTS = "query Projects($district: String) { " + NAMES_QUERY + """
deliveryProjects(district: $district) { id title district leadPartner status rag derivedRag direction shortfallPercent
  lastReportedOn flagged ragOverrideReason
  interventions { kind description triggers decision actorOrganisation recordedAt } }
}"""

ACTIONS = "query Actions { " + NAMES_QUERY + " overdueActions { id body description owner dueOn meetingId } }"

CHANGES = "query Changes($from: DateTime!) { " + NAMES_QUERY + """
changes(from: $from, first: 200) { totalCount nodes { entity label kind fields district lastChangedAt
  changedBy { organisation role } decisions { body decidedOn reason meetingId reference } } }
}"""


def _verified(data: dict[str, Any]) -> dict[str, Any]:
    found = data["auditVerification"]
    return {"intact": found["intact"], "services": found["services"],
            "position": sum(s["treeSize"] for s in found["services"])}


def scrutiny_router(renderer: Renderer, tokens: TokenService, development: bool) -> APIRouter:
    router = APIRouter(include_in_schema=False, prefix="/scrutiny")

    def who(request: Request) -> SignedIn | None:
        return signed_in(request, tokens)

    def must_sign_in(request: Request) -> HTMLResponse:
        return renderer.page(request, "must_sign_in.html", "Sign in to see this page", status_code=401,
                             development=development)

    async def badge(request: Request, user: SignedIn) -> dict[str, Any] | None:
        try:
            return _verified(await renderer.read(request, user.principal, VERIFIED))
        except PageDataError as error:
            if error.codes <= {"FORBIDDEN", "NOT_AVAILABLE"}:
                return None  # who may not verify (or a gateway without the stores) sees no badge, not an error
            raise

    async def read(request: Request, user: SignedIn, document: str, variables: dict[str, Any] | None = None) -> Any:
        try:
            return await renderer.read(request, user.principal, document, variables)
        except PageDataError as error:
            if "FORBIDDEN" in error.codes or "UNAUTHENTICATED" in error.codes:
                return None
            raise

    def forbidden(request: Request) -> HTMLResponse:
        return renderer.page(request, "forbidden.html", "You cannot see this page", status_code=403)

    async def member_read(request: Request, document: str,
                          variables: dict[str, Any] | None = None) -> tuple[SignedIn, Any] | HTMLResponse:
        """The signed-in member and the page's data; or the page saying why not (sign in, or may not see it)."""
        user = who(request)
        if user is None:
            return must_sign_in(request)
        data = await read(request, user, document, variables)
        if data is None:
            return forbidden(request)
        return user, data

    @router.get("", response_class=HTMLResponse)
    async def overview(request: Request) -> HTMLResponse:
        got = await member_read(request, ROLLUPS)
        if isinstance(got, HTMLResponse):
            return got
        user, data = got
        listed = await call(request, "GET", "/reports/scrutiny/published", user.token)
        published = listed.json() if listed.status_code == 200 else []
        return renderer.page(request, "scrutiny/overview.html", "Scrutiny: performance against target",
                             active="/scrutiny", names=Names.from_data(data), rollups=data["deliveryRollups"],
                             verified=await badge(request, user), today=date.today(), published=published)

    @router.get("/targets/{target_id}", response_class=HTMLResponse)
    async def target(request: Request, target_id: str) -> HTMLResponse:
        got = await member_read(request, ROLLUPS)
        if isinstance(got, HTMLResponse):
            return got
        user, data = got
        found = next((r for r in data["deliveryRollups"] if r["targetId"] == target_id), None)
        if found is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        return renderer.page(request, "scrutiny/target.html", f"{found['metric'].capitalize()}: the districts",
                             active="/scrutiny", names=Names.from_data(data), rollup=found,
                             verified=await badge(request, user))

    @router.get("/targets/{target_id}/districts/{district}", response_class=HTMLResponse)
    async def district(request: Request, target_id: str, district: str) -> HTMLResponse:
        got = await member_read(request, ROLLUPS)
        if isinstance(got, HTMLResponse):
            return got
        user, data = got
        rollup = next((r for r in data["deliveryRollups"] if r["targetId"] == target_id), None)
        share = next((s for s in rollup["shares"] if s["district"] == district), None) if rollup else None
        if rollup is None or share is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        projects = await read(request, user, PROJECTS, {"district": district})
        mine = {p["projectId"] for p in share["projects"]}
        details = [p for p in (projects or {}).get("deliveryProjects", []) if p["id"] in mine]
        names = Names.from_data(data)
        return renderer.page(request, "scrutiny/district.html",
                             f"{names.district(district)}: projects for {rollup['metric']}", active="/scrutiny",
                             names=names, rollup=rollup, share=share, projects=details,
                             verified=await badge(request, user))

    @router.get("/red", response_class=HTMLResponse)
    async def red(request: Request) -> HTMLResponse:
        got = await member_read(request, PROJECTS, {"district": None})
        if isinstance(got, HTMLResponse):
            return got
        _, data = got
        flagged = [p for p in data["deliveryProjects"] if p["rag"] == "red" or p["direction"] == "worsening"]
        return renderer.page(request, "scrutiny/red.html", "Red and worsening projects", active="/scrutiny",
                             names=Names.from_data(data), projects=flagged)

    @router.get("/actions", response_class=HTMLResponse)
    async def actions(request: Request) -> HTMLResponse:
        got = await member_read(request, ACTIONS)
        if isinstance(got, HTMLResponse):
            return got
        _, data = got
        names = Names.from_data(data)
        owners: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for action in data["overdueActions"]:
            owners[action["owner"]].append(action)
        grouped = [(owner, sorted(owners[owner], key=lambda a: a["dueOn"]))
                   for owner in sorted(owners, key=names.organisation)]
        return renderer.page(request, "scrutiny/actions.html", "Overdue actions by owner", active="/scrutiny",
                             names=names, owners=grouped, today=date.today())

    @router.get("/changes", response_class=HTMLResponse)
    async def changes(request: Request, day: str | None = None, month: str | None = None,
                      year: str | None = None) -> HTMLResponse:
        user = who(request)
        if user is None:
            return must_sign_in(request)
        since = date.today() - timedelta(days=28)  # committees meet about monthly: the default window
        errors = None
        if day or month or year:
            try:
                since = date(int(year or ""), int(month or ""), int(day or ""))
                if since > date.today():
                    raise ValueError("in the future")
            except ValueError:
                errors = [{"field": "since-day", "message": "The date of the last committee must be a real date, "
                                                            "today or in the past"}]
        start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
        data = await read(request, user, CHANGES, {"from": start.isoformat()}) if errors is None else None
        if data is None and errors is None:
            return forbidden(request)
        names = Names.from_data(data) if data else None
        return renderer.page(request, "scrutiny/changes.html", "Since the last committee", active="/scrutiny",
                             names=names, changes=data["changes"] if data else None, since=since, errors=errors,
                             entered={"day": day, "month": month, "year": year},
                             status_code=200 if errors is None else 400)

    @router.get("/pack")
    async def pack(request: Request, start: str | None = None, end: str | None = None,
                   format: str = "pdf") -> Response:
        """The committee's pack, from the reports API as the signed-in member (PDF, HTML or a ZIP of CSVs)."""
        user = who(request)
        if user is None:
            return must_sign_in(request)
        today = date.today()
        params = {"from": start or (today - timedelta(days=365)).isoformat(), "to": end or today.isoformat(),
                  "format": format if format in ("pdf", "html", "csv") else "pdf"}
        answer = await call(request, "GET", "/reports/scrutiny", user.token, params=params)
        if answer.status_code != 200:
            return renderer.page(request, "forbidden.html" if answer.status_code == 403 else "problem.html",
                                 "The pack could not be produced", status_code=answer.status_code,
                                 detail=answer.json().get("detail") if answer.headers.get(
                                     "content-type", "").startswith("application/problem+json") else None)
        headers = {k: v for k, v in answer.headers.items() if k in ("content-type", "content-disposition")}
        return Response(answer.content, headers=headers)

    return router
