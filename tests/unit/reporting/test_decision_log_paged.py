"""The decision log is paged in the database (``decision_listing``): its filters, read there (the body and date
from the decision's JSON, the kind and service from the event type, matched literally), keep exactly the events
the log's rule keeps, in its order, and a walk of pages meets each once. On SQLite here; on PostgreSQL in
``tests/integration/test_paging_in_postgres.py``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.reporting.decision_log import decision_listing
from services.reporting.listing import window
from services.reporting.readmodel import DDL
from shared.readstore import ReadStore
from tests.harness import settings_for

BODIES = ["pstg", "wf_dp", "county%board"]
TYPES = ["priorities.ObjectiveAdded.v1", "tasking.TaskingRetasked.v2", "tasking.Tasking_Issued.v1",
         "projects.ProgressReported.v1", "pri_rities.ObjectiveAdded.v1"]


def _events() -> list[dict[str, Any]]:
    events = []
    for n, (body, kind) in enumerate(itertools.product(BODIES, TYPES)):
        for version in (1, 2):
            decided = date(2011, 1 + (n + version) % 12, 1 + n % 27)
            events.append({"subject": f"s{n % 4}", "version": n * 2 + version, "type": kind,
                           "time": datetime(2012, 1, 1 + n % 20, version, tzinfo=UTC).isoformat(),
                           "decision": None if (n + version) % 7 == 0 else json.dumps(
                               {"body": body, "decided_on": decided.isoformat(), "reason": "minuted"})})
    return events


EVENTS = _events()


def kept(*, body: str | None = None, decided_from: date | None = None, decided_to: date | None = None,
         kind: str | None = None, service: str | None = None, as_of: datetime | None = None) -> list[tuple[str, int]]:
    """The log's rule, in Python: the specification the SQL must meet."""
    rows = []
    for event in sorted(EVENTS, key=lambda e: (e["time"], e["subject"], e["version"])):
        if event["decision"] is None:
            continue
        decision = json.loads(event["decision"])
        if as_of is not None and event["time"] > as_of.isoformat():
            continue
        if service is not None and event["type"].split(".")[0] != service:
            continue
        if body is not None and decision["body"] != body:
            continue
        if decided_from is not None and decision["decided_on"] < decided_from.isoformat():
            continue
        if decided_to is not None and decision["decided_on"] > decided_to.isoformat():
            continue
        if kind is not None and event["type"].split(".")[1] != kind:
            continue
        rows.append((event["subject"], event["version"]))
    return rows


def fill(store: ReadStore) -> ReadStore:
    store.migrate(DDL)
    with store.transaction() as tx:
        for event in EVENTS:
            tx.execute("INSERT INTO event_log (subject, version, type, source, time, actor, actor_organisation, "
                       "actor_role, correlation_id, decision, data) VALUES (?, ?, ?, 's', ?, 'a', 'o', 'r', 'c', ?, "
                       "'{}')", [event["subject"], event["version"], event["type"], event["time"], event["decision"]])
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReadStore]:
    made = ReadStore(settings_for(data_dir=tmp_path), "decisions")
    try:
        yield fill(made)
    finally:
        made.close()


FILTERS: list[dict[str, Any]] = [
    {}, {"body": "pstg"}, {"body": "county%board"}, {"body": "county_board"}, {"body": "nobody"},
    {"decided_from": date(2011, 6, 1)}, {"decided_to": date(2011, 3, 31)},
    {"decided_from": date(2011, 4, 1), "decided_to": date(2011, 9, 30), "body": "wf_dp"},
    {"kind": "ObjectiveAdded"}, {"kind": "Tasking_Issued"}, {"kind": "Tasking%"}, {"kind": "Tasking_Retasked"},
    {"kind": "TaskingRetasked.v2"}, {"service": "tasking"}, {"service": "pri_rities"}, {"service": "pri%"},
    {"service": "tasking", "kind": "TaskingRetasked"}, {"as_of": datetime(2012, 1, 10, tzinfo=UTC)},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_the_database_keeps_what_the_rule_keeps_in_order(store: ReadStore, filters: dict[str, Any]) -> None:
    listing = decision_listing(store.postgres, **{"body": None, "decided_from": None, "decided_to": None,
                                                  "kind": None, "service": None, "as_of": None, **filters})
    found = window(store, listing, after=None, before=None, first=1000, last=None)
    assert [(r["subject"], r["version"]) for r in found.rows] == kept(**filters)
    assert found.count() == len(kept(**filters)) and not found.has_next


def test_pages_of_the_log_walk_it_once_in_order(store: ReadStore) -> None:
    listing = decision_listing(store.postgres, body=None, decided_from=None, decided_to=None, kind=None,
                               service="tasking", as_of=None)
    seen: list[tuple[str, int]] = []
    after: list[Any] | None = None
    while True:
        page = window(store, listing, after=after, before=None, first=4, last=None)
        seen += [(r["subject"], r["version"]) for r in page.rows]
        if not page.has_next:
            break
        last = page.rows[-1]
        after = [last["time"], last["subject"], last["version"]]
    assert seen == kept(service="tasking") and len(seen) > 8
