"""A mixed workload through the public APIs of every service: the journeys the seed's worked example describes,
many at once, with reads beside them. Shared by the load benchmark (``bench/load.py``) and the fault suite.

A *journey* is one target's way through the chain: an officer adds an objective and sets a SMART target on it
(priorities), the theme group tasks Worcester with a share (tasking, which learns of the target from
``priorities.events``: 503 until then), Worcester accepts, the programme manager opens a project against it
(projects, which learns of the acceptance from ``tasking.events``), the lead partner reports progress, the officer
rewords the objective, and, in every other journey, the theme group withdraws the tasking (which the projects
service's policy answers by flagging the project: events recorded in reaction). Each step is one command;
a step that is refused as not yet known (503) or fails (the database restarting) is tried again later. Creates
carry an ``Idempotency-Key``, so a retry after an ambiguous failure cannot create twice.

Reads (a share of all requests) fetch what a journey created, from the services and from GraphQL.
"""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

OFFICER = {"role": "partnership_officer", "org": "worcestershire-cc"}
PSTG_LEAD = {"role": "theme_group_lead", "org": "worcestershire-cc", "theme_group": "pstg"}
WORCESTER = {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"}
MANAGER = {"role": "programme_manager", "org": "worcester-city-council", "district": "worcester"}
COLLEGE = {"role": "partner_officer", "org": "worcester-college"}
AUDITOR = {"role": "auditor", "org": "worcestershire-cc"}
SCRUTINY = {"role": "scrutiny_member", "org": "worcestershire-cc"}

TABLES = {"pstg": ["worcestershire-cc", "chamber-of-commerce", "worcester-college"],
          "worcester": ["worcester-city-council", "worcester-college", "vcs-alliance"],
          # The board decides on the SCS (rewording its objectives): its quorum is five.
          "worcestershire-partnership": ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire",
                                         "chamber-of-commerce"]}
MEETINGS = {"meeting": ("pstg", "PSTG"), "board_meeting": ("worcestershire-partnership", "Partnership board")}


class Response(Protocol):
    status_code: int

    def json(self) -> Any: ...


class Client(Protocol):
    """What a journey needs of an HTTP client (``httpx.Client`` or FastAPI's ``TestClient``)."""

    def post(self, url: str, *, json: Any = ..., headers: Any = ...) -> Any: ...

    def get(self, url: str, *, headers: Any = ...) -> Any: ...


Mint = Callable[[dict[str, str]], dict[str, str]]
"""Headers (a bearer token) for one of the identities above."""


@dataclass
class Accepted:
    """A command the system accepted: the aggregate and the version the response named."""

    service: str
    aggregate_id: str
    version: int
    at: float


@dataclass
class Stats:
    commands: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    read_errors: int = 0
    not_yet_known: int = 0
    concurrent_changes: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    applied_before_retry: Counter[str] = field(default_factory=Counter)
    """Resends answered 409 stale because an earlier attempt whose outcome was unknown (503, dropped connection) had
    been applied."""
    failed: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    journeys_done: int = 0
    examples: dict[str, str] = field(default_factory=dict)
    """The first response body of each kind of refusal or failure, to say why."""

    @property
    def accepted_commands(self) -> int:
        return len(self.accepted)


@dataclass
class Journey:
    number: int
    prefix: str
    withdraw: bool
    step: int = 0
    ids: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    not_before: float = 0.0
    busy: bool = False
    attempts: int = 0
    ambiguous: int = 0


@dataclass(frozen=True)
class Step:
    name: str
    service: str
    run: Callable[[Journey], tuple[str, dict[str, Any], dict[str, str]]]
    done: Callable[[Journey, Any], None]


def _decision(ids: dict[str, str], reason: str, meeting: str = "meeting") -> dict[str, Any]:
    return {"body": MEETINGS[meeting][0], "decided_on": "2011-05-10", "reason": reason, "meeting_id": ids[meeting],
            "meeting_version": int(ids[f"{meeting}_version"])}


