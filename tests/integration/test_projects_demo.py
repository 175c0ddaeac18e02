"""The demo data (``make run``) continues the worked example into delivery: Worcester's two jobs projects, one red
with an intervention, rolled up to Worcester's share and the county's 6,000."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import running_system, settings_for, wait_until

QUERY = """
{
  programmes(district: "worcester") { projects green amber red interventions flagged }
  deliveryRollups { targetValue actual shares { district share actual projects { title rag contribution } } }
  interventions(district: "worcester") { kind triggers }
}
"""


def test_the_demo_delivers_worcesters_share_through_two_projects(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        assert h.system.load_demo_data()

        def shown() -> dict[str, Any] | None:
            data: dict[str, Any] = h.graphql(QUERY)["data"]
            rollups = data["deliveryRollups"]
            ready = data["interventions"] and rollups and rollups[0]["actual"] == "340"
            return data if ready else None

        data = wait_until(shown, what="the demo's delivery in GraphQL")
        assert data["programmes"] == [{"projects": 2, "green": 1, "amber": 0, "red": 1, "interventions": 1,
                                       "flagged": 0}]
        [rollup] = data["deliveryRollups"]
        assert rollup["targetValue"] == "6000"
        worcester = next(s for s in rollup["shares"] if s["district"] == "worcester")
        assert (worcester["share"], worcester["actual"]) == ("1000", "340")
        assert sorted(p["rag"] for p in worcester["projects"]) == ["green", "red"]
        assert data["interventions"][0]["kind"] == "extra_resources"
