"""Benchmark: a page of a GraphQL connection read in the database against the whole list read into Python, by list
length, on real PostgreSQL, in the same process (issue 20: a page's cost must not grow with the history).

A history of ``--objectives`` objectives, each with a SMART target, is projected by the rebuild path into a fresh
schema. Then, for the objectives', the targets' and the decision log's lists (two decided events per objective),
three pages (the first ten, ten from the middle by
cursor, the last ten) are each read ``--requests`` times both ways: *whole list* (every row of the list selected
and paged in Python: ``paginate``, how ``objectivesConnection`` and ``targetsConnection`` read until this bench)
and *in the database* (``paginate_listing``: the page's rows and one past them, by key), the latter also with the
list's ``totalCount`` asked for (a count of the list, only then). Both give the same page (checked); the figures are
ms per page (p50) and the whole list's ratio to the page's.

Run: ``python -m bench.connection_paging [--objectives 1000,10000] [--requests 50]``. Uses TEST_POSTGRES_URL when
set, else starts PostgreSQL on loopback.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.reporting_graphql import postgres
from bench.reporting_history import OFFICER, PSTG, History
from services.reporting.decision_log import decision_listing
from services.reporting.graphql_common import Connection, encode_cursor, paginate, paginate_listing
from services.reporting.listing import Listing
from services.reporting.rebuild import Replay
from services.reporting.strategy import queries
from services.reporting.strategy.graphql import Objective, Target
from shared.contracts.priorities import ObjectiveAdded, StrategyLevel, TargetSet
from shared.readstore import ReadStore
from tests.harness import settings_for


def history(objectives: int) -> History:
    made = History()
    for n in range(objectives):
        objective = uuid.uuid4()
        made.add("priorities", objective, 1, ObjectiveAdded(
            actor=OFFICER, correlation_id="c", decision=PSTG, title=f"County objective {n}",
            level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy"))
        made.add("priorities", uuid.uuid4(), 1, TargetSet(
            actor=OFFICER, correlation_id="c", decision=PSTG, objective_id=objective, metric=f"jobs {n}", unit="jobs",
            baseline_value=Decimal(0), baseline_date=date(2011, 4, 1), target_value=Decimal(6000),
            deadline=date(2016, 3, 31), data_source="ONS", owner_organisation="worcestershire-cc"))
    return made


def p50_ms(call: Callable[[], Connection[Any]], requests: int) -> tuple[float, Connection[Any]]:
    times, got = [], call()
    for _ in range(requests):
        started = time.perf_counter()
        got = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), got


def compare(store: ReadStore, name: str, listing: Listing, node: Callable[[dict[str, Any]], Any],
            requests: int, whole_list: Callable[[], list[dict[str, Any]]] | None = None) -> None:
    def rows() -> list[dict[str, Any]]:  # the whole list, sealed text left sealed (as the connections read it)
        if whole_list is not None:
            return whole_list()
        return store.query_sealed(f"SELECT * FROM {listing.source} WHERE {listing.where} ORDER BY "
                                  f"{', '.join(listing.key)}", listing.params)

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column] for column in listing.key)

    everything = rows()
    pages: dict[str, dict[str, Any]] = {
        "first 10": {"first": 10, "after": None}, "10 after the middle": {"first": 10, "after": encode_cursor(
            key(everything[len(everything) // 2]))}, "last 10": {"first": None, "after": None, "last": 10}}
    for label, page in pages.items():
        whole, old = p50_ms(lambda: paginate(rows(), key, node, **page), requests)  # noqa: B023 (called at once)
        paged, new = p50_ms(lambda: paginate_listing(store, listing, node, **page, sealed=True),  # noqa: B023
                            requests)
        counted, _ = p50_ms(lambda: paginate_listing(store, listing, node, **page,  # noqa: B023
                                                     sealed=True).total_count(), requests)
        assert [e.cursor for e in old.edges] == [e.cursor for e in new.edges] and old.page_info == new.page_info \
            and old.total_count() == new.total_count()
        print(f"  {name:10} {label:20} whole list {whole:8.2f} ms   in the database {paged:7.2f} ms "
              f"(with totalCount {counted:7.2f})   ratio {whole / paged:6.1f}x", flush=True)


def measure(url: str, size: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(data_dir=Path(tmp), postgres_url=url)
        replay = Replay("reporting")
        for events in history(size).events.values():
            for _, value in events:
                replay.apply(value)
        replay.load(settings, progress=False)
        store = ReadStore(settings, "reporting")
        try:
            print(f"{size:,} objectives and {size:,} targets (PostgreSQL, p50 of {requests} pages):")
            compare(store, "objectives", queries.objectives_listing(),
                    lambda r: Objective.from_row(store.open_row(r), None), requests)
            compare(store, "targets", queries.targets_listing(),
                    lambda r: Target.from_row(store.open_row(r), None), requests)
            decided = decision_listing(True, body=None, decided_from=None, decided_to=None, kind=None, service=None,
                                       as_of=None)

            def whole_log() -> list[dict[str, Any]]:
                # As decisionLog read it until be0035a: every decided event, every decision parsed to filter it.
                rows = store.query("SELECT subject, version, type, time, actor, actor_organisation, actor_role, "
                                   "decision FROM event_log WHERE decision IS NOT NULL ORDER BY time, subject, version")
                return [row for row in rows if json.loads(row["decision"])["body"] is not None]

            compare(store, "decisions", decided, lambda r: (r["subject"], r["version"]), requests, whole_log)
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objectives", default="1000,10000", help="comma-separated list lengths")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with postgres() as url:
        for size in [int(n) for n in args.objectives.split(",") if n]:
            measure(url, size, args.requests)


if __name__ == "__main__":
    main()
