"""The authorization matrix: one table of who may do what, checked cell by cell through the real APIs.

Each row is a command, the one role that may give it and the scope it must be given in (the caller's own district,
theme group or organisation, or none: county-wide). Every role (and a token with no role of ours) is tried in its own
scope and in another; a cell is allowed only for the row's role in its own scope; everything else must be 403
(default deny). Auditors and scrutiny members can change nothing. Allowed cells send a stale version where the
command takes one, so they prove the authorization passed (409) without changing the record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bench.workload import Workload
from tests.chaos.test_faults import mint_for
from tests.harness import Harness

ROLES = ["partnership_officer", "theme_group_lead", "district_coordinator", "programme_manager", "partner_officer",
         "auditor", "scrutiny_member", "no_role_of_ours"]
# The caller's claims in each kind of scope: its own (the record's) and another.
SCOPES: dict[str, dict[str, dict[str, str]]] = {
    "county": {"own": {"org": "worcestershire-cc"}, "other": {"org": "wychavon-dc"}},
    "district": {"own": {"org": "worcester-city-council", "district": "worcester"},
                 "other": {"org": "wychavon-dc", "district": "wychavon"}},
    "theme_group": {"own": {"org": "worcestershire-cc", "theme_group": "pstg"},
                    "other": {"org": "nhs-worcestershire", "theme_group": "health-theme-group"}},
    "organisation": {"own": {"org": "worcester-college"}, "other": {"org": "chamber-of-commerce"}},
}
DECISION = {"body": "pstg", "decided_on": "2011-05-10", "reason": "Matrix check"}
STALE = 999


@dataclass(frozen=True)
class Command:
    name: str
    role: str
    scope: str
    path: Callable[[dict[str, str]], str]
    body: Callable[[dict[str, str]], dict[str, Any]]
    other_scope: tuple[int, ...] = (403,)
    """How the right role acting outside its scope is refused."""


MATRIX = [
    Command("add objective", "partnership_officer", "county", lambda i: "/priorities/objectives",
            lambda i: {"title": "Matrix", "level": "scs", "strategy": "SCS", "decision": DECISION}),
    Command("reword objective", "partnership_officer", "county",
            lambda i: f"/priorities/objectives/{i['objective']}/reword",
            lambda i: {"title": "Matrix", "expected_version": STALE, "decision": DECISION}),
    Command("set target", "partnership_officer", "county", lambda i: "/priorities/targets",
            lambda i: {"objective_id": i["objective"], "metric": "jobs", "unit": "jobs", "baseline_value": "0",
                       "baseline_date": "2011-04-01", "target_value": "10", "deadline": "2016-03-31",
                       "data_source": "ONS", "owner_organisation": "worcestershire-cc", "decision": DECISION}),
    Command("propose district priority", "district_coordinator", "district",
            lambda i: "/priorities/districts/worcester/priorities",
            lambda i: {"title": "Matrix", "rationale": "Because", "objective_id": i["objective"]}),
    Command("seat a partner", "partnership_officer", "county", lambda i: "/tasking/memberships",
            lambda i: {"body": "wychavon", "organisation": "west-mercia-police"}),
    Command("accept tasking", "district_coordinator", "district",
            lambda i: f"/tasking/taskings/{i['tasking']}/accept", lambda i: {"expected_version": STALE}),
    Command("withdraw tasking", "theme_group_lead", "theme_group",
            lambda i: f"/tasking/taskings/{i['tasking']}/withdraw",
            lambda i: {"expected_version": STALE, "reason": "Matrix", "decision": {**DECISION,
                                                                                 "meeting_id": i["meeting"]}}),
    Command("open project", "programme_manager", "district", lambda i: "/projects/projects",
            lambda i: {"title": "Matrix", "lead_partner": "worcester-college", "project_manager": "pm",
                       "tasking_ids": [i["tasking"]],
                       "outcomes": [{"id": "jobs", "tasking_id": i["tasking"], "metric": "jobs", "unit": "jobs",
                                     "baseline_value": "0", "baseline_date": "2012-04-01", "target_value": "5",
                                     "target_date": "2014-03-31"}]},
            other_scope=(403, 422)),  # the projects service refuses another district's tasking as invalid input
    Command("report progress", "partner_officer", "organisation",
            lambda i: f"/projects/projects/{i['project']}/progress",
            lambda i: {"reported_on": "2013-05-01", "values": {"jobs": "1"}, "narrative": "Matrix",
                       "expected_version": STALE}),
    Command("intervene", "programme_manager", "district",
            lambda i: f"/projects/projects/{i['project']}/interventions",
            lambda i: {"kind": "extra_resources", "description": "Matrix", "expected_version": STALE,
                       "decision": {**DECISION, "body": "worcester-alliance", "reference": "WA-1"}}),
    Command("close project", "programme_manager", "district",
            lambda i: f"/projects/projects/{i['project']}/closure",
            lambda i: {"outcome_achieved": "x", "lessons": "y", "expected_version": STALE,
                       "decision": {**DECISION, "body": "worcester-alliance", "reference": "WA-2"}}),
]


@pytest.fixture(scope="module")
def ids(harness: Harness) -> dict[str, str]:
    """One journey through every service up to a progress report: an objective, target, accepted tasking, project."""
    workload = Workload(harness.client, mint_for(harness), concurrency=1)
    workload.prepare()
    while not workload.stats.commands["report progress"]:
        if not workload.command():
            pass
        assert not workload.stats.refused, workload.stats.examples
    journey = workload._finished[-1] if workload._finished else workload._journeys[0]
    return {**journey.ids, "meeting": workload.setup["meeting"]}


def _cells() -> list[tuple[Command, str, str]]:
    return [(command, role, scope) for command in MATRIX for role in ROLES for scope in ("own", "other")]


def test_every_cell_of_the_authorization_matrix(harness: Harness, ids: dict[str, str],
                                                say: Callable[[str], None]) -> None:
    h = harness
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    for command, role, scope in _cells():
        claims = dict(SCOPES[command.scope][scope])
        org = claims.pop("org")
        token = h.system.tokens.mint(f"matrix-{role}", org, [role], district=claims.get("district"),
                                     theme_group=claims.get("theme_group"))
        response = h.client.post(command.path(ids), json=command.body(ids),
                                 headers={"authorization": f"Bearer {token}"})
        allowed = role == command.role and (scope == "own" or command.scope == "county")
        refusals = command.other_scope if role == command.role else (403,)
        denied = response.status_code in refusals
        outcomes["allowed" if not denied else "denied"] += 1
        if allowed == denied or response.status_code >= 500:
            wrong.append(f"{command.name} as {role} ({scope} {command.scope}): {response.status_code} "
                         f"{response.text[:200]}")
        if denied:
            assert response.headers["content-type"] == "application/problem+json"
            outcomes[f"denied {response.status_code}"] += 1
    say(f"authorization matrix: {len(MATRIX)} commands x {len(ROLES)} roles x own/other = {len(_cells())} cells, "
        f"{outcomes['allowed']} allowed, {outcomes['denied']} denied "
        f"({', '.join(f'{k[7:]}: {n}' for k, n in sorted(outcomes.items()) if k.startswith('denied '))})")
    assert not wrong, "\n".join(wrong)


def test_readers_can_read_but_change_nothing(harness: Harness, ids: dict[str, str]) -> None:
    h = harness
    for role in ("auditor", "scrutiny_member"):
        headers = h.headers(role)
        assert h.client.get(f"/priorities/objectives/{ids['objective']}", headers=headers).status_code == 200
        assert h.client.get(f"/projects/projects/{ids['project']}", headers=headers).status_code == 200
        mutation = h.client.post("/graphql", headers=headers, json={
            "query": 'mutation { addObjective(title: "x", level: "scs", strategy: "SCS") { id } }'})
        body = mutation.json()
        assert body.get("errors"), body
