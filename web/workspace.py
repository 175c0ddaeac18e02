"""The officer workspace (signed in): record a meeting and who attended, accept or decline a tasking, report a
project's progress. Each form posts to the page, which sends the existing REST command in process as the
signed-in officer (``web.api``); the API's refusals come back as a GOV.UK error summary linked to the fields
they name, with what was typed kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.auth import Role, TokenService
from web.api import call, refusals
from web.forms import form
from web.names import NAMES_QUERY, Names, number
from web.render import Renderer
from web.session import WORKSPACE_ROLES, SignedIn, signed_in

TASKS = "query Tasks { " + NAMES_QUERY + """
taskings { id version district share unit status leadPartner themeGroup deadline targetId }
targets { id metric }
deliveryProjects(status: "open") { id version title district leadPartner lastReportedOn rag direction
  outcomes { outcomeId metric unit targetValue actual } }
memberships { body organisation }
}"""


LIVE = {"issued", "accepted", "in_delivery"}
"""Tasking statuses whose share a theme group may still move."""

INTERVENTIONS = [("re_plan", "Re-plan the project"), ("extra_resources", "Put in extra resources"),
                 ("escalate_to_theme_group", "Escalate to the theme group"),
                 ("request_retasking", "Ask the theme group to retask")]

DECISION_INPUTS = {"decision.reason": "reason", "decision.reference": "reference", "decision.meeting_id": "meeting",
                   "decision.meeting_version": "meeting", "decision": "meeting", "decision.decided_on": "meeting",
                   "decision.body": "meeting"}
"""The API's names for a decision's parts -> the inputs of the pages' decision fields (``_decision.html``)."""


async def decision_at(request: Request, user: SignedIn, fields: dict[str, str]) -> tuple[dict[str, Any] | None,
                                                                                           list[dict[str, Any]]]:
    """The decision the form's meeting, reason and reference make, the meeting read from tasking (its minute-book
    entry, which a decision names); or the refusals to show."""
    if not fields.get("meeting"):
        return None, [{"field": "meeting", "message": "Select the meeting that decided"}]
    meeting = await call(request, "GET", f"/tasking/meetings/{fields['meeting']}", user.token)
    if meeting.status_code != 200:
        return None, refusals(meeting, {})
    held = meeting.json()
    return {"body": held["body"], "decided_on": held["held_on"], "meeting_id": held["id"],
            "meeting_version": held["meeting_version"], "reason": fields.get("reason", ""),
            "reference": fields.get("reference") or None}, []


def _version(fields: dict[str, str]) -> int | None:
    return int(fields["version"]) if fields.get("version", "").isdigit() else None


def _day(fields: dict[str, str], prefix: str) -> tuple[str | None, str | None]:
    """A GOV.UK date input's three fields as an ISO date, or an error message."""
    parts = [fields.get(f"{prefix}-{part}", "") for part in ("day", "month", "year")]
    if not all(parts):
        return None, "Enter the date, with a day, month and year"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat(), None
    except ValueError:
        return None, "The date must be a real date, for example 1 4 2013"


