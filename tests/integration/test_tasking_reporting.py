"""Coordination read models in the embedded mode: the worked example's chain, asOf, memberships, overdue actions,
and the districts with no partner of a kind around the table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    OFFICER,
    PSTG_PRESENT,
    assert_both_assignments_shown,
    chain_shown,
    headers,
    meeting,
    set_target_through_priorities,
    wait_target_known,
    worked_example,
)


@pytest.fixture()
def h(tmp_path: Path) -> Any:
    with running_system(settings_for(data_dir=tmp_path)) as harness:
        yield harness


def test_the_worked_example_shows_both_assignments_and_the_past_as_it_was(h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    seat_only = datetime.now(UTC)
    ids = worked_example(h, target_id)
    data = wait_until(lambda: chain_shown(h, ids), what="both assignments in GraphQL")
    assert_both_assignments_shown(data, ids)
    before = h.graphql("query($t: DateTime) { taskings(asOf: $t) { id } }", {"t": seat_only.isoformat()})
    assert before["data"]["taskings"] == []
    by_district = h.graphql('{ taskings(district: "worcester") { share } }')["data"]["taskings"]
    assert by_district == [{"share": "1000"}]


def test_overdue_actions_and_districts_without_a_partner_of_a_kind(h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    ids = worked_example(h, target_id)
    meeting_id = meeting(h, "pstg", date(2011, 7, 12), PSTG_PRESENT)
    late = h.client.post(f"/tasking/meetings/{meeting_id}/actions", json={
        "description": "Map employment land in Wychavon", "owner": "wychavon-dc", "due_on": "2011-09-30"},
        headers=headers(h, OFFICER))
    assert late.status_code == 201, late.text
    wait_until(lambda: chain_shown(h, ids), what="the taskings in GraphQL")
    wait_until(lambda: h.graphql("{ agreedActions { id } }")["data"]["agreedActions"], what="the action")
    overdue = h.graphql("{ overdueActions { description owner overdue dueOn } }")["data"]["overdueActions"]
    assert overdue == [{"description": "Map employment land in Wychavon", "owner": "wychavon-dc", "overdue": True,
                        "dueOn": "2011-09-30"}]
    not_yet = h.graphql('{ overdueActions(asOf: "2011-09-30T12:00:00+00:00") { id } }')["data"]["overdueActions"]
    assert not_yet == []
    # Worcester has the Chamber (business) as PSTG's representative; Wychavon has no business partner.
    gaps = h.graphql('{ districtsWithoutPartnerKind(kind: "business") { district partnerKinds taskings { share } } }')
    assert gaps["data"]["districtsWithoutPartnerKind"] == [
        {"district": "wychavon", "partnerKinds": ["council", "police", "voluntary_sector"],
         "taskings": [{"share": "200"}]}]
    members = h.graphql('{ memberships(body: "worcester") { organisation nominatedBy } }')["data"]["memberships"]
    assert {"organisation": "chamber-of-commerce", "nominatedBy": "pstg"} in members
