"""The partnership's rules as history over the real parts (#23): the board raises the Place Shaping Theme Group's
quorum from three to four by a decision of 1 June 2011, through tasking's API; a later PSTG decision at a meeting
of three is refused (422), an earlier one at a meeting of the same size still counts; and reporting, from its copy
of tasking's events over Kafka, shows the quorum in force on each day and the earlier decision as resolving."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import MAY, OFFICER, PSTG_PRESENT, headers, meeting, seat

BOARD = "worcestershire-partnership"
BOARD_PRESENT = ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire", "chamber-of-commerce"]

QUORUMS = """query($on: Date) { themeGroups(inForceOn: $on) { bodyId quorum } }"""
DECISIONS = """{ decisions(body: "pstg") { decidedOn reason } }"""
RULE_CHANGES = """{ changesInForce(from: "2011-05-31", to: "2011-06-30") {
  edges { node { entity kind fields steps { inForceFrom decision { reference } } } } } }"""


def _pstg_quorum(h: Harness, on: str) -> int:
    body = h.graphql(QUORUMS, {"on": on})
    assert "errors" not in body, body
    return int(next(g["quorum"] for g in body["data"]["themeGroups"] if g["bodyId"] == "pstg"))


def _join(h: Harness, organisation: str, decision: dict[str, Any]) -> Any:
    return h.client.post("/tasking/memberships", json={"body": "pstg", "organisation": organisation,
                                                        "joined_on": "2011-07-20", "decision": decision},
                         headers=headers(h, OFFICER))


def _run(h: Harness) -> None:
    for organisation in PSTG_PRESENT:
        seat(h, "pstg", organisation)
    for organisation in BOARD_PRESENT:
        seat(h, BOARD, organisation)
    may = meeting(h, "pstg", MAY, PSTG_PRESENT).decision("West Mercia Police joins the PSTG")
    board = meeting(h, BOARD, date(2011, 6, 1), BOARD_PRESENT).decision("Theme groups decide with four", "PB/11/6")
    founded = h.client.get("/tasking/partnership", headers=headers(h, OFFICER))
    assert founded.status_code == 200 and founded.json()["quorums"]["pstg"] == 3, founded.text
    raised = h.client.post("/tasking/partnership/quorums", json={"body": "pstg", "quorum": 4, "decision": board,
                                                                 "expected_version": 1},
                           headers=headers(h, OFFICER))
    assert raised.status_code == 200, raised.text
    assert raised.json()["changes"] == [{"change": "quorum", "body": "pstg", "quorum": 4,
                                         "decided_on": "2011-06-01"}]

    june = meeting(h, "pstg", date(2011, 6, 14), PSTG_PRESENT).decision("Herefordshire fire joins the PSTG")
    refused = _join(h, "hw-fire", june)
    assert refused.status_code == 422, refused.text
    assert "4 needed" in refused.text
    kept = _join(h, "west-mercia-police", may)
    assert kept.status_code == 201, kept.text

    # A later board decision lowers it to two from 1 July 2011: a meeting of two then decides, and the audit,
    # judging every stored decision by the rules in force on its date, finds each one resolving.
    lowered = meeting(h, BOARD, date(2011, 7, 1), BOARD_PRESENT).decision("Two will do over the summer", "PB/11/7")
    changed = h.client.post("/tasking/partnership/quorums", json={"body": "pstg", "quorum": 2, "decision": lowered},
                            headers=headers(h, OFFICER))
    assert changed.status_code == 200, changed.text
    july = meeting(h, "pstg", date(2011, 7, 12), PSTG_PRESENT[:2]).decision("Herefordshire fire joins the PSTG")
    assert _join(h, "hw-fire", july).status_code == 201
    auditor = h.system.auditor()
    try:
        assert auditor.unresolved_decisions() == []
    finally:
        auditor.close()

    # Reporting's copy of the rules, over Kafka: three in force before 1 June 2011, four from then.
    wait_until(lambda: _pstg_quorum(h, "2011-06-01") == 4, timeout=60, what="the raised quorum in reporting")
    assert _pstg_quorum(h, "2011-05-31") == 3
    # The earlier decision is on record; the refused one never reached it.
    wait_until(lambda: [d["decidedOn"] for d in h.graphql(DECISIONS)["data"]["decisions"]]
               == ["2011-05-10", "2011-07-12"], timeout=60, what="the May and July decisions in reporting")
    assert _pstg_quorum(h, "2011-07-01") == 2
    # The raising itself is a change a committee sees, in force from the board's decision (entered today).
    listed = h.graphql(RULE_CHANGES)["data"]["changesInForce"]["edges"]
    [rules] = [e["node"] for e in listed if e["node"]["entity"] == "partnership rules"]
    assert rules["kind"] == "CHANGED" and rules["fields"] == ["bodies"]
    assert [(s["inForceFrom"], s["decision"]["reference"]) for s in rules["steps"]] == [("2011-06-01", "PB/11/6")]


@pytest.mark.integration
def test_a_raised_quorum_refuses_a_later_small_meeting_and_keeps_an_earlier_one_over_kafka_and_postgres(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)) as h:
        _run(h)
