"""The GraphQL gateway in the embedded mode: cursor connections, filters, one query per level (dataloaders), depth
and cost limits, errors with codes, and mutations forwarded to the owning service with the caller's token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until

PSTG_REASON = "Set by the Place Shaping Theme Group"


def pstg(h: Harness, reason: str = PSTG_REASON) -> dict[str, Any]:
    """The PSTG's decision at a quorate meeting recorded in tasking (once priorities heard of it)."""
    return h.decision("pstg", date(2011, 4, 12), reason)
JOBS_TARGET = {"metric": "new private-sector jobs", "unit": "jobs", "baseline_value": 0,
               "baseline_date": "2011-04-01", "target_value": 6000, "deadline": "2016-03-31",
               "data_source": "ONS Business Register and Employment Survey", "owner_organisation": "worcestershire-cc"}

ADD = """mutation($input: JSON!, $key: String) {
  addObjective(input: $input, idempotencyKey: $key) { service status id version }
}"""


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking", "reporting")) as harness:
        yield harness


def gql(h: Harness, query: str, variables: dict[str, Any] | None = None, role: str = "partnership_officer",
        **claims: Any) -> dict[str, Any]:
    response = h.client.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers=h.headers(role, **claims))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


def _tree(h: Harness, scs_count: int = 2, children: int = 3) -> list[str]:
    """SCS objectives, each with county-strategy children carrying one target each, added through GraphQL."""
    leaves = []
    for i in range(scs_count):
        scs = gql(h, ADD, {"input": {"title": f"SCS objective {i}", "level": "scs",
                                     "strategy": "Sustainable Community Strategy", "decision": h.board_decision()}})
        assert not scs.get("errors"), scs
        parent = scs["data"]["addObjective"]["id"]
        for j in range(children):
            child = gql(h, ADD, {"input": {"title": f"County objective {i}.{j}", "level": "county_strategy",
                                           "strategy": "County Economic Strategy", "parent_id": parent,
                                           "decision": pstg(h)}})
            leaf = child["data"]["addObjective"]["id"]
            leaves.append(leaf)
            target = gql(h, "mutation($i: JSON!) { setTarget(input: $i) { id } }",
                         {"i": {**JOBS_TARGET, "objective_id": leaf, "decision": pstg(h)}})
            assert not target.get("errors"), target
    total = scs_count * (children + 1)
    wait_until(lambda: len(gql(h, "{ objectives { id } }")["data"]["objectives"]) == total, what="objectives")
    wait_until(lambda: len(gql(h, "{ targets { id } }")["data"]["targets"]) == scs_count * children,
               what="targets")
    return leaves


def test_a_mutation_is_forwarded_with_the_callers_token_and_returns_the_services_answer(h: Harness) -> None:
    adopted = h.board_decision()
    body = gql(h, ADD, {"input": {"title": "A skilled and prosperous economy", "level": "scs",
                                  "strategy": "Sustainable Community Strategy", "decision": adopted}, "key": "k-1"})
    result = body["data"]["addObjective"]
    assert result["service"] == "priorities" and result["status"] == 201 and result["version"] == 1
    again = gql(h, ADD, {"input": {"title": "A skilled and prosperous economy", "level": "scs",
                                   "strategy": "Sustainable Community Strategy", "decision": adopted}, "key": "k-1"})
    assert again["data"]["addObjective"]["id"] == result["id"]  # the idempotency key travelled too
    history = wait_until(lambda: h.graphql(
        'query($id: ID!) { history(aggregateId: $id) { version actor { userId role } } }',
        {"id": result["id"]})["data"]["history"], what="the event in history")
    assert history[0]["actor"] == {"userId": h.pseudonym("user-partnership_officer"), "role": "partnership_officer"}


def test_a_refused_mutation_is_a_graphql_error_carrying_the_services_problem(h: Harness) -> None:
    refused = gql(h, ADD, {"input": {"title": "Safer communities", "level": "scs", "strategy": "SCS"}},
                  role="scrutiny_member")
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["extensions"]["status"] == 403
    invalid = gql(h, "mutation($i: JSON!) { setTarget(input: $i) { id } }",
                  {"i": {**JOBS_TARGET, "objective_id": "not-a-uuid", "unit": "widgets"}})
    assert codes(invalid) == ["VALIDATION_FAILED"]
    assert invalid["errors"][0]["extensions"]["problem"]["errors"]
    leaf = _tree(h, 1, 1)[0]
    target_id = gql(h, "query($o: ID) { targets(objectiveId: $o) { id } }", {"o": leaf})["data"]["targets"][0]["id"]
    stale = gql(h, "mutation($id: ID!, $i: JSON!) { retireTarget(id: $id, input: $i, expectedVersion: 7) { id } }",
                {"id": target_id, "i": {"decision": pstg(h, "Replaced by a sector target")}})
    assert codes(stale) == ["STALE_VERSION"], stale


