"""The worked example over real Kafka and PostgreSQL: the target comes from the priorities service through Kafka,
PSTG tasks Worcester with 1,200 of the 6,000 jobs, Worcester accepts, PSTG moves 200 to Wychavon with a reason,
and GraphQL shows both assignments, who decided, when and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import running_system, settings_for, wait_until
from tests.integration.test_tasking_steps import (
    assert_both_assignments_shown,
    chain_shown,
    set_target_through_priorities,
    wait_target_known,
    worked_example,
)

pytestmark = pytest.mark.integration


def test_worcester_share_retasked_to_wychavon_over_kafka_and_postgres(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings) as h:
        target_id = set_target_through_priorities(h)
        wait_target_known(h, target_id)
        ids = worked_example(h, target_id)
        data = wait_until(lambda: chain_shown(h, ids), timeout=60, what="both assignments in GraphQL")
        assert_both_assignments_shown(data, ids)
        decisions = h.graphql('{ decisions(body: "pstg") { subject decidedOn reason reference } }')["data"]
        assert {d["subject"] for d in decisions["decisions"] if d["decidedOn"] == "2011-06-14"} == \
            {ids["worcester"], ids["wychavon"]}
