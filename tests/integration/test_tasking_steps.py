"""Steps of the worked example shared by the tasking tests (no tests here): a target from priorities, the tables,
PSTG's meeting."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shared.contracts import Actor, to_data
from shared.contracts.priorities import TargetSet
from shared.envelope import Envelope, encode
from tests.harness import SEATED_ON, Harness, RecordedMeeting, wait_until

PSTG_LEAD = {"role": "theme_group_lead", "org": "worcestershire-cc", "theme_group": "pstg"}
WORCESTER = {"role": "district_coordinator", "org": "worcester-city-council", "district": "worcester"}
OFFICER = {"role": "partnership_officer", "org": "worcestershire-cc"}


def headers(h: Harness, who: dict[str, str], **extra: str) -> dict[str, str]:
    claims = {k: v for k, v in who.items() if k not in {"role", "org"}}
    return {**h.headers(who["role"], who["org"], **claims), **extra}


def publish_target(h: Harness, value: int = 6000, deadline: date = date(2014, 3, 31)) -> uuid.UUID:
    """A TargetSet on priorities.events, exactly as the priorities service (or a partner system) publishes it."""
    target_id = uuid.uuid4()
    fact = TargetSet(actor=Actor("officer-1", "worcestershire-cc", "partnership_officer"), correlation_id="corr",
                     objective_id=uuid.uuid4(), metric="New private-sector jobs", unit="jobs",
                     baseline_value=Decimal(0), baseline_date=date(2011, 4, 1), target_value=Decimal(value),
                     deadline=deadline, data_source="ONS Business Register", owner_organisation="worcestershire-cc")
    type_name, data = to_data(fact)
    envelope = Envelope(id=f"{target_id}:1", source="/services/priorities", type=type_name, subject=str(target_id),
                        time=datetime.now(UTC), sequence=1, data=data, actor="officer-1",
                        actororganisation="worcestershire-cc", actorrole="partnership_officer", correlationid="corr")
    system = h.system
    publisher = system.transport.publisher()
    try:
        publisher.publish(system.settings.topic("priorities.events"), str(target_id), encode(envelope))
        publisher.flush()
    finally:
        publisher.close()
    return target_id


def wait_target_known(h: Harness, target_id: uuid.UUID) -> None:
    app = h.system.application("tasking")
    wait_until(lambda: app.known_target(target_id) is not None, what="tasking to know the target")


def seat(h: Harness, body: str, organisation: str, nominated_by: str | None = None) -> None:
    """Seat a partner (nothing if it sits there already: setting the target seated the PSTG's table)."""
    h.seat(body, organisation, joined_on=SEATED_ON, nominated_by=nominated_by)


def seat_the_tables(h: Harness) -> None:
    for org in ("worcestershire-cc", "chamber-of-commerce", "worcester-college"):
        seat(h, "pstg", org)
    for org in ("worcester-city-council", "worcester-college", "vcs-alliance"):
        seat(h, "worcester", org)
    seat(h, "worcester", "chamber-of-commerce", nominated_by="pstg")
    for org in ("wychavon-dc", "vcs-alliance", "west-mercia-police"):
        seat(h, "wychavon", org)


def meeting(h: Harness, body: str, held_on: date, present: list[str], who: dict[str, str] = OFFICER
            ) -> RecordedMeeting:
    return h.meeting(body, held_on, present, headers=headers(h, who))


def pstg_decision(meeting: RecordedMeeting, held_on: date, reason: str, reference: str | None = None
                  ) -> dict[str, Any]:
    assert meeting.held_on == held_on
    return meeting.decision(reason, reference)


PSTG_PRESENT = ["worcestershire-cc", "chamber-of-commerce", "worcester-college"]


def issue(h: Harness, target_id: uuid.UUID, decision: dict[str, Any], *, district: str = "worcester",
          share: int = 1200, lead_partner: str = "worcester-city-council", key: str | None = None) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return h.client.post("/tasking/taskings", json={
        "target_id": str(target_id), "district": district, "share": str(share), "deadline": "2013-03-31",
        "lead_partner": lead_partner, "commissioning_level": "district", "decision": decision,
    }, headers=headers(h, PSTG_LEAD, **extra))


def set_target_through_priorities(h: Harness) -> uuid.UUID:
    """The 6,000 jobs target, set through the priorities service's own REST API (it publishes TargetSet)."""
    officer = headers(h, OFFICER)
    scs = h.client.post("/priorities/objectives", json={
        "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision(),
    }, headers=officer)
    assert scs.status_code == 201, scs.text
    county = h.client.post("/priorities/objectives", json={
        "title": "Create jobs in the private sector", "level": "county_strategy",
        "strategy": "County Economic Strategy", "parent_id": scs.json()["id"], "decision": h.board_decision(),
    }, headers=officer)
    assert county.status_code == 201, county.text
    target = h.client.post("/priorities/targets", json={
        "objective_id": county.json()["id"], "metric": "new private-sector jobs", "unit": "jobs",
        "baseline_value": "0", "baseline_date": "2011-04-01", "target_value": "6000", "deadline": "2016-03-31",
        "data_source": "ONS Business Register and Employment Survey", "owner_organisation": "worcestershire-cc",
        "decision": h.decision("pstg", date(2011, 4, 12), "The Place Shaping Theme Group sets the county target",
                               known_to=("priorities",)),
    }, headers=officer)
    assert target.status_code == 201, target.text
    return uuid.UUID(target.json()["id"])


MAY = date(2011, 5, 10)
JUNE = date(2011, 6, 14)
WHY = "Wychavon's new business park can host 200 of the jobs sooner than the city"


def worked_example(h: Harness, target_id: uuid.UUID) -> dict[str, Any]:
    """PSTG tasks Worcester with 1,200 of the 6,000 jobs, Worcester accepts, PSTG moves 200 to Wychavon."""
    seat_the_tables(h)
    may = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT, PSTG_LEAD), MAY,
                        "Worcester's share of the county jobs target", "PSTG/2011/05/3")
    issued = issue(h, target_id, may, key="pstg-2011-05-worcester")
    assert issued.status_code == 201, issued.text
    worcester = issued.json()["id"]
    accepted = h.client.post(f"/tasking/taskings/{worcester}/accept", json={"expected_version": 1},
                             headers=headers(h, WORCESTER))
    assert accepted.status_code == 200, accepted.text
    june = pstg_decision(meeting(h, "pstg", JUNE, PSTG_PRESENT, PSTG_LEAD), JUNE, WHY, "PSTG/2011/06/7")
    moved = h.client.post(f"/tasking/taskings/{worcester}/transfer", json={
        "expected_version": 2, "district": "wychavon", "lead_partner": "wychavon-dc", "share": "200",
        "decision": june}, headers=headers(h, PSTG_LEAD, **{"Idempotency-Key": "pstg-2011-06-wychavon"}))
    assert moved.status_code == 201, moved.text
    return {"worcester": worcester, "wychavon": moved.json()["issued"]["id"]}


