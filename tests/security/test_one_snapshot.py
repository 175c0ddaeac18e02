"""One answer, one snapshot: every GraphQL request reads the read models in one consistent snapshot (one
REPEATABLE READ transaction on PostgreSQL, one read transaction on SQLite). A projection commit that lands between
two fields of one request shows in neither; the next request sees it. Before, each top-level field read in its own
transaction and one answer could straddle the commit."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, Harness, running_system, settings_for, wait_until

DOCUMENT = "{ first: objectives { id title } second: objectives { id title } }"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres),
                        services=("priorities", "reporting")) as harness:
        yield harness


def test_a_commit_between_the_fields_of_one_request_shows_in_neither_field(h: Harness) -> None:
    priorities: Any = h.system.applications["priorities"]
    context = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "snapshot-test")

    adopted = board_meeting(priorities.local, BOARD_DAY, "Adopted by the partnership board")

    def add(title: str) -> str:
        return str(priorities.add_objective(context, title=title, level=StrategyLevel.SCS, strategy="SCS",
                                            decision=adopted).id)

    store: Any = h.system.read_model.store  # type: ignore[union-attr]
    read = store.query
    # A check from another thread: it runs in a context of its own, outside the request's snapshot.
    outside = ThreadPoolExecutor(max_workers=1)

    def projected(objective_id: str) -> bool:
        rows = outside.submit(read, "SELECT id FROM objectives WHERE id = ?", [objective_id]).result()
        return bool(rows)

    before = add("Before the request")
    wait_until(lambda: projected(before), what="the first objective in the read model")

    committed: list[str] = []

    def read_then_commit(statement: str, params: Any = ()) -> Any:
        rows = read(statement, params)
        if not committed and "objectives" in statement:  # the first field has read: commit before the second
            committed.append(add("Committed between the fields"))
            wait_until(lambda: projected(committed[0]), what="the projection to commit the second objective")
        return rows

    store.query = read_then_commit
    try:
        answer = h.graphql(DOCUMENT)
    finally:
        del store.query
    assert committed, "the commit between the fields did not happen"
    assert "errors" not in answer, answer
    first, second = answer["data"]["first"], answer["data"]["second"]
    assert first == second, "one answer straddled a commit"
    assert [o["id"] for o in first] == [before]
    after = h.graphql(DOCUMENT)["data"]  # the next request reads a snapshot with the commit in it
    assert {o["id"] for o in after["first"]} == {o["id"] for o in after["second"]} == {before, committed[0]}
    outside.shutdown()
