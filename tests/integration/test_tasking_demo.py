"""The demo data (``make run``) tells the worked example: Worcester 1,200 -> Worcester 1,000 + Wychavon 200."""

from __future__ import annotations

from pathlib import Path

from tests.harness import running_system, settings_for, wait_until


def test_the_demo_tasks_worcester_and_moves_200_jobs_to_wychavon(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        assert h.system.load_demo_data()

        def chain() -> list[dict[str, str]]:
            taskings = h.graphql("{ taskings { id district share status } }")["data"]["taskings"]
            return sorted(taskings, key=lambda t: t["district"]) if len(taskings) == 2 else []

        shown = wait_until(chain, what="the demo's taskings in GraphQL")
        assert [(t["district"], t["share"], t["status"]) for t in shown] == [
            ("worcester", "1000", "in_delivery"), ("wychavon", "200", "issued")]
        steps = h.graphql('query($id: ID!) { retaskingChain(taskingId: $id) { steps { summary } } }',
                          {"id": shown[0]["id"]})["data"]["retaskingChain"]["steps"]
        assert steps[0]["summary"].startswith("Worcester 1,200 -> Worcester 1,000 + Wychavon 200, decided by")
        overdue = h.graphql("{ overdueActions { owner } }")["data"]["overdueActions"]
        assert overdue == [{"owner": "worcester-city-council"}]
