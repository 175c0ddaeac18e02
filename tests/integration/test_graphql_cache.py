"""The gateway's response cache, on SQLite and PostgreSQL: an answer is reused only for the same data version and
the same caller visibility. After an event is projected the very next query sees it (no waiting, no stale answer);
callers whose grants or claims differ never get each other's entries; a rebuilt store is a new data version even
at the same positions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.reporting.graphql_cache import data_version
from services.reporting.readmodel import ReportingReadModel
from tests.harness import Harness, running_system, settings_for, wait_until
from tests.unit.shared.test_operability import _sample

pytestmark = pytest.mark.integration

OBJECTIVES = "{ objectives { title } }"


@pytest.fixture(params=["sqlite", "postgres"])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_system(settings_for(data_dir=tmp_path, postgres_url=url),
                        services=("priorities", "reporting")) as harness:
        yield harness


@pytest.fixture
def on_postgres(tmp_path: Path, postgres_url: str) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path, postgres_url=postgres_url),
                        services=("priorities", "reporting")) as harness:
        yield harness


def _post(h: Harness, query: str, headers: dict[str, str], **extra: str) -> dict[str, Any]:
    response = h.client.post("/graphql", json={"query": query}, headers={**headers, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _lookups(h: Harness) -> tuple[float, float]:
    text = h.client.get("/metrics").text
    return (_sample(text, "partnership_graphql_cache_lookups_total", outcome="hit"),
            _sample(text, "partnership_graphql_cache_lookups_total", outcome="miss"))


def _applied(h: Harness) -> int:
    return sum(c.status.applied for c in h.system.consumers if c.name == "reporting")


def _add_objective(h: Harness, title: str) -> None:
    """Through the priorities API, then wait until the projection has committed it (without asking GraphQL)."""
    before = _applied(h)
    response = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"), json={
        "title": title, "level": "scs", "strategy": "Sustainable Community Strategy",
        "decision": h.board_decision()})
    assert response.status_code == 201, response.text
    wait_until(lambda: _applied(h) > before, what="the event projected")


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _partner_system(h: Harness, queries: list[str]) -> dict[str, str]:
    """A partner system's token (the college's MIS) granted ``queries``."""
    return _bearer(h.system.tokens.mint("client:college-mis", "worcester-college", ["partner_officer"],
                                        client_id="college-mis", queries=queries))


def _titles(body: dict[str, Any]) -> list[str]:
    assert not body.get("errors"), body
    return sorted(o["title"] for o in body["data"]["objectives"])


def test_the_next_query_after_an_event_is_projected_sees_it(h: Harness) -> None:
    officer = h.headers("partnership_officer")
    _add_objective(h, "A skilled and prosperous economy")
    hits, misses = _lookups(h)
    first = _post(h, OBJECTIVES, officer)
    again = _post(h, OBJECTIVES, officer)
    assert _titles(first) == _titles(again) == ["A skilled and prosperous economy"]
    assert _lookups(h) == (hits + 1, misses + 1)  # the second was answered from the cache

    for n in range(3):  # each event applied moves the data version: the next query runs and sees it at once
        _add_objective(h, f"Objective {n}")
        seen = _titles(_post(h, OBJECTIVES, officer))
        assert f"Objective {n}" in seen and len(seen) == n + 2
    assert _lookups(h) == (hits + 1, misses + 4)


def test_callers_with_different_grants_or_claims_never_share_an_answer(h: Harness) -> None:
    _add_objective(h, "Safer communities")
    granted, not_granted = _partner_system(h, ["objectives"]), _partner_system(h, ["taskings"])
    assert _titles(_post(h, OBJECTIVES, granted)) == ["Safer communities"]
    assert _titles(_post(h, OBJECTIVES, granted)) == ["Safer communities"]  # now cached for this client's grants
    refused = _post(h, OBJECTIVES, not_granted)  # the same client with other grants: its own answer, a refusal
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    hits, misses = _lookups(h)
    _post(h, OBJECTIVES, h.headers("district_coordinator", district="worcester"))
    _post(h, OBJECTIVES, h.headers("district_coordinator", district="wychavon"))  # another district: not shared
    _post(h, OBJECTIVES, h.headers("scrutiny_member"))  # another role: not shared
    assert _lookups(h) == (hits, misses + 3)
    # Another person with the very same claims may see exactly the same: shared.
    other_person = _bearer(h.token("district_coordinator", user="someone-else", district="worcester"))
    assert _titles(_post(h, OBJECTIVES, other_person)) == ["Safer communities"]
    assert _lookups(h) == (hits + 1, misses + 3)


def test_no_cache_asks_for_a_fresh_answer_and_uncacheable_queries_always_run(h: Harness) -> None:
    officer = h.headers("partnership_officer")
    _add_objective(h, "Healthy people")
    _post(h, OBJECTIVES, officer)
    hits, misses = _lookups(h)
    assert _titles(_post(h, OBJECTIVES, officer, **{"cache-control": "no-cache"})) == ["Healthy people"]
    assert _lookups(h) == (hits, misses + 1)
    assert _titles(_post(h, OBJECTIVES, officer)) == ["Healthy people"]
    assert _lookups(h) == (hits + 1, misses + 1)
    # The change feed's window ends "now": never cached (nor looked up); nor is anything without a token.
    feed = '{ changes(from: "2000-01-01T00:00:00Z") { totalCount } }'
    assert not _post(h, feed, officer).get("errors") and not _post(h, feed, officer).get("errors")
    assert _post(h, OBJECTIVES, {})["errors"]
    assert _lookups(h) == (hits + 1, misses + 1)
    # An answer with errors is looked up but never kept.
    assert _post(h, "{ objectives { nonsense } }", officer)["errors"]
    assert _post(h, "{ objectives { nonsense } }", officer)["errors"]
    assert _lookups(h) == (hits + 1, misses + 3)


def test_a_rebuilt_store_is_a_new_data_version_even_at_the_same_positions(on_postgres: Harness) -> None:
    h = on_postgres
    _add_objective(h, "Stronger communities")
    model = h.system.read_model
    assert isinstance(model, ReportingReadModel)
    before = data_version(model.store)
    assert before and all(row[1] is not None for row in before)
    assert data_version(model.store) == before  # stable while nothing is written
    with model.store.transaction() as tx:  # what a rebuild does: the same positions, written anew
        table = model.store.recorder.tracking_table_name  # type: ignore[attr-defined]
        tx.execute(f"UPDATE {table} SET notification_id = notification_id")
    after = data_version(model.store)
    assert [row[:2] for row in after] == [row[:2] for row in before] and after != before
