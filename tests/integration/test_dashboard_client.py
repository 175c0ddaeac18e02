"""The typed dashboard client (examples/dashboard_client) against a real running gateway, judged by outside tools
from npm: GraphQL Code Generator's types of its operations are those of the committed SDL, and Apollo Client in node
runs the roll-up and the paged taskings list with its normalised InMemoryCache and relayStylePagination (no cache
warnings, the pages joined in order, as the gateway lists them) and receives the live update of a progress report
committed while it is subscribed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from services.reporting.subscriptions import broadcaster_for
from tests.harness import running_system, serving, settings_for, wait_until
from tests.integration.test_projects_delivery import COLLEGE, report
from tools.judges import ROOT, node_command, npm_bin

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "dashboard_client"


def test_the_generated_types_are_those_of_the_committed_sdl(tmp_path: Path) -> None:
    config = yaml.safe_load((EXAMPLE / "codegen.yml").read_text())
    (committed_path, output), = config["generates"].items()
    config["generates"] = {str(tmp_path / "graphql.ts"): output}
    (tmp_path / "codegen.yml").write_text(yaml.safe_dump(config))
    ran = subprocess.run([npm_bin("graphql-codegen"), "--config", str(tmp_path / "codegen.yml")], cwd=ROOT,
                         capture_output=True, text=True, timeout=180, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    generated = (tmp_path / "graphql.ts").read_text()
    assert generated == (ROOT / committed_path).read_text(), "regenerate: graphql-codegen --config " \
                                                             "examples/dashboard_client/codegen.yml"
    assert "export type DashboardRollupQuery = " in generated and "DashboardUpdatesSubscription" in generated


def test_apollo_client_runs_the_dashboard_against_a_running_gateway(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h, serving(h.system.asgi()) as url:
        assert h.system.load_demo_data(timeout=120)
        model = h.system.read_model
        assert model is not None
        target = str(h.system.demo_ids["jobs_target"])
        academy = str(h.system.demo_ids["academy_project"])
        token = h.token("partnership_officer")
        before = broadcaster_for(model).subscribers
        dashboard = subprocess.Popen(
            node_command(EXAMPLE / "dashboard.mjs", "--url", url, "--token", token, "--target", target,
                         "--page-size", "1", "--subscribe", "PROGRESS_REPORTED", "--timeout", "60"),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: broadcaster_for(model).subscribers > before or dashboard.poll() is not None, 120,
                       "the dashboard to subscribe")
            assert dashboard.poll() is None, dashboard.communicate()
            assert report(h, academy, COLLEGE, "2013-10-01", 300).status_code == 200
            out, err = dashboard.communicate(timeout=90)
        finally:
            if dashboard.poll() is None:
                dashboard.kill()
        assert dashboard.returncode == 0, out + err
        answer = json.loads(out)

        assert answer["warnings"] == [], answer["warnings"]
        # The roll-up as Apollo returns it is the gateway's answer (the report may have landed after it was read).
        expected = h.graphql((EXAMPLE / "operations" / "rollup.graphql").read_text(), {"target": target},
                             role="partnership_officer")["data"]["deliveryRollup"]
        assert answer["rollup"]["targetId"] == target
        assert answer["rollup"]["targetValue"] == expected["targetValue"]
        assert [s["taskingId"] for s in answer["rollup"]["shares"]] == [s["taskingId"] for s in expected["shares"]]

        # The pages, joined by relayStylePagination, are the whole list in the gateway's order, each tasking once.
        whole = h.graphql("{ taskingsConnection(first: 100) { totalCount edges { cursor node { id } } } }",
                          role="partnership_officer")["data"]["taskingsConnection"]
        ids = [edge["node"]["id"] for edge in whole["edges"]]
        assert len(answer["pages"]) >= 2 and all(len(page) == 1 for page in answer["pages"])
        assert [i for page in answer["pages"] for i in page] == ids
        assert [t["id"] for t in answer["taskings"]] == ids
        assert [t["cursor"] for t in answer["taskings"]] == [edge["cursor"] for edge in whole["edges"]]
        assert answer["totalCount"] == whole["totalCount"] == len(ids)
        assert answer["pageInfo"]["hasNextPage"] is False
        assert answer["normalised"] == len(ids)  # one cache entry per tasking (Tasking:<id>)

        assert answer["update"]["kind"] == "PROGRESS_REPORTED" and answer["update"]["subjectId"] == academy


def test_one_apollo_cache_holds_the_same_tasking_at_two_in_force_dates(tmp_path: Path) -> None:
    """The demo's Worcester tasking: 1,200 jobs in force from 10 May 2011; on 14 June 2011 PSTG moved 200 to
    Wychavon. One cache, both days fetched, then each read back: 1,200; and 1,000 + 200."""
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking", "reporting")) as h, \
            serving(h.system.asgi()) as url:
        assert h.system.load_demo_data(timeout=120)
        target = str(h.system.demo_ids["jobs_target"])
        worcester = str(h.system.demo_ids["worcester_tasking"])
        token = h.token("partnership_officer")
        ran = subprocess.run(node_command(EXAMPLE / "two_dates.mjs", "--url", url, "--token", token, "--target",
                                          target, "--on", "2011-06-01", "--on", "2011-07-01"),
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        answer = json.loads(ran.stdout)
        assert answer["warnings"] == [], answer["warnings"]
        june, july = ([(t["taskingId"], t["district"], t["share"]) for t in day] for day in answer["answers"])
        assert june == [(worcester, "worcester", "1200")]
        assert sorted(july) == sorted([(worcester, "worcester", "1000"),
                                       (str(h.system.demo_ids["wychavon_tasking"]), "wychavon", "200")])
        # The same tasking is two objects in the cache, one per day: ids that name the moment.
        june_id = answer["answers"][0][0]["id"]
        july_id = next(t["id"] for t in answer["answers"][1] if t["taskingId"] == worcester)
        assert june_id != july_id and worcester not in (june_id, july_id)
        assert {f"Tasking:{june_id}", f"Tasking:{july_id}"} <= set(answer["cached"])

        # node(id:) and tasking(id:) answer the slice an id names; read now, a tasking's id is its own.
        refetched = h.graphql("query($ids: [ID!]!, $id: ID!) { nodes(ids: $ids) { id ... on Tasking { share } } "
                              "tasking(id: $id) { id share } node(id: \"" + worcester + "\") { id "
                              "... on Tasking { share } } }", {"ids": [june_id, july_id], "id": june_id},
                              role="partnership_officer")
        assert not refetched.get("errors"), refetched
        data = refetched["data"]
        assert [(n["id"], n["share"]) for n in data["nodes"]] == [(june_id, "1200"), (july_id, "1000")]
        assert data["tasking"] == {"id": june_id, "share": "1200"}
        assert data["node"] == {"id": worcester, "share": "1000"}
        # A target too: read on a day, its id names the day, and node(id:) answers as of it.
        targets = h.graphql('{ targets(inForceOn: "2011-06-01") { id targetId } target(id: "' + target + '") { id } }',
                            role="partnership_officer")["data"]
        scoped = next(t["id"] for t in targets["targets"] if t["targetId"] == target)
        assert scoped != target and targets["target"] == {"id": target}
        by_node = h.graphql('query($id: ID!) { node(id: $id) { __typename id ... on Target { targetId } } }',
                            {"id": scoped}, role="partnership_officer")["data"]["node"]
        assert by_node == {"__typename": "Target", "id": scoped, "targetId": target}
        # And an objective: read on a day, its id names the day, its targets are that day's, and node(id:) answers
        # the same slice; read now, its id is its own.
        june_tree = h.graphql('{ objectives(inForceOn: "2011-06-01") { id objectiveId title targets { id } } }',
                              role="partnership_officer")["data"]["objectives"]
        held = next(o for o in june_tree if o["targets"])
        assert held["id"] != held["objectiveId"]
        now = h.graphql('query($id: ID!) { objective(id: $id) { id objectiveId } }', {"id": held["objectiveId"]},
                        role="partnership_officer")["data"]["objective"]
        assert now == {"id": held["objectiveId"], "objectiveId": held["objectiveId"]}
        again = h.graphql('query($id: ID!) { node(id: $id) { __typename id ... on Objective { objectiveId title '
                          'targets { id } } } }', {"id": held["id"]}, role="partnership_officer")["data"]["node"]
        assert again == {"__typename": "Objective", **held}
        # An id this API did not give out is bad input; a partner client not granted a tasking query reads no
        # tasking: answered as an id of nothing.
        bad = h.graphql('{ node(id: "m_not-an-id") { id } }', role="partnership_officer")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        partner = h.system.tokens.mint("client:college-mis", "worcester-college", ["partner_officer"],
                                       client_id="college-mis", queries=["node", "deliveryProjects"])
        refused = h.client.post("/graphql", json={"query": "query($id: ID!) { node(id: $id) { id } }",
                                                  "variables": {"id": june_id}},
                                headers={"authorization": f"Bearer {partner}"}).json()
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND" and refused["data"] == {"node": None}
