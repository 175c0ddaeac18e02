"""A change of the partnership's rules is a change a committee sees (#23): the board's decision raising the PSTG's
quorum from three to four, dated 1 June 2011 and entered in 2024, is a row of ``changesInForce`` over June 2011
(before 3, after 4, with the day entered), of ``changes`` over the moment it was entered, and of the decision log;
the rules as founded are in force from the partnership's founding, not from the day they were loaded."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from bench.reporting_history import START, History
from services.reporting.graphql import schema
from services.reporting.projections import ReportingProjection
from services.reporting.readmodel import ReportingReadModel
from services.tasking.partnership import founding_of
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision
from shared.contracts.tasking import PartnershipFounded, PriorityLimitChanged, QuorumChanged
from shared.envelope import decode
from shared.partnership import load

OFFICER = Actor("officer-1", "worcestershire-cc", "partnership_officer")
SYSTEM = Actor("system:partnership-definition", "system", "system")
AUDITOR = Principal(user_id="auditor-1", organisation="worcestershire-cc", grants=frozenset({Grant(Role.AUDITOR)}))
PARTNERSHIP = uuid.uuid5(uuid.NAMESPACE_URL, "partnership")
BOARD = Decision(body="worcestershire-partnership", decided_on=date(2011, 6, 1), reason="Theme groups decide with four",
                 meeting_id=str(uuid.uuid4()), meeting_version=1, reference="PB/11/6")

LISTED = """query($from: Date!, $to: Date, $since: DateTime!, $until: DateTime) {
  changesInForce(from: $from, to: $to) { edges { node { entity label kind fields before after
      steps { type inForceFrom enteredOn decision { decidedOn reference } } } } }
  changes(from: $since, to: $until) { edges { node { entity kind fields } } }
  decisionLog(body: "worcestershire-partnership") { nodes { type decision { decidedOn reason } } } }"""


def _apply(model: ReportingReadModel, history: History) -> None:
    projection = ReportingProjection()
    with model.store.transaction() as tx:
        for topic in history.events.values():
            for _, value in topic:
                projection.apply(tx, decode(value))


def _listed(model: ReportingReadModel, start: str, end: str) -> dict[str, Any]:
    result = schema.execute_sync(LISTED, {"from": start, "to": end, "since": START.isoformat(),
                                          "until": (START + timedelta(hours=1)).isoformat()},
                                 context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def test_a_quorum_change_is_listed_in_the_changes_in_force_and_the_decision_log(model: ReportingReadModel) -> None:
    history = History()
    history.add("tasking", PARTNERSHIP, 1, PartnershipFounded(actor=SYSTEM, correlation_id="f",
                                                              **founding_of(load())))
    history.add("tasking", PARTNERSHIP, 2, QuorumChanged(actor=OFFICER, correlation_id="c", decision=BOARD,
                                                         body="pstg", quorum=4, previous_quorum=3))
    _apply(model, history)

    june = _listed(model, "2011-05-31", "2011-06-30")  # the days after the 31st, to the 30th
    [rules] = [e["node"] for e in june["changesInForce"]["edges"] if e["node"]["entity"] == "partnership rules"]
    assert rules["kind"] == "CHANGED" and rules["fields"] == ["bodies"]
    assert json.loads(rules["before"]["bodies"])["pstg"]["quorum"] == 3
    assert json.loads(rules["after"]["bodies"])["pstg"]["quorum"] == 4
    assert [(s["type"], s["inForceFrom"], s["enteredOn"], s["decision"]["reference"]) for s in rules["steps"]] == [
        ("tasking.QuorumChanged.v1", "2011-06-01", START.date().isoformat(), "PB/11/6")]
    assert [n["decision"]["reason"] for n in june["decisionLog"]["nodes"]] == ["Theme groups decide with four"]
    # The founding is in force from the partnership's founding day (2008), not from the day it was loaded.
    founded = _listed(model, "2008-03-31", "2008-04-01")
    assert [e["node"]["kind"] for e in founded["changesInForce"]["edges"]
            if e["node"]["entity"] == "partnership rules"] == ["ADDED"]
    assert not [e for e in _listed(model, "2011-05-01", "2011-05-31")["changesInForce"]["edges"]
                if e["node"]["entity"] == "partnership rules"]
    # On the recorded axis: founded at the first moment of 2024, changed a minute later (the hour after it).
    assert [(n["node"]["kind"], n["node"]["fields"]) for n in june["changes"]["edges"]
            if n["node"]["entity"] == "partnership rules"] == [("CHANGED", ["bodies"])]


def test_a_lowered_priority_limit_is_listed_with_its_values_before_and_after(model: ReportingReadModel) -> None:
    history = History()
    history.add("tasking", PARTNERSHIP, 1, PartnershipFounded(actor=SYSTEM, correlation_id="f",
                                                              **founding_of(load())))
    history.add("tasking", PARTNERSHIP, 2, PriorityLimitChanged(
        actor=OFFICER, correlation_id="c", decision=BOARD, max_agreed_priorities_per_district=3,
        previous_max_agreed_priorities_per_district=5))
    _apply(model, history)
    [rules] = [e["node"] for e in _listed(model, "2011-05-31", "2011-06-01")["changesInForce"]["edges"]
               if e["node"]["entity"] == "partnership rules"]
    assert rules["fields"] == ["max_agreed_priorities_per_district"]
    assert (rules["before"]["max_agreed_priorities_per_district"],
            rules["after"]["max_agreed_priorities_per_district"]) == (5, 3)