def test_lists_page_with_cursors_in_a_stable_order(h: Harness) -> None:
    _tree(h, 2, 3)
    query = """query($after: String) { objectivesConnection(first: 3, after: $after, level: "county_strategy") {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { title } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = gql(h, query, {"after": after})["data"]["objectivesConnection"]
        assert page["totalCount"] == 6
        seen += [edge["node"]["title"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 2 and len(seen) == 6 and len(set(seen)) == 6
    # Backward (last/before) meets the same objectives in the same order, a page at a time from the end.
    backward = """query($before: String) { objectivesConnection(last: 4, before: $before, level: "county_strategy") {
      pageInfo { hasPreviousPage hasNextPage startCursor } edges { node { title } } } }"""
    behind: list[str] = []
    before = None
    while True:
        page = gql(h, backward, {"before": before})["data"]["objectivesConnection"]
        behind = [edge["node"]["title"] for edge in page["edges"]] + behind
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert behind == seen
    bad = gql(h, '{ objectivesConnection(after: "nonsense!") { totalCount } }')
    assert codes(bad) == ["BAD_USER_INPUT"]
    for wrong in ('before: "nonsense!"', "first: 2, last: 2", "last: -1"):
        refused = gql(h, "{ objectivesConnection(" + wrong + ") { totalCount } }")
        assert codes(refused) == ["BAD_USER_INPUT"] and refused["data"] is None, (wrong, refused)
    too_many = gql(h, "{ targetsConnection(first: 100000) { totalCount } }")
    assert codes(too_many) == ["BAD_USER_INPUT"]


def test_nested_fields_cost_one_query_per_level_not_one_per_parent(h: Harness) -> None:
    _tree(h, 2, 3)
    store = h.system.read_model.store  # type: ignore[union-attr]
    counted: list[str] = []
    original = store.query

    def counting(statement: str, params: Any = ()) -> list[dict[str, Any]]:
        counted.append(statement)
        return original(statement, params)

    store.query = counting  # type: ignore[method-assign]
    try:
        tree = gql(h, "{ objectiveTree { title children { title targets { metric } children { title } } } }")
    finally:
        store.query = original  # type: ignore[method-assign]
    assert not tree.get("errors"), tree
    assert len(tree["data"]["objectiveTree"]) == 2
    assert all(len(o["children"]) == 3 for o in tree["data"]["objectiveTree"])
    # roots, their children, the children's targets, the grandchildren: 4 queries for 2 + 6 objectives
    assert len(counted) == 4, counted


def test_abusive_queries_are_refused_before_they_run_with_a_code(h: Harness) -> None:
    deep = "{ objectiveTree { " + "children { " * 10 + "title" + " }" * 10 + " } }"
    assert codes(gql(h, deep)) == ["QUERY_TOO_DEEP"]
    costly = "{ objectiveTree { children { children { children { children { title } } } } } }"
    refused = gql(h, costly)
    assert codes(refused) == ["QUERY_TOO_COSTLY"] and refused["data"] is None
    assert "at most" in refused["errors"][0]["message"]
    fine = gql(h, "{ objectiveTree { children { targets { metric } children { title } } } }")
    assert not fine.get("errors")


def test_bad_input_and_missing_tokens_are_errors_with_codes(h: Harness) -> None:
    assert codes(gql(h, '{ objectives(asOf: "last tuesday") { title } }')) == ["BAD_USER_INPUT"]
    assert codes(gql(h, "query($t: DateTime) { objectives(asOf: $t) { title } }", {"t": "soon"})) == [
        "BAD_USER_INPUT"]
    assert codes(gql(h, "{ objectives { nonsense } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(gql(h, "{ objectives { title }")) == ["GRAPHQL_PARSE_FAILED"]
    anonymous = h.client.post("/graphql", json={"query": "{ objectives { title } }"}).json()
    assert codes(anonymous) == ["UNAUTHENTICATED"]


def test_the_partnership_and_the_decision_log_are_queryable(h: Harness) -> None:
    _tree(h, 1, 2)
    partnership = gql(h, "{ partnership { name districts { districtId } themeGroups { bodyId } } districts { name } }"
                      )["data"]
    assert partnership["partnership"]["name"] == "Worcestershire Partnership"
    assert {"bodyId": "pstg"} in partnership["partnership"]["themeGroups"]
    assert len(partnership["districts"]) == 6
    log = gql(h, '{ decisionLog(body: "pstg", kind: "TargetSet") { totalCount edges { node { service '
                 'decision { body reason } recordedBy { role } } } } }')["data"]["decisionLog"]
    assert log["totalCount"] == 2
    assert log["edges"][0]["node"]["decision"]["body"] == "pstg"
    empty = gql(h, '{ decisionLog(body: "pstg", decidedFrom: "2012-01-01") { totalCount } }')
    assert empty["data"]["decisionLog"]["totalCount"] == 0
    backwards = gql(h, '{ decisionLog(decidedFrom: "2012-01-01", decidedTo: "2011-01-01") { totalCount } }')
    assert codes(backwards) == ["BAD_USER_INPUT"]


def test_a_page_opens_the_sealed_text_of_its_own_rows_only(h: Harness) -> None:
    _tree(h, 2, 3)
    store = h.system.read_model.store  # type: ignore[union-attr]
    opener = store.opener
    assert opener is not None
    opened: list[str] = []

    def counting(text: str) -> str:
        if "sealed:v1:" in text:
            opened.append(text)
        return opener(text)

    store.opener = counting
    try:
        page = gql(h, """{ objectivesConnection(first: 2, level: "county_strategy") {
          totalCount edges { node { title decision { reason } } } }
          targetsConnection(first: 1) { totalCount edges { node { metric decision { reason } } } } }""")["data"]
    finally:
        store.opener = opener
    objectives, targets = page["objectivesConnection"], page["targetsConnection"]
    assert objectives["totalCount"] == 6 and targets["totalCount"] == 6
    assert [edge["node"]["decision"]["reason"] for edge in objectives["edges"]] == [PSTG_REASON] * 2
    assert [edge["node"]["decision"]["reason"] for edge in targets["edges"]] == [PSTG_REASON]
    # Three rows shown, each with one sealed text (its decision's reason): the other nine stay sealed.
    assert len(opened) == 3, opened
