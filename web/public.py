"""The public pages: no sign-in, no JavaScript needed, read through GraphQL as ``shared.auth.PUBLIC`` (what open
data publishes, nothing more)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.reporting.opendata.api import DATASETS
from shared.auth import PUBLIC
from web.names import NAMES_QUERY, Names, event_name, long_date, number
from web.render import Renderer

ENDED = {"declined", "withdrawn", "closed", "superseded"}
"""Tasking statuses that no longer hold a share of the target."""

HOME = "query Home { " + NAMES_QUERY + """
objectives { id title level strategy parentId status }
targets(status: "active") { id objectiveId metric unit baselineValue baselineDate targetValue deadline dataSource
  ownerOrganisation decision { body decidedOn reason meetingId reference } }
taskings { id targetId district share unit leadPartner status themeGroup }
releasedPerformance { periodStart periodEnd projectTitle district leadPartner reportedOn metric unit actual rag }
performanceReleases { startsOn endsOn body decidedOn reason reference }
}"""

TASKINGS = "query Taskings { " + NAMES_QUERY + """
targets { id metric unit targetValue }
taskings { id targetId district share unit deadline leadPartner status themeGroup retaskedFrom
  decision { body decidedOn reason meetingId reference } }
decisions { subject eventType body decidedOn reason meetingId reference }
}"""

DECISIONS = "query Decisions { " + NAMES_QUERY + """
decisions { subject eventType body decidedOn reason meetingId reference recordedBy { organisation } }
}"""

TABLES = "query Tables { " + NAMES_QUERY + """
memberships { body bodyKind organisation nominatedBy isMember validFrom }
}"""


def released_by_target(targets: list[dict[str, Any]], figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each target's released performance: the latest released figure of each project reporting the target's
    measure (metric and unit), summed; and those figures, for the data table."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for figure in sorted(figures, key=lambda f: f["reportedOn"]):
        latest[(figure["metric"] or "", figure["unit"] or "", figure["projectTitle"])] = figure
    answer: dict[str, dict[str, Any]] = {}
    for target in targets:
        mine = [f for (metric, unit, _), f in latest.items() if metric == target["metric"] and unit == target["unit"]]
        total = sum((Decimal(f["actual"]) for f in mine), Decimal(0))
        answer[target["id"]] = {"total": total, "figures": sorted(mine, key=lambda f: f["projectTitle"]),
                                "as_of": max((f["periodEnd"] for f in mine), default=None)}
    return answer


def chart(target: dict[str, Any], shares: list[dict[str, Any]], released: Decimal, names: Names) -> dict[str, Any]:
    """A horizontal bar chart (inline SVG): the target, each district's share and the released figure, on one
    scale; with its text alternative. The same numbers are in the table under it."""
    goal = Decimal(target["targetValue"])
    rows = [("County target", goal, "target"), ("Released performance so far", released, "actual")]
    rows += [(f"{names.district_listed(s['district'])} share", Decimal(s["share"]), "share") for s in shares]
    top = max([goal, *(value for _, value, _ in rows)]) or Decimal(1)
    bar_width = 360
    bars = [{"label": label, "value": number(value), "kind": kind, "y": 10 + i * 40,
             "width": max(1, int(bar_width * value / top))} for i, (label, value, kind) in enumerate(rows)]
    unit = target["unit"]
    text = (f"Bar chart. County target: {number(goal)} {unit}. Released performance so far: {number(released)} "
            f"{unit}. " + " ".join(f"{names.district_listed(s['district'])} share: {number(s['share'])} {unit}."
                                   for s in shares))
    return {"bars": bars, "height": 20 + len(rows) * 40, "text": text, "id": f"chart-{target['id']}"}


def public_router(renderer: Renderer) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        data = await renderer.read(request, PUBLIC, HOME)
        names = Names.from_data(data)
        objectives = {o["id"]: {**o, "children": [], "targets": []} for o in data["objectives"]
                      if o["status"] == "active"}
        roots: list[dict[str, Any]] = []
        for objective in objectives.values():
            parent = objectives.get(objective["parentId"] or "")
            (parent["children"] if parent else roots).append(objective)
        released = released_by_target(data["targets"], data["releasedPerformance"])
        shares: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for tasking in data["taskings"]:
            if tasking["status"] not in ENDED:
                shares[tasking["targetId"]].append(tasking)
        for target in data["targets"]:
            mine = sorted(shares[target["id"]], key=lambda s: names.district(s["district"]))
            target["shares"] = mine
            target["tasked"] = sum((Decimal(s["share"]) for s in mine), Decimal(0))
            target["released"] = released[target["id"]]
            target["chart"] = chart(target, mine, released[target["id"]]["total"], names)
            if target["objectiveId"] in objectives:
                objectives[target["objectiveId"]]["targets"].append(target)
        return renderer.page(request, "home.html", "Objectives, targets and performance", active="/", names=names,
                             roots=roots, releases=data["performanceReleases"])

    @router.get("/taskings", response_class=HTMLResponse)
    async def taskings(request: Request) -> HTMLResponse:
        data = await renderer.read(request, PUBLIC, TASKINGS)
        names = Names.from_data(data)
        targets = {t["id"]: t for t in data["targets"]}
        by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for decision in data["decisions"]:
            by_subject[decision["subject"]].append(decision)
        rows = sorted(data["taskings"], key=lambda t: (names.district(t["district"]), t["deadline"]))
        for row in rows:
            row["target"] = targets.get(row["targetId"])
            row["history"] = sorted(by_subject.get(row["id"], []), key=lambda d: d["decidedOn"])
        return renderer.page(request, "taskings.html", "Taskings and their lead partners", active="/taskings",
                             names=names, taskings=rows)

    @router.get("/decisions", response_class=HTMLResponse)
    async def decisions(request: Request) -> HTMLResponse:
        data = await renderer.read(request, PUBLIC, DECISIONS)
        names = Names.from_data(data)
        rows = sorted(data["decisions"], key=lambda d: (d["decidedOn"], d["eventType"]), reverse=True)
        return renderer.page(request, "decisions.html", "Decisions and the meetings that took them",
                             active="/decisions", names=names, decisions=rows)

    @router.get("/tables", response_class=HTMLResponse)
    async def tables(request: Request) -> HTMLResponse:
        data = await renderer.read(request, PUBLIC, TABLES)
        names = Names.from_data(data)
        bodies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for membership in data["memberships"]:
            bodies[membership["body"]].append(membership)
        order = sorted(bodies, key=names.body)
        return renderer.page(request, "tables.html", "Who sits at which table", active="/tables", names=names,
                             bodies=[(body, sorted(bodies[body], key=lambda m: names.organisation(m["organisation"])))
                                     for body in order])

    @router.get("/data", response_class=HTMLResponse)
    async def data_downloads(request: Request) -> HTMLResponse:
        datasets = [{"name": name, "description": description} for name, (description, _, _) in DATASETS.items()]
        return renderer.page(request, "data.html", "Open data downloads", active="/data", datasets=datasets)

    @router.get("/accessibility", response_class=HTMLResponse)
    async def accessibility(request: Request) -> HTMLResponse:
        return renderer.page(request, "accessibility.html", "Accessibility statement", active="/accessibility")

    return router


FILTERS = {"long_date": long_date, "number": number, "event_name": event_name}
