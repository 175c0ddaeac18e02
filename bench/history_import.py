"""Benchmark: ``partnership import history`` on PostgreSQL and Kafka, rows per second.

A synthetic history of ``--rows`` rows in the worked example's shape: the tables' memberships, then per block (a
PSTG meeting and a Worcester Alliance meeting for every twenty blocks) an objective and its target decided at the
PSTG meeting, a tasking to Worcester accepted and in delivery, a project opened at the Alliance meeting and twelve
monthly progress reports. The rows are grouped by phase (all meetings, then the strategy, the taskings, the
projects, the progress) so that a row waiting for a fact from another service waits once per phase, not once per
block: a chronological file pays the log's latency (a relay poll and a consumer batch, tens of milliseconds) at
every such row.

The import is timed whole (the dry run into a scratch embedded system, then the run into the target), and the
target run alone. Run: ``python -m bench.history_import [--rows 100000]``. Uses KAFKA_BOOTSTRAP_SERVERS /
TEST_POSTGRES_URL when set, else starts both on loopback.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.walking_skeleton import real_servers
from services.history import format as fmt
from services.history.runner import COMMAND_SERVICES, import_history
from services.runtime import System
from services.tasking.demo import JOINED, TABLES
from shared.contracts import Actor
from tests.harness import settings_for

IMPORTER = Actor("history-bench", "worcestershire-cc", "partnership_officer")
REPORTS = 12
DECISIONS_PER_MEETING = 20
"""A meeting decides twenty blocks' objectives, targets, taskings and projects: a body's minute book grows as a
body meets (weekly here), not by one meeting per decision (each meeting recorded reads its body's whole book)."""
PSTG = ["worcestershire-cc", "chamber-of-commerce", "worcester-college", "worcester-city-council"]
ALLIANCE = ["worcester-city-council", "worcester-college", "vcs-alliance", "nhs-worcestershire"]
COLLEGE = fmt.ActingFor(organisation="worcester-college", role="partner_officer")


def _decision(body: str, on: date, meeting: str, why: str) -> fmt.DecisionRow:
    return fmt.DecisionRow(body=body, decided_on=on, reason=why, meeting=meeting, reference=f"{meeting}/1")


def generate(rows: int) -> fmt.HistoryDocument:
    memberships: list[Any] = [fmt.Membership(key=f"{body}/{org}", body=body, organisation=org, joined_on=JOINED)
                              for body, orgs in TABLES.items() for org in orgs]
    blocks = max(1, (rows - len(memberships)) // (8 + REPORTS))
    board = fmt.Meeting(key="board", body="worcestershire-partnership", held_on=date(2011, 1, 3),
                        present=["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire",
                                 "chamber-of-commerce"], title="Board: the SCS")
    scs = fmt.Objective(key="scs", title="A skilled and prosperous economy", level="scs",
                        strategy="Sustainable Community Strategy",
                        decision=_decision("worcestershire-partnership", board.held_on, "board", "The SCS"))
    phases: list[list[Any]] = [[board], [scs], [], [], []]
    for b in range(blocks):
        n = b // DECISIONS_PER_MEETING
        held = date(2011, 1, 10) + timedelta(days=7 * n)
        pstg, alliance = f"pstg-{n}", f"alliance-{n}"
        if b % DECISIONS_PER_MEETING == 0:
            phases[0] += [fmt.Meeting(key=pstg, body="pstg", held_on=held, present=PSTG, title=f"PSTG {n}"),
                          fmt.Meeting(key=alliance, body="worcester", held_on=held, present=ALLIANCE,
                                      title=f"Alliance {n}")]
        phases[1] += [
            fmt.Objective(key=f"objective-{b}", title=f"Objective {b}", level="county_strategy",
                          strategy="County Economic Strategy", parent="scs",
                          decision=_decision("pstg", held, pstg, "The strategy's objective")),
            fmt.Target(key=f"target-{b}", objective=f"objective-{b}", metric="new private-sector jobs",
                       unit="jobs", baseline_value=Decimal(0), baseline_date=held, target_value=Decimal(1000),
                       deadline=held + timedelta(days=1800), data_source="ONS BRES",
                       owner_organisation="worcestershire-cc",
                       decision=_decision("pstg", held, pstg, "The target"))]
        phases[2] += [
            fmt.Tasking(key=f"tasking-{b}", target=f"target-{b}", theme_group="pstg", district="worcester",
                        share=Decimal(600), deadline=held + timedelta(days=1500),
                        lead_partner="worcester-city-council", commissioning_level="district",
                        decision=_decision("pstg", held, pstg, "Worcester's share")),
            fmt.TaskingAnswer(key=f"accept-{b}", tasking=f"tasking-{b}", step="accept",
                              decision=_decision("worcester", held, alliance, "Taken on")),
            fmt.TaskingAnswer(key=f"deliver-{b}", tasking=f"tasking-{b}", step="start_delivery")]
        phases[3].append(fmt.Project(
            key=f"project-{b}", district="worcester", title=f"Project {b}", lead_partner="worcester-college",
            project_manager="bench-pm", taskings=[f"tasking-{b}"],
            outcomes=[fmt.Outcome(id="jobs", tasking=f"tasking-{b}", metric="new private-sector jobs", unit="jobs",
                                  baseline_value=Decimal(0), baseline_date=held, target_value=Decimal(600),
                                  target_date=held + timedelta(days=1400))],
            decision=_decision("worcester", held, alliance, "The delivery plan")))
        phases[4] += [fmt.Progress(key=f"progress-{b}-{m}", project=f"project-{b}", by=COLLEGE,
                                   reported_on=held + timedelta(days=30 * (m + 1)),
                                   values={"jobs": Decimal(40 * (m + 1))}, narrative=f"Month {m + 1}")
                      for m in range(REPORTS)]
    return fmt.HistoryDocument(partnership="worcestershire",
                               rows=[*memberships, *[row for phase in phases for row in phase]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    document = generate(args.rows)
    with tempfile.TemporaryDirectory() as folder, real_servers() as (kafka, postgres):
        path = Path(folder) / "history.json"
        fmt.write(document, path)
        history = fmt.read(path)
        settings = settings_for(data_dir=Path(folder) / "target", postgres_url=postgres, kafka=kafka)
        system = System(settings, services=COMMAND_SERVICES)
        system.start_workers()
        try:
            started = time.perf_counter()
            report = import_history(history, system.applications, IMPORTER, settings, timeout=600)
            whole = time.perf_counter() - started
        finally:
            system.close()
    rows = len(history.rows)
    assert report.imported, [r.as_dict() for r in report.refused[:5]]
    print(f"rows: {rows}  whole import (dry run + target): {whole:.1f}s = {rows / whole:.0f} rows/s")
    print(f"dry run (scratch SQLite): {report.timings['dry_run']:.1f}s = {rows / report.timings['dry_run']:.0f} "
          f"rows/s; target (PostgreSQL, Kafka): {report.timings['target']:.1f}s = "
          f"{rows / report.timings['target']:.0f} rows/s")


if __name__ == "__main__":
    main()
