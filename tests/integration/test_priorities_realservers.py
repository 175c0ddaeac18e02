"""The priorities service on real Kafka and PostgreSQL: the worked example reaches GraphQL, and a district's sixth
agreed priority is refused with nothing written anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from services.priorities.application import PrioritiesApplication
from shared.contracts.priorities import chapter_id
from tests.harness import Harness, running_system, settings_for, wait_until

pytestmark = pytest.mark.integration

SERVICES = ("priorities", "tasking", "reporting")  # tasking records the meetings decisions are taken at

TREE = """{ objectiveTree { title level children { title strategy children { title strategy
  targets { metric unit baselineValue baselineDate targetValue deadline dataSource ownerOrganisation status
            changedBy { role organisation } decision { body } } } } } }"""


def test_the_worked_example_objectives_and_the_6000_jobs_target_appear_in_graphql(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=SERVICES) as h:
        assert h.system.load_demo_data()

        def tree() -> list[dict[str, Any]]:
            roots: list[dict[str, Any]] = h.graphql(TREE)["data"]["objectiveTree"]
            ready = roots and roots[0]["children"] and roots[0]["children"][0]["children"] and \
                roots[0]["children"][0]["children"][0]["targets"]
            return roots if ready else []

        [scs] = wait_until(tree, 30, "the worked example in GraphQL")
        assert scs["title"] == "A skilled and prosperous economy" and scs["level"] == "scs"
        [county] = scs["children"]
        assert county["title"].startswith("Enhance employability levels")
        assert county["strategy"] == "County Economic Strategy"
        [jobs] = county["children"]
        assert jobs["title"] == "Create jobs in the private sector"
        assert jobs["targets"] == [{
            "metric": "new private-sector jobs", "unit": "jobs", "baselineValue": "0", "baselineDate": "2011-04-01",
            "targetValue": "6000", "deadline": "2016-03-31",
            "dataSource": "ONS Business Register and Employment Survey", "ownerOrganisation": "worcestershire-cc",
            "status": "active", "changedBy": {"role": "partnership_officer", "organisation": "worcestershire-cc"},
            "decision": {"body": "pstg"},
        }]
        priorities = wait_until(lambda: h.graphql('{ districtPriorities(district: "worcester", status: "agreed") '
                                                  "{ title objectiveId } }")["data"]["districtPriorities"],
                                30, "Worcester's agreed priority")
        assert priorities[0]["title"] == "More private-sector jobs in Worcester"


def _coordinator(h: Harness) -> dict[str, str]:
    return h.headers("district_coordinator", "worcester-city-council", district="worcester")


def test_an_over_limit_priority_is_refused_and_nothing_is_written(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=SERVICES) as h:
        officer = h.headers("partnership_officer")
        scs = h.client.post("/priorities/objectives", headers=officer, json={
            "title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy",
            "decision": h.board_decision()})
        assert scs.status_code == 201, scs.text
        proposed = []
        for n in range(6):
            response = h.client.post("/priorities/districts/worcester/priorities", headers=_coordinator(h), json={
                "title": f"Priority {n + 1}", "rationale": "On the district's evidence",
                "objective_id": scs.json()["id"]})
            assert response.status_code == 201, response.text
            proposed.append(response.json()["id"])
        board = h.decision("worcester", "2011-05-18", "Agreed by the Worcester Alliance")
        for priority_id in proposed[:5]:
            agreed = h.client.post(f"/priorities/priorities/{priority_id}/agree", headers=_coordinator(h),
                                   json={"decision": board, "expected_version": 1})
            assert agreed.status_code == 200, agreed.text

        app: PrioritiesApplication = h.system.application("priorities")
        chapter_before = h.client.get("/priorities/districts/worcester/chapter", headers=h.headers("auditor")).json()
        last_event_before = app.recorder.max_notification_id()

        refused = h.client.post(f"/priorities/priorities/{proposed[5]}/agree", headers=_coordinator(h),
                                json={"decision": board, "expected_version": 1})

        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert all(f"'Priority {n + 1}'" in refused.json()["detail"] for n in range(5))
        chapter_after = h.client.get("/priorities/districts/worcester/chapter", headers=h.headers("auditor")).json()
        assert chapter_after == chapter_before and chapter_after["version"] == 6
        assert app.recorder.max_notification_id() == last_event_before
        assert [e.originator_version for e in app.events.get(chapter_id("worcester"))] == [1, 2, 3, 4, 5, 6]
        assert app.priority(UUID(proposed[5])).version == 1

        # The reporting side saw the five agreements and nothing of the refusal.
        chapters = wait_until(
            lambda: (c := h.graphql('{ districtChapters(district: "worcester") { version agreedCount '
                                    'priorities(status: "proposed") { title } } }')["data"]["districtChapters"])
            and c[0]["version"] == 6 and c, 30, "the chapter in GraphQL")
        assert chapters == [{"version": 6, "agreedCount": 5, "priorities": [{"title": "Priority 6"}]}]
