"""Benchmark: ``partnership import history`` on PostgreSQL and Kafka, rows per second.

A synthetic history of ``--rows`` rows in the worked example's shape: the tables' memberships, then per block (a
PSTG meeting and a Worcester Alliance meeting for every twenty blocks) an objective and its target decided at the
PSTG meeting, a tasking to Worcester accepted and in delivery, a project opened at the Alliance meeting and twelve
monthly progress reports. The rows are grouped by phase (all meetings, then the strategy, the taskings, the
projects, the progress) so that a row waiting for a fact from another service waits once per phase, not once per
block: a chronological file pays the log's latency (a relay poll and a consumer batch, tens of milliseconds) at
every such row.

The import is timed whole (the dry run into a scratch embedded system, then the run into the target), and the
target run alone. **The raw baseline**, in the same process against the same PostgreSQL: the very events the import
stored (sealed, chained, as written), appended directly to a fresh copy of the three stores with the recorder's
``insert_events``, one transaction per row (a row's events together, as the import writes them): what storing the
history costs with no command, no rule, no replay and no log in between. The ratio is the import's target run
against it. Run: ``python -m bench.history_import [--rows 100000]``. Uses KAFKA_BOOTSTRAP_SERVERS /
TEST_POSTGRES_URL when set, else starts both on loopback.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

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
    # A block is 6 + REPORTS rows, and every DECISIONS_PER_MEETING blocks add two meetings: enough blocks for at
    # least ``rows`` rows in all (the board's meeting and the SCS are two more).
    per_block = 6 + REPORTS + 2 / DECISIONS_PER_MEETING
    blocks = max(1, math.ceil((rows - len(memberships) - 2) / per_block))
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


_ROW = re.compile(rb'"correlation_id": ?"(import:[^"]*)"')


def stored_by_row(system: System) -> dict[str, list[list[StoredEvent]]]:
    """Each service's stored events as the import wrote them, grouped by the row that made them (in order)."""
    grouped: dict[str, list[list[StoredEvent]]] = {}
    for name, app in system.applications.items():
        rows: dict[bytes, list[StoredEvent]] = {}
        start = 1
        while notifications := app.recorder.select_notifications(start=start, limit=2000):
            for n in notifications:
                found = _ROW.search(n.state)
                event = StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                rows.setdefault(found.group(1) if found else b"", []).append(event)
            start = notifications[-1].id + 1
        rows.pop(b"", None)  # the founding of the partnership's rules: recorded by the service itself, not a row
        grouped[name] = list(rows.values())
    return grouped


def raw_baseline(grouped: dict[str, list[list[StoredEvent]]], settings: Any) -> float:
    """Seconds to append the same stored events directly into fresh stores, one transaction per row per service."""
    fresh = System(settings, services=COMMAND_SERVICES)
    try:
        started = time.perf_counter()
        for name, rows in grouped.items():
            recorder = fresh.applications[name].recorder
            for events in rows:
                recorder.insert_events(events)
        return time.perf_counter() - started
    finally:
        fresh.close()


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
            assert report.imported, [r.as_dict() for r in report.refused[:5]]
            grouped = stored_by_row(system)
        finally:
            system.close()
        baseline = raw_baseline(grouped, settings_for(data_dir=Path(folder) / "raw", postgres_url=postgres))
    rows = len(history.rows)
    events = sum(len(e) for service in grouped.values() for e in service)
    transactions = sum(len(service) for service in grouped.values())
    target = report.timings["target"]
    print(f"rows: {rows}  whole import (dry run + target): {whole:.1f}s = {rows / whole:.0f} rows/s")
    print(f"dry run (scratch SQLite): {report.timings['dry_run']:.1f}s = {rows / report.timings['dry_run']:.0f} "
          f"rows/s; target (PostgreSQL, Kafka): {target:.1f}s = {rows / target:.0f} rows/s")
    print(f"raw baseline (the same {events} stored events appended directly, {transactions} transactions, one per "
          f"row per service): {baseline:.1f}s = {rows / baseline:.0f} rows/s")
    print(f"ratio: target run / raw baseline = {target / baseline:.1f}x; whole import / raw baseline = "
          f"{whole / baseline:.1f}x")


if __name__ == "__main__":
    main()
