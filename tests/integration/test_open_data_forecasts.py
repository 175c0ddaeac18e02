"""Open data carries the forecast out-turn, its method and staleness that GraphQL and the scrutiny pack show, by the
one function (``shared.performance``): on the worked example (the demo), released for the pack's period, every
target total and district share of open data's ``target-performance`` is what GraphQL's ``performance(on)`` says at
the period's end and what the HTML pack prints, and every project figure of ``performance`` is what
``deliveryProject.performance(on)`` says (#15 part 3)."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from services.reporting.charts import quantity
from tests.harness import running_system, settings_for, wait_until

START, END = "2011-04-01", "2013-06-30"
RELEASE = {"starts_on": START, "ends_on": END,
           "decision": {"body": "worcestershire-partnership", "decided_on": "2013-07-15",
                        "delegation": "county-officer-evidence-and-release",
                        "reason": "Figures to June 2013 checked by the performance team", "reference": "WPB-2013-07-3"}}
JUDGED = "status stale direction forecasts { value at method }"
ROLLUPS = f"""query($on: Date) {{ districts {{ districtId name }}
  deliveryRollups {{ metric performance(on: $on) {{ {JUDGED} }}
                     shares {{ district performance(on: $on) {{ {JUDGED} }} }} }} }}"""
PROJECT = (f"query($id: ID!, $on: Date) {{ deliveryProject(id: $id) {{ outcomes {{ outcomeId }}"
           f" performance(on: $on) {{ {JUDGED} }} }} }}")


def _as_open_data(judged: dict[str, Any], index: int = 0) -> tuple[Any, ...]:
    """A GraphQL performance in open data's columns: status, stale, direction, forecast, its date and method."""
    forecast = judged["forecasts"][index]
    return (judged["status"], judged["stale"], judged["direction"],
            None if forecast["value"] is None else Decimal(forecast["value"]), forecast["at"], forecast["method"])


def _open(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["status"], record["stale"], record["direction"],
            None if record["forecast"] is None else Decimal(record["forecast"]), record["forecast_at"],
            record["forecast_method"])


def test_graphql_the_html_pack_and_open_data_agree_on_the_worked_example(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path)) as h:
        assert h.system.load_demo_data()
        store = h.system.read_model.store  # type: ignore[union-attr]
        wait_until(lambda: store.query("SELECT COUNT(*) AS n FROM delivery_interventions")[0]["n"] == 1,
                   what="the demo in the read models")
        released = h.client.post("/priorities/performance-releases", json=RELEASE,
                                 headers=h.headers("partnership_officer"))
        assert released.status_code == 201, released.text
        targets = wait_until(lambda: h.client.get("/open-data/target-performance.json").json()["records"],
                             what="the released period in open data")
        figures = h.client.get("/open-data/performance.json").json()["records"]
        assert len(targets) >= 3 and figures and all(r["period_end"] == END for r in targets + figures)
        assert {r["district"] for r in targets} >= {None, "Worcester"}  # the county total and the shares

        found = h.graphql(ROLLUPS, {"on": END})
        assert "errors" not in found, found
        names = {d["districtId"]: d["name"] for d in found["data"]["districts"]}
        graphql = {}
        for rollup in found["data"]["deliveryRollups"]:
            if rollup["performance"] is not None:
                graphql[(rollup["metric"], None)] = _as_open_data(rollup["performance"])
            for share in rollup["shares"]:
                graphql[(rollup["metric"], names[share["district"]])] = _as_open_data(share["performance"])
        pack = h.client.get("/reports/scrutiny", params={"from": START, "to": END, "committee": "Scrutiny"},
                            headers=h.headers("scrutiny_member"))
        assert pack.status_code == 200, pack.text
        forecasts_seen = 0
        for record in targets:
            assert _open(record) == graphql[(record["metric"], record["district"])], record
            if record["forecast"] is not None:  # the pack prints the out-turn with its method beside it
                forecasts_seen += 1
                printed = f"{quantity(Decimal(record['forecast']))} ({escape(record['forecast_method'])})"
                assert printed in pack.text, (record, printed)
        assert forecasts_seen, "the worked example forecasts some out-turns"

        for record in figures:
            project = h.graphql(PROJECT, {"id": record["project_id"], "on": END})["data"]["deliveryProject"]
            index = [o["outcomeId"] for o in project["outcomes"]].index(record["outcome_id"])
            assert _open(record) == _as_open_data(project["performance"], index), record
