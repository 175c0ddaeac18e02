"""Commands run on the event loop (``shared.web.on_the_loop``, ``CommandRoute``): no threadpool hand-over for a
command's endpoint, its aggregate-loading dependency or its response's validation, nor for a read of one record
(``reads_one``); other reads stay in the threadpool."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.priorities.api import router as priorities
from services.projects.api import router as projects
from services.tasking.api import router as tasking
from shared.errors import NotPermitted
from shared.web import WRITES, CommandRoute, install_problem_handlers, on_the_loop, reads_one

SEEN: dict[str, str] = {}
"""The thread each part of the last requests ran in."""


def _loaded(item: str) -> str:  # a dependency that loads an aggregate
    SEEN["dependency"] = threading.current_thread().name
    return item


Loaded = Annotated[str, Depends(on_the_loop(_loaded))]


def _threads() -> tuple[FastAPI, dict[str, str]]:
    seen = SEEN
    seen.clear()
    router = APIRouter(route_class=CommandRoute)

    @router.post("/items/{item}")
    def command(item: Loaded) -> dict[str, str]:
        seen["command"] = threading.current_thread().name
        if item == "forbidden":
            raise NotPermitted("not yours")
        return {"item": item}

    @router.get("/items/{item}")
    def read(item: str) -> dict[str, str]:
        seen["read"] = threading.current_thread().name
        return {"item": item}

    @router.get("/one/{item}")
    @reads_one
    def read_one(item: str) -> dict[str, str]:
        seen["read_one"] = threading.current_thread().name
        return {"item": item}

    @router.get("/loop")
    async def loop() -> dict[str, str]:
        seen["loop"] = threading.current_thread().name
        return {}

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    return app, seen


def test_a_command_and_its_dependency_run_on_the_loop_and_a_read_in_the_threadpool() -> None:
    app, seen = _threads()
    with TestClient(app) as client:
        assert client.get("/loop").status_code == 200
        assert client.post("/items/a").json() == {"item": "a"}
        assert client.get("/items/a").json() == {"item": "a"}
        assert client.get("/one/a").json() == {"item": "a"}
    assert seen["command"] == seen["dependency"] == seen["read_one"] == seen["loop"]
    assert seen["read"] != seen["loop"]


def test_a_refusal_raised_on_the_loop_is_still_problem_json() -> None:
    app, _ = _threads()
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/items/forbidden")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def _threadpooled(dependant: Dependant) -> list[str]:
    """The plain functions FastAPI would send to the threadpool for this endpoint (itself and its dependencies)."""
    from fastapi.dependencies.models import _is_coroutine_callable

    found = [] if dependant.call is None or _is_coroutine_callable(dependant.call) else [dependant.call.__name__]
    for sub in dependant.dependencies:
        found += _threadpooled(sub)
    return found


@pytest.mark.parametrize("router", [priorities, tasking, projects], ids=["priorities", "tasking", "projects"])
def test_no_command_of_a_service_goes_to_the_threadpool(router: APIRouter) -> None:
    commands: list[Any] = [r for r in router.routes if isinstance(r, APIRoute) and (r.methods or {"GET"}) <= WRITES]
    assert commands
    assert {route.path: _threadpooled(route.dependant) for route in commands
            if _threadpooled(route.dependant)} == {}


ONE_RECORD = {"priorities": {"/objectives/{objective_id}", "/targets/{target_id}", "/priorities/{priority_id}",
                             "/reviews/{scs_review_id}", "/evidence/{evidence_id}"},
              "tasking": {"/taskings/{tasking_id}", "/meetings/{meeting_id}", "/actions/{action_id}"},
              "projects": {"/projects/{project_id}", "/taskings/{tasking_id}"}}


@pytest.mark.parametrize("name, router", [("priorities", priorities), ("tasking", tasking), ("projects", projects)],
                         ids=["priorities", "tasking", "projects"])
def test_a_services_reads_of_one_record_run_on_the_loop_and_its_lists_do_not(name: str, router: APIRouter) -> None:
    reads = [r for r in router.routes if isinstance(r, APIRoute) and r.methods == {"GET"}]
    on_loop = {route.path for route in reads if not _threadpooled(route.dependant)}
    assert on_loop == ONE_RECORD[name]
