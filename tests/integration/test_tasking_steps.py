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
from tests.harness import Harness, wait_until

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
    response = h.client.post("/tasking/memberships", json={"body": body, "organisation": organisation,
                                                           "nominated_by": nominated_by},
                             headers=headers(h, OFFICER))
    assert response.status_code == 201, response.text


def seat_the_tables(h: Harness) -> None:
    for org in ("worcestershire-cc", "chamber-of-commerce", "worcester-college"):
        seat(h, "pstg", org)
    for org in ("worcester-city-council", "worcester-college", "vcs-alliance"):
        seat(h, "worcester", org)
    seat(h, "worcester", "chamber-of-commerce", nominated_by="pstg")
    for org in ("wychavon-dc", "vcs-alliance", "west-mercia-police"):
        seat(h, "wychavon", org)


def meeting(h: Harness, body: str, held_on: date, present: list[str], who: dict[str, str] = OFFICER) -> str:
    response = h.client.post("/tasking/meetings", json={"body": body, "held_on": held_on.isoformat(),
                                                        "present": present, "title": f"{body} meeting"},
                             headers=headers(h, who))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def pstg_decision(meeting_id: str, held_on: date, reason: str, reference: str | None = None) -> dict[str, Any]:
    return {"body": "pstg", "decided_on": held_on.isoformat(), "reason": reason, "meeting_id": meeting_id,
            "reference": reference}


PSTG_PRESENT = ["worcestershire-cc", "chamber-of-commerce", "worcester-college"]


def issue(h: Harness, target_id: uuid.UUID, decision: dict[str, Any], *, district: str = "worcester",
          share: int = 1200, lead_partner: str = "worcester-city-council", key: str | None = None) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return h.client.post("/tasking/taskings", json={
        "target_id": str(target_id), "district": district, "share": str(share), "deadline": "2013-03-31",
        "lead_partner": lead_partner, "commissioning_level": "district", "decision": decision,
    }, headers=headers(h, PSTG_LEAD, **extra))