def workspace_router(renderer: Renderer, tokens: TokenService) -> APIRouter:
    router = APIRouter(include_in_schema=False, prefix="/workspace")

    def officer(request: Request) -> SignedIn | None:
        user = signed_in(request, tokens)
        return user if user and any(user.principal.has(role) for role in WORKSPACE_ROLES) else None

    def refused_page(request: Request) -> HTMLResponse:
        if signed_in(request, tokens) is None:
            return renderer.page(request, "must_sign_in.html", "Sign in to see this page", status_code=401)
        return renderer.page(request, "forbidden.html", "You cannot see this page", status_code=403)

    async def tasks(request: Request, user: SignedIn) -> tuple[Names, dict[str, Any]]:
        data = await renderer.read(request, user.principal, TASKS)
        return Names.from_data(data), data

    def mine(user: SignedIn, data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """What this officer can act on: taskings their district must answer, projects their organisation leads,
        the bodies whose meetings they record."""
        principal = user.principal
        districts = set(principal.scopes(Role.DISTRICT_COORDINATOR))
        everywhere = principal.has(Role.PARTNERSHIP_OFFICER)
        answer = [t for t in data["taskings"] if t["status"] == "issued" and (everywhere or t["district"] in districts)]
        projects = [p for p in data["deliveryProjects"] if p["leadPartner"] == principal.organisation
                    and principal.has(Role.PARTNER_OFFICER)]
        groups = set(principal.scopes(Role.THEME_GROUP_LEAD))
        retask = [t for t in data["taskings"] if t["themeGroup"] in groups and t["status"] in LIVE]
        managed = set(principal.scopes(Role.PROGRAMME_MANAGER))
        intervene = [p for p in data["deliveryProjects"] if p["district"] in managed]
        bodies = sorted({m["body"] for m in data["memberships"]})
        if not everywhere:
            bodies = [b for b in bodies if b in districts or b in groups or b in managed]
        return {"answer": answer, "projects": projects, "bodies": [{"id": b} for b in bodies], "retask": retask,
                "intervene": intervene}

    @router.get("", response_class=HTMLResponse)
    async def home(request: Request, done: str | None = None) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        names, data = await tasks(request, user)
        targets = {t["id"]: t for t in data["targets"]}
        acts = mine(user, data)
        return renderer.page(request, "workspace/home.html", "Your tasks", active="/workspace", names=names,
                             targets=targets, done=done, answer=acts["answer"], projects=acts["projects"],
                             bodies=acts["bodies"], retask=acts["retask"], intervene=acts["intervene"])

    # -- report progress -------------------------------------------------------------------------------------
    async def progress_page(request: Request, user: SignedIn, project_id: str, entered: dict[str, str],
                            errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data = await tasks(request, user)
        project = next((p for p in mine(user, data)["projects"] if p["id"] == project_id), None)
        if project is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        return renderer.page(request, "workspace/progress.html", f"Report progress: {project['title']}",
                             active="/workspace", names=names, project=project, entered=entered, errors=errors,
                             status_code=status_code)

    @router.get("/projects/{project_id}/progress", response_class=HTMLResponse)
    async def progress_form(request: Request, project_id: str) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await progress_page(request, user, project_id, {})

    @router.post("/projects/{project_id}/progress", response_class=HTMLResponse)
    async def report_progress(request: Request, project_id: str) -> Response:
        user = officer(request)
        if user is None:
            return refused_page(request)
        fields = await form(request)
        reported_on, date_error = _day(fields, "reported-on")
        values = {name.removeprefix("value-"): value for name, value in fields.items()
                  if name.startswith("value-") and value}
        if date_error:
            return await progress_page(request, user, project_id, fields,
                                       [{"field": "reported-on-day", "message": date_error}], 400)
        body: dict[str, Any] = {"reported_on": reported_on, "values": values, "narrative": fields.get("narrative", ""),
                                "expected_version": int(fields["version"]) if fields.get("version", "").isdigit()
                                else None}
        answer = await call(request, "POST", f"/projects/projects/{project_id}/progress", user.token, json=body)
        if answer.status_code >= 400:
            inputs = {"reported_on": "reported-on-day", "narrative": "narrative", "values": "values",
                      **{f"values.{k}": f"value-{k}" for k in values}, "expected_version": None}
            return await progress_page(request, user, project_id, fields,
                                       refusals(answer, {k: v for k, v in inputs.items() if v}), answer.status_code)
        return RedirectResponse("/workspace?done=progress", status_code=303)

    # -- answer a tasking ------------------------------------------------------------------------------------
    async def answer_page(request: Request, user: SignedIn, tasking_id: str, entered: dict[str, str],
                          errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data = await tasks(request, user)
        tasking = next((t for t in mine(user, data)["answer"] if t["id"] == tasking_id), None)
        if tasking is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        meetings = sorted((m for m in data["meetings"] if m["body"] == tasking["district"]),
                          key=lambda m: m["heldOn"], reverse=True)
        target = next((t for t in data["targets"] if t["id"] == tasking["targetId"]), None)
        return renderer.page(request, "workspace/answer.html",
                             f"Answer the tasking: {number(tasking['share'])} {tasking['unit']} for "
                             f"{names.district(tasking['district'])}", active="/workspace", names=names,
                             tasking=tasking, target=target, meetings=meetings, entered=entered, errors=errors,
                             status_code=status_code)

    @router.get("/taskings/{tasking_id}/answer", response_class=HTMLResponse)
    async def answer_form(request: Request, tasking_id: str) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await answer_page(request, user, tasking_id, {})

    @router.post("/taskings/{tasking_id}/answer", response_class=HTMLResponse)
    async def answer_tasking(request: Request, tasking_id: str) -> Response:
        user = officer(request)
        if user is None:
            return refused_page(request)
        fields = await form(request)
        errors = []
        if fields.get("answer") not in ("accept", "decline"):
            errors.append({"field": "answer", "message": "Select whether the partnership accepts or declines"})
        if not fields.get("meeting"):
            errors.append({"field": "meeting", "message": "Select the meeting that decided"})
        if errors:
            return await answer_page(request, user, tasking_id, fields, errors, 400)
        decision, problems = await decision_at(request, user, fields)
        if decision is None:
            return await answer_page(request, user, tasking_id, fields, problems, 400)
        body: dict[str, Any] = {"decision": decision, "expected_version": _version(fields)}
        if fields["answer"] == "decline":
            body["reason"] = fields.get("reason", "")
        answer = await call(request, "POST", f"/tasking/taskings/{tasking_id}/{fields['answer']}", user.token,
                            json=body)
        if answer.status_code >= 400:
            return await answer_page(request, user, tasking_id, fields,
                                     refusals(answer, {**DECISION_INPUTS, "reason": "reason"}), answer.status_code)
        return RedirectResponse(f"/workspace?done={fields['answer']}", status_code=303)

    # -- retask: move part of a share to another district -----------------------------------------------------
    async def retask_page(request: Request, user: SignedIn, tasking_id: str, entered: dict[str, str],
                          errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data = await tasks(request, user)
        tasking = next((t for t in mine(user, data)["retask"] if t["id"] == tasking_id), None)
        if tasking is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        meetings = sorted((m for m in data["meetings"] if m["body"] == tasking["themeGroup"]),
                          key=lambda m: m["heldOn"], reverse=True)
        districts = sorted((d for d in names.districts if d != tasking["district"]), key=names.district)
        return renderer.page(request, "workspace/retask.html",
                             f"Retask: move part of {names.district(tasking['district'])}'s "
                             f"{number(tasking['share'])} {tasking['unit']}", active="/workspace", names=names,
                             tasking=tasking, meetings=meetings, districts=districts,
                             organisations=sorted(names.organisations.items(), key=lambda o: o[1]),
                             entered=entered, errors=errors, status_code=status_code)

    @router.get("/taskings/{tasking_id}/retask", response_class=HTMLResponse)
    async def retask_form(request: Request, tasking_id: str) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await retask_page(request, user, tasking_id, {})

    @router.post("/taskings/{tasking_id}/retask", response_class=HTMLResponse)
    async def retask(request: Request, tasking_id: str) -> Response:
        user = officer(request)
        if user is None:
            return refused_page(request)
        fields = await form(request)
        decision, problems = await decision_at(request, user, fields)
        if decision is None:
            return await retask_page(request, user, tasking_id, fields, problems, 400)
        answer = await call(request, "POST", f"/tasking/taskings/{tasking_id}/transfer", user.token, json={
            "district": fields.get("district", ""), "lead_partner": fields.get("lead_partner", ""),
            "share": fields.get("share", ""), "decision": decision, "expected_version": _version(fields)})
        if answer.status_code >= 400:
            inputs = {**DECISION_INPUTS, "district": "district", "lead_partner": "lead_partner", "share": "share"}
            return await retask_page(request, user, tasking_id, fields, refusals(answer, inputs), answer.status_code)
        return RedirectResponse("/workspace?done=retask", status_code=303)

    # -- intervene in a project ------------------------------------------------------------------------------
    async def intervene_page(request: Request, user: SignedIn, project_id: str, entered: dict[str, str],
                             errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data = await tasks(request, user)
        project = next((p for p in mine(user, data)["intervene"] if p["id"] == project_id), None)
        if project is None:
            return renderer.page(request, "not_found.html", "Page not found", status_code=404)
        meetings = sorted((m for m in data["meetings"] if m["body"] == project["district"]),
                          key=lambda m: m["heldOn"], reverse=True)
        return renderer.page(request, "workspace/intervene.html", f"Intervene: {project['title']}",
                             active="/workspace", names=names, project=project, meetings=meetings,
                             kinds=INTERVENTIONS, entered=entered, errors=errors, status_code=status_code)

    @router.get("/projects/{project_id}/intervene", response_class=HTMLResponse)
    async def intervene_form(request: Request, project_id: str) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await intervene_page(request, user, project_id, {})

    @router.post("/projects/{project_id}/intervene", response_class=HTMLResponse)
    async def intervene(request: Request, project_id: str) -> Response:
        user = officer(request)
        if user is None:
            return refused_page(request)
        fields = await form(request)
        decision, problems = await decision_at(request, user, fields)
        if decision is None:
            return await intervene_page(request, user, project_id, fields, problems, 400)
        answer = await call(request, "POST", f"/projects/projects/{project_id}/interventions", user.token, json={
            "kind": fields.get("kind", ""), "description": fields.get("description", ""), "decision": decision,
            "expected_version": _version(fields)})
        if answer.status_code >= 400:
            inputs = {**DECISION_INPUTS, "kind": "kind", "description": "description"}
            return await intervene_page(request, user, project_id, fields, refusals(answer, inputs),
                                        answer.status_code)
        return RedirectResponse("/workspace?done=intervention", status_code=303)

    # -- record a meeting ------------------------------------------------------------------------------------
    async def meeting_page(request: Request, user: SignedIn, entered: dict[str, Any],
                           errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data = await tasks(request, user)
        bodies = mine(user, data)["bodies"]
        return renderer.page(request, "workspace/meeting.html", "Record a meeting", active="/workspace",
                             names=names, bodies=bodies, organisations=sorted(names.organisations.items(),
                                                                              key=lambda o: o[1]),
                             entered=entered, errors=errors, status_code=status_code)

    @router.get("/meetings/new", response_class=HTMLResponse)
    async def meeting_form(request: Request) -> HTMLResponse:
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await meeting_page(request, user, {})

    @router.post("/meetings/new", response_class=HTMLResponse)
    async def record_meeting(request: Request) -> Response:
        user = officer(request)
        if user is None:
            return refused_page(request)
        fields = await form(request)
        present = [name.removeprefix("present-") for name, value in fields.items()
                   if name.startswith("present-") and value == "yes"]
        held_on, date_error = _day(fields, "held-on")
        errors = []
        if not fields.get("body"):
            errors.append({"field": "body", "message": "Select the body that met"})
        if date_error:
            errors.append({"field": "held-on-day", "message": date_error})
        if errors:
            return await meeting_page(request, user, {**fields, "present": present}, errors, 400)
        answer = await call(request, "POST", "/tasking/meetings", user.token, json={
            "body": fields["body"], "held_on": held_on, "present": present, "title": fields.get("title", "")})
        if answer.status_code >= 400:
            inputs = {"body": "body", "held_on": "held-on-day", "present": "present", "title": "title",
                      "decision": "present"}
            return await meeting_page(request, user, {**fields, "present": present}, refusals(answer, inputs),
                                      answer.status_code)
        return RedirectResponse("/workspace?done=meeting", status_code=303)

    return router