class Workload:
    """Journeys and reads through ``client``; thread-safe: several threads may call ``command``/``read``."""

    def __init__(self, client: Client, mint: Mint, *, seed: int = 7, concurrency: int = 8) -> None:
        self.client = client
        self.mint = mint
        self.random = random.Random(seed)
        self.concurrency = concurrency
        self.stats = Stats()
        self.setup: dict[str, str] = {}
        self._lock = threading.Lock()
        self._journeys: list[Journey] = []
        self._started = 0
        self._finished: list[Journey] = []
        self._run = uuid.uuid4().hex[:8]
        self.steps = self._steps()

    # -- set-up: the tables and the PSTG meeting every decision cites -----------------------------------------
    def prepare(self, retry_for: float = 60.0) -> None:
        deadline = time.monotonic() + retry_for
        def seat(body: str, organisation: str) -> Any:
            return self.client.post("/tasking/memberships", json={"body": body, "organisation": organisation,
                                                                   "joined_on": "2010-04-01"},
                                    headers=self.mint(OFFICER))

        for body, organisations in TABLES.items():
            for organisation in organisations:
                self._until_ok(functools.partial(seat, body, organisation), deadline, also_ok=(409,))
        for name, (body, title) in MEETINGS.items():
            meeting = self._until_ok(functools.partial(
                self.client.post, "/tasking/meetings",
                json={"body": body, "held_on": "2011-05-10", "present": TABLES[body], "title": title},
                headers={**self.mint(OFFICER), "Idempotency-Key": f"{name}-{self._run}"}), deadline)
            self.setup[name] = str(meeting.json()["id"])
            self.setup[f"{name}_version"] = str(meeting.json()["meeting_version"])

    @staticmethod
    def _until_ok(call: Callable[[], Any], deadline: float, also_ok: tuple[int, ...] = ()) -> Any:
        while True:
            try:
                response = call()
                if response.status_code < 300 or response.status_code in also_ok:
                    return response
                error = f"{response.status_code} {response.text[:300]}"
            except Exception as exc:  # the system may still be starting
                error = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"set-up failed: {error}")
            time.sleep(0.2)

    # -- the journey's steps ------------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        def objective(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return "/priorities/objectives", {"title": f"Jobs {j.prefix}", "level": "scs",
                                              "strategy": "Sustainable Community Strategy",
                                              "decision": _decision(self.setup, "The SCS objective is adopted",
                                                                    "board_meeting")}, \
                {**self.mint(OFFICER), "Idempotency-Key": f"{j.prefix}-objective"}

        def target(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return "/priorities/targets", {
                "objective_id": j.ids["objective"], "metric": "new private-sector jobs", "unit": "jobs",
                "baseline_value": "0", "baseline_date": "2011-04-01", "target_value": "6000",
                "deadline": "2016-03-31", "data_source": "ONS Business Register",
                "owner_organisation": "worcestershire-cc",
                "decision": _decision(self.setup, "The county target for new private-sector jobs")}, \
                {**self.mint(OFFICER), "Idempotency-Key": f"{j.prefix}-target"}

        def tasking(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return "/tasking/taskings", {
                "target_id": j.ids["target"], "district": "worcester", "share": "1200", "deadline": "2013-03-31",
                "lead_partner": "worcester-city-council", "commissioning_level": "district",
                "decision": _decision(self.setup, "Worcester's share of the jobs")}, \
                {**self.mint(PSTG_LEAD), "Idempotency-Key": f"{j.prefix}-tasking"}

        def accept(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return f"/tasking/taskings/{j.ids['tasking']}/accept", {"expected_version": 1}, self.mint(WORCESTER)

        def project(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            tasking_id = j.ids["tasking"]
            return "/projects/projects", {
                "title": f"Skills academy {j.prefix}", "lead_partner": "worcester-college",
                "project_manager": "pm-user-7", "tasking_ids": [tasking_id],
                # The version accepting answered: while delivery knows an older one, the answer is 503, not 422.
                "tasking_versions": {tasking_id: j.versions["tasking"]},
                "outcomes": [{"id": "jobs", "tasking_id": tasking_id, "metric": "new private-sector jobs",
                              "unit": "jobs", "baseline_value": "0", "baseline_date": "2012-04-01",
                              "target_value": "500", "target_date": "2014-03-31"}],
                "milestones": [{"id": "premises", "title": "Premises open", "due_on": "2012-09-01"}]}, \
                {**self.mint(MANAGER), "Idempotency-Key": f"{j.prefix}-project"}

        def progress(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return f"/projects/projects/{j.ids['project']}/progress", {
                "reported_on": "2013-04-01", "values": {"jobs": "300"}, "narrative": "On track",
                "expected_version": 1}, self.mint(COLLEGE)

        def reword(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return f"/priorities/objectives/{j.ids['objective']}/reword", {
                "title": f"More jobs {j.prefix}", "expected_version": 1,
                "decision": _decision(self.setup, "Sharper wording", "board_meeting")}, self.mint(OFFICER)

        def withdraw(j: Journey) -> tuple[str, dict[str, Any], dict[str, str]]:
            return f"/tasking/taskings/{j.ids['tasking']}/withdraw", {
                "expected_version": 2, "reason": "Funding ended",
                "decision": _decision(self.setup, "Funding ended")}, self.mint(PSTG_LEAD)

        def keep(name: str) -> Callable[[Journey, Any], None]:
            def done(j: Journey, body: Any) -> None:
                j.ids[name] = str(body["id"])
            return done

        def nothing(j: Journey, body: Any) -> None:
            pass

        def read(name: str) -> Callable[[Journey, Any], None]:
            def done(j: Journey, body: Any) -> None:
                j.versions[name] = int(body["version"])
            return done

        return [Step("add objective", "priorities", objective, keep("objective")),
                Step("set target", "priorities", target, keep("target")),
                Step("issue tasking", "tasking", tasking, keep("tasking")),
                Step("accept tasking", "tasking", accept, read("tasking")),
                Step("open project", "projects", project, keep("project")),
                Step("report progress", "projects", progress, nothing),
                Step("reword objective", "priorities", reword, nothing),
                Step("withdraw tasking", "tasking", withdraw, nothing)]

    # -- scheduling ---------------------------------------------------------------------------------------------
    def _next(self) -> Journey | None:
        now = time.monotonic()
        with self._lock:
            ready = [j for j in self._journeys if not j.busy and j.not_before <= now]
            if len(self._journeys) < self.concurrency:
                self._started += 1
                journey = Journey(self._started, f"{self._run}-{self._started}", withdraw=self._started % 2 == 0)
                self._journeys.append(journey)
                ready.append(journey)
            if not ready:
                return None
            journey = self.random.choice(ready)
            journey.busy = True
            return journey

    def command(self) -> bool:
        """Issue the next step of a ready journey; False when every journey waits (upstream facts in flight)."""
        journey = self._next()
        if journey is None:
            return False
        step = self.steps[journey.step]
        path, body, headers = step.run(journey)
        started = time.monotonic()
        try:
            response = self.client.post(path, json=body, headers=headers)
            status = response.status_code
        except Exception as error:  # a dropped connection: nothing known, try again
            status, response = 0, None
            failure = type(error).__name__
        elapsed = time.monotonic() - started
        with self._lock:
            journey.busy = False
            if 200 <= status < 300:
                payload = response.json() if response is not None else {}
                step.done(journey, payload)
                self.stats.commands[step.name] += 1
                self.stats.latencies.append(elapsed)
                self.stats.accepted.append(Accepted(step.service, str(payload["id"]), int(payload["version"]),
                                                    time.time()))
                self._advance(journey)
            elif status == 503:
                # Not known yet (a target, or an acceptance still in flight to delivery), or the store restarting.
                journey.attempts += 1
                if "store-unavailable" in _text(response):  # the database is restarting: stored or not, unknown
                    self.stats.failed[f"{step.name}: 503"] += 1
                    journey.ambiguous += 1
                else:
                    self.stats.not_yet_known += 1
                self.stats.examples.setdefault(f"{step.name}: {status}", _text(response))
                journey.not_before = time.monotonic() + 0.05
            elif status == 409 and "concurrent-change" in _text(response) and journey.attempts < 2000:
                # Another command saved the same aggregate first (two projects opened at once in one district's
                # programme): nothing of this request was stored, so it is sent again. (A retried insert that meets
                # its own unacknowledged commit is recognised by the event store and answered as done.)
                journey.attempts += 1
                self.stats.concurrent_changes += 1
                journey.not_before = time.monotonic() + 0.01
            elif status == 409 and journey.ambiguous > 0:
                # A resend after an ambiguous outcome (a 503 while the database restarted, a dropped connection)
                # finds its own first attempt already applied.
                self.stats.applied_before_retry[step.name] += 1
                self._advance(journey)
            elif status == 0 or status >= 500:
                self.stats.failed[f"{step.name}: {status or failure}"] += 1
                self.stats.examples.setdefault(f"{step.name}: {status or failure}", _text(response))
                journey.ambiguous += 1
                journey.not_before = time.monotonic() + 0.2
            else:  # refused (a journey's commands are valid, so this is worth a look): the journey ends here
                self.stats.refused[f"{step.name}: {status}"] += 1
                self.stats.examples.setdefault(f"{step.name}: {status}", _text(response))
                self._journeys.remove(journey)
                self._finished.append(journey)
        return True

    def _advance(self, journey: Journey) -> None:
        journey.step += 1
        journey.attempts = journey.ambiguous = 0
        last = len(self.steps) if journey.withdraw else len(self.steps) - 1
        if journey.step >= last:
            self._journeys.remove(journey)
            self._finished.append(journey)
            self.stats.journeys_done += 1

    def read(self) -> bool:
        """One read of something a journey made: a service's REST view or a GraphQL query."""
        with self._lock:
            pool = [j for j in self._finished[-50:] + self._journeys if j.ids]
            journey = self.random.choice(pool) if pool else None
        if journey is None:
            return False
        who = self.mint(self.random.choice([AUDITOR, SCRUTINY, OFFICER]))
        kind = self.random.random()
        try:
            if kind < 0.5:
                name = self.random.choice(sorted(journey.ids))
                path = {"objective": "/priorities/objectives/{}", "target": "/priorities/targets/{}",
                        "tasking": "/tasking/taskings/{}", "project": "/projects/projects/{}"}[name]
                response = self.client.get(path.format(journey.ids[name]), headers=who)
            else:
                aggregate = journey.ids.get("tasking") or journey.ids["objective"]
                query = ('query($id: ID!) { history(aggregateId: $id) { version type actor { role } } '
                         'objectivesConnection(first: 10) { edges { node { id title } } } }')
                response = self.client.post("/graphql", json={"query": query, "variables": {"id": aggregate}},
                                            headers=who)
            ok = response.status_code == 200
            failure = "" if ok else f"read: {response.status_code}"
            detail = "" if ok else _text(response)
        except Exception as error:
            ok, failure, detail = False, f"read: {type(error).__name__}", str(error)
        with self._lock:
            self.stats.reads += 1
            if not ok:
                self.stats.read_errors += 1
                self.stats.examples.setdefault(failure, detail)
        return True

    def in_flight(self) -> int:
        with self._lock:
            return len(self._journeys)


def _text(response: Any) -> str:
    return "" if response is None else str(getattr(response, "text", ""))[:500]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