CHAIN_QUERY = """
query($id: ID!) {
  retaskingChain(taskingId: $id) {
    root taskings
    origin { district share }
    steps { summary before { district share } after { taskingId district share leadPartner }
            decision { body decidedOn reason reference meetingId } decidedBy { userId organisation role } }
  }
  taskings { id district share status leadPartner retaskedFrom decision { body decidedOn reason } }
}
"""

EXPECTED_SUMMARY = ("Worcester 1,200 -> Worcester 1,000 + Wychavon 200, decided by Place Shaping Theme Group "
                    f"on 2011-06-14 because {WHY} [PSTG/2011/06/7]")


def chain_shown(h: Harness, ids: dict[str, Any]) -> dict[str, Any] | None:
    """The GraphQL answer once both assignments of the retasking have reached the read models."""
    body = h.graphql(CHAIN_QUERY, {"id": ids["wychavon"]})
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    steps = data["retaskingChain"]["steps"]
    if len(steps) == 1 and len(steps[0]["after"]) == 2 and len(data["taskings"]) == 2:
        return data
    return None


def assert_both_assignments_shown(data: dict[str, Any], ids: dict[str, Any]) -> None:
    chain = data["retaskingChain"]
    assert chain["root"] == ids["worcester"]
    assert chain["origin"] == [{"district": "worcester", "share": "1200"}]
    step = chain["steps"][0]
    assert step["summary"] == EXPECTED_SUMMARY
    assert step["before"] == [{"district": "worcester", "share": "1200"}]
    assert sorted((a["district"], a["share"]) for a in step["after"]) == [("worcester", "1000"), ("wychavon", "200")]
    assert step["decision"]["body"] == "pstg" and step["decision"]["decidedOn"] == "2011-06-14"
    assert step["decision"]["reason"] == WHY and step["decision"]["reference"] == "PSTG/2011/06/7"
    decided_by = dict(step["decidedBy"])
    assert decided_by.pop("userId").startswith("person:")  # the people vault's pseudonym, never the subject
    assert decided_by == {"organisation": "worcestershire-cc", "role": "theme_group_lead"}
    by_district = {t["district"]: t for t in data["taskings"]}
    assert (by_district["worcester"]["share"], by_district["worcester"]["status"]) == ("1000", "accepted")
    assert (by_district["wychavon"]["share"], by_district["wychavon"]["status"]) == ("200", "issued")
    assert by_district["wychavon"]["retaskedFrom"] == ids["worcester"]
    assert by_district["wychavon"]["leadPartner"] == "wychavon-dc"
