"""A target is never revised below what is tasked of it (#15 part 2), through the services: the 6,000 jobs target
set through priorities, 1,200 of it tasked to Worcester through tasking; revising the target to 1,000 is a 409 with
the numbers once priorities' copy knows the tasking the caller names, and a revision down to 1,200 passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness, running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    MAY,
    OFFICER,
    PSTG_PRESENT,
    headers,
    issue,
    meeting,
    pstg_decision,
    seat_the_tables,
    set_target_through_priorities,
    wait_target_known,
)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "tasking")) as harness:
        yield harness


def test_a_target_revision_below_the_total_tasked_is_refused_with_the_numbers(h: Harness) -> None:
    target_id = set_target_through_priorities(h)
    wait_target_known(h, target_id)
    seat_the_tables(h)
    decision = pstg_decision(meeting(h, "pstg", MAY, PSTG_PRESENT), MAY, "Shares of the jobs target")
    issued = issue(h, target_id, decision, share=1200)
    assert issued.status_code == 201, issued.text
    tasking_id, tasking_version = issued.json()["id"], issued.json()["version"]

    revision = {"metric": "new private-sector jobs", "unit": "jobs", "baseline_value": "0",
                "baseline_date": "2011-04-01", "deadline": "2016-03-31",
                "data_source": "ONS Business Register and Employment Survey",
                "owner_organisation": "worcestershire-cc", "decision": decision,
                "tasking_versions": {tasking_id: tasking_version}}
    url = f"/priorities/targets/{target_id}/revise"

    def revise(value: str) -> Any:
        return h.client.post(url, headers={**headers(h, OFFICER), "If-Match": '"1"'},
                             json={**revision, "target_value": value})

    def decided() -> Any:
        response = revise("1000")
        return None if response.status_code == 503 else response  # the copy is behind the tasking just issued

    refused = wait_until(decided, what="priorities to learn the tasking")
    assert refused.status_code == 409, refused.text
    assert (refused.json()["tasked"], refused.json()["target_value"], refused.json()["over_by"]) == \
        ("1200", "1000", "200")
    assert revise("1200").status_code == 200
