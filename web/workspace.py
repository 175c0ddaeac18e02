"""The officer workspace (signed in): record a meeting and who attended, accept or decline a tasking, report a
project's progress. Each form posts to the page, which sends the existing REST command in process as the
signed-in officer (``web.api``); the API's refusals come back as a GOV.UK error summary linked to the fields
they name, with what was typed kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


Again = Callable[[list[dict[str, Any]], int], Awaitable[HTMLResponse]]
"""A form page drawn again with the errors to show and its status code, what was typed kept."""


def workspace_router(renderer: Renderer, tokens: TokenService) -> APIRouter:
    router = APIRouter(include_in_schema=False, prefix="/workspace")

    def officer(request: Request) -> SignedIn | None:
        user = signed_in(request, tokens)
        return user if user and any(user.principal.has(role) for role in WORKSPACE_ROLES) else None

    def refused_page(request: Request) -> HTMLResponse:
        if signed_in(request, tokens) is None:
            return renderer.page(request, "must_sign_in.html", "Sign in to see this page", status_code=401)
        return renderer.page(request, "forbidden.html", "You cannot see this page", status_code=403)

    async def submit(request: Request, user: SignedIn, path: str, body: dict[str, Any], inputs: dict[str, str],
                     again: Again, done: str) -> Response:
        """Send the form's REST command as the officer: its refusals draw the form again under an error summary
        (``inputs``: the API's field names -> the form's inputs); success goes back to the tasks, saying what was
        done."""
        answer = await call(request, "POST", path, user.token, json=body)
        if answer.status_code >= 400:
            return await again(refusals(answer, inputs), answer.status_code)
        return RedirectResponse(f"/workspace?done={done}", status_code=303)

    async def decided(request: Request, user: SignedIn, fields: dict[str, str], path: str, body: dict[str, Any],
                      inputs: dict[str, str], again: Again, done: str) -> Response:
        """``submit`` for a command a meeting decided: the decision the form names goes with it (and its refusals,
        to the decision fields)."""
        decision, problems = await decision_at(request, user, fields)
        if decision is None:
            return await again(problems, 400)
        return await submit(request, user, path, {**body, "decision": decision, "expected_version": _version(fields)},
                            {**DECISION_INPUTS, **inputs}, again, done)

    async def as_officer(request: Request, then: Callable[[SignedIn], Awaitable[Response]]) -> Response:
        """``then`` for the signed-in officer; anyone else is told to sign in, or that they cannot see the page."""
        user = officer(request)
        if user is None:
            return refused_page(request)
        return await then(user)

    async def tasks(request: Request, user: SignedIn) -> tuple[Names, dict[str, Any]]:
        data = await renderer.read(request, user.principal, TASKS)
        return Names.from_data(data), data

    async def acting_on(request: Request, user: SignedIn, kind: str,
                        key: str) -> tuple[Names, dict[str, Any], dict[str, Any] | None]:
        """The page's names and data, and the one of ``mine()[kind]`` with id ``key`` (None: not this officer's)."""
        names, data = await tasks(request, user)
        return names, data, next((x for x in mine(user, data)[kind] if x["id"] == key), None)

    def not_found(request: Request) -> HTMLResponse:
        return renderer.page(request, "not_found.html", "Page not found", status_code=404)

    def meetings_of(data: dict[str, Any], body: str) -> list[dict[str, Any]]:
        """The body's recorded meetings, newest first (the decision fields' choices)."""
        return sorted((m for m in data["meetings"] if m["body"] == body), key=lambda m: m["heldOn"], reverse=True)

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
        names, _, project = await acting_on(request, user, "projects", project_id)
        if project is None:
            return not_found(request)
        return renderer.page(request, "workspace/progress.html", f"Report progress: {project['title']}",
                             active="/workspace", names=names, project=project, entered=entered, errors=errors,
                             status_code=status_code)

    @router.get("/projects/{project_id}/progress", response_class=HTMLResponse)
    async def progress_form(request: Request, project_id: str) -> Response:
        return await as_officer(request, lambda user: progress_page(request, user, project_id, {}))

    @router.post("/projects/{project_id}/progress", response_class=HTMLResponse)
    async def report_progress(request: Request, project_id: str) -> Response:
        async def send(user: SignedIn) -> Response:
            fields = await form(request)
            reported_on, date_error = _day(fields, "reported-on")
            values = {name.removeprefix("value-"): value for name, value in fields.items()
                      if name.startswith("value-") and value}

            def again(errors: list[dict[str, Any]], status_code: int) -> Awaitable[HTMLResponse]:
                return progress_page(request, user, project_id, fields, errors, status_code)

            if date_error:
                return await again([{"field": "reported-on-day", "message": date_error}], 400)
            body: dict[str, Any] = {"reported_on": reported_on, "values": values,
                                    "narrative": fields.get("narrative", ""), "expected_version": _version(fields)}
            inputs = {"reported_on": "reported-on-day", "narrative": "narrative", "values": "values",
                      **{f"values.{k}": f"value-{k}" for k in values}}
            return await submit(request, user, f"/projects/projects/{project_id}/progress", body, inputs, again,
                                "progress")

        return await as_officer(request, send)

    # -- answer a tasking ------------------------------------------------------------------------------------
    async def answer_page(request: Request, user: SignedIn, tasking_id: str, entered: dict[str, str],
                          errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data, tasking = await acting_on(request, user, "answer", tasking_id)
        if tasking is None:
            return not_found(request)
        meetings = meetings_of(data, tasking["district"])
        target = next((t for t in data["targets"] if t["id"] == tasking["targetId"]), None)
        return renderer.page(request, "workspace/answer.html",
                             f"Answer the tasking: {number(tasking['share'])} {tasking['unit']} for "
                             f"{names.district(tasking['district'])}", active="/workspace", names=names,
                             tasking=tasking, target=target, meetings=meetings, entered=entered, errors=errors,
                             status_code=status_code)

    @router.get("/taskings/{tasking_id}/answer", response_class=HTMLResponse)
    async def answer_form(request: Request, tasking_id: str) -> Response:
        return await as_officer(request, lambda user: answer_page(request, user, tasking_id, {}))

    @router.post("/taskings/{tasking_id}/answer", response_class=HTMLResponse)
    async def answer_tasking(request: Request, tasking_id: str) -> Response:
        async def send(user: SignedIn) -> Response:
            fields = await form(request)
            errors = []
            if fields.get("answer") not in ("accept", "decline"):
                errors.append({"field": "answer", "message": "Select whether the partnership accepts or declines"})
            if not fields.get("meeting"):
                errors.append({"field": "meeting", "message": "Select the meeting that decided"})

            def again(errors: list[dict[str, Any]], status_code: int) -> Awaitable[HTMLResponse]:
                return answer_page(request, user, tasking_id, fields, errors, status_code)

            if errors:
                return await again(errors, 400)
            body = {"reason": fields.get("reason", "")} if fields["answer"] == "decline" else {}
            return await decided(request, user, fields, f"/tasking/taskings/{tasking_id}/{fields['answer']}", body,
                                 {"reason": "reason"}, again, fields["answer"])

        return await as_officer(request, send)

    # -- retask: move part of a share to another district -----------------------------------------------------
    async def retask_page(request: Request, user: SignedIn, tasking_id: str, entered: dict[str, str],
                          errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data, tasking = await acting_on(request, user, "retask", tasking_id)
        if tasking is None:
            return not_found(request)
        meetings = meetings_of(data, tasking["themeGroup"])
        districts = sorted((d for d in names.districts if d != tasking["district"]), key=names.district)
        return renderer.page(request, "workspace/retask.html",
                             f"Retask: move part of {names.district(tasking['district'])}'s "
                             f"{number(tasking['share'])} {tasking['unit']}", active="/workspace", names=names,
                             tasking=tasking, meetings=meetings, districts=districts,
                             organisations=sorted(names.organisations.items(), key=lambda o: o[1]),
                             entered=entered, errors=errors, status_code=status_code)

    @router.get("/taskings/{tasking_id}/retask", response_class=HTMLResponse)
    async def retask_form(request: Request, tasking_id: str) -> Response:
        return await as_officer(request, lambda user: retask_page(request, user, tasking_id, {}))

    @router.post("/taskings/{tasking_id}/retask", response_class=HTMLResponse)
    async def retask(request: Request, tasking_id: str) -> Response:
        async def send(user: SignedIn) -> Response:
            fields = await form(request)
            return await decided(request, user, fields, f"/tasking/taskings/{tasking_id}/transfer", {
                "district": fields.get("district", ""), "lead_partner": fields.get("lead_partner", ""),
                "share": fields.get("share", "")}, {"district": "district", "lead_partner": "lead_partner",
                                                    "share": "share"},
                lambda errors, status_code: retask_page(request, user, tasking_id, fields, errors, status_code),
                "retask")

        return await as_officer(request, send)

    # -- intervene in a project ------------------------------------------------------------------------------
    async def intervene_page(request: Request, user: SignedIn, project_id: str, entered: dict[str, str],
                             errors: list[dict[str, Any]] | None = None, status_code: int = 200) -> HTMLResponse:
        names, data, project = await acting_on(request, user, "intervene", project_id)
        if project is None:
            return not_found(request)
        meetings = meetings_of(data, project["district"])
        return renderer.page(request, "workspace/intervene.html", f"Intervene: {project['title']}",
                             active="/workspace", names=names, project=project, meetings=meetings,
                             kinds=INTERVENTIONS, entered=entered, errors=errors, status_code=status_code)

    @router.get("/projects/{project_id}/intervene", response_class=HTMLResponse)
    async def intervene_form(request: Request, project_id: str) -> Response:
        return await as_officer(request, lambda user: intervene_page(request, user, project_id, {}))

    @router.post("/projects/{project_id}/intervene", response_class=HTMLResponse)
    async def intervene(request: Request, project_id: str) -> Response:
        async def send(user: SignedIn) -> Response:
            fields = await form(request)
            body: dict[str, Any] = {"kind": fields.get("kind", ""), "description": fields.get("description", "")}
            if any(fields.get(f"due-on-{part}") for part in ("day", "month", "year")):  # optional, but whole
                due_on, date_error = _day(fields, "due-on")
                if date_error:
                    return await intervene_page(request, user, project_id, fields,
                                                [{"field": "due-on-day", "message": date_error}], 400)
                body["due_on"] = due_on
            return await decided(request, user, fields, f"/projects/projects/{project_id}/interventions", body,
                {"kind": "kind", "description": "description", "due_on": "due-on-day"},
                lambda errors, status_code: intervene_page(request, user, project_id, fields, errors, status_code),
                "intervention")

        return await as_officer(request, send)

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
    async def meeting_form(request: Request) -> Response:
        return await as_officer(request, lambda user: meeting_page(request, user, {}))

    @router.post("/meetings/new", response_class=HTMLResponse)
    async def record_meeting(request: Request) -> Response:
        async def send(user: SignedIn) -> Response:
            fields = await form(request)
            present = [name.removeprefix("present-") for name, value in fields.items()
                       if name.startswith("present-") and value == "yes"]
            held_on, date_error = _day(fields, "held-on")
            errors = []
            if not fields.get("body"):
                errors.append({"field": "body", "message": "Select the body that met"})
            if date_error:
                errors.append({"field": "held-on-day", "message": date_error})

            def again(errors: list[dict[str, Any]], status_code: int) -> Awaitable[HTMLResponse]:
                return meeting_page(request, user, {**fields, "present": present}, errors, status_code)

            if errors:
                return await again(errors, 400)
            return await submit(request, user, "/tasking/meetings", {
                "body": fields["body"], "held_on": held_on, "present": present, "title": fields.get("title", "")},
                {"body": "body", "held_on": "held-on-day", "present": "present", "title": "title",
                 "decision": "present"}, again, "meeting")

        return await as_officer(request, send)

    return router

