"""The response cache's own rules: which documents it may keep, what makes two keys differ, and its size bound."""

from __future__ import annotations

import dataclasses

import pytest

from services.reporting.graphql import CACHEABLE_QUERIES
from services.reporting.graphql_cache import EncodedData, ResponseCache, visibility
from shared.auth import Grant, Principal, Role

OFFICER = Principal(user_id="officer-1", organisation="worcestershire-cc",
                    grants=frozenset({Grant(Role.PARTNERSHIP_OFFICER)}))
VERSION = (("reporting:priorities.events:0", 41, "1234"),)


def _cache(max_bytes: int = 1_000) -> ResponseCache:
    return ResponseCache(max_bytes, CACHEABLE_QUERIES)


@pytest.mark.parametrize(("query", "operation", "cacheable"), [
    ("{ deliveryRollups { targetId } }", None, True),
    ("query Q($at: DateTime) { a: objectives(asOf: $at) { title } __typename }", "Q", True),
    ("fragment F on Query { taskings { id } } query { ...F ... on Query { districts { id } } }", None, True),
    ("query A { objectives { title } } query B { auditVerification { ok } }", "B", False),  # live, auditors
    ("query A { objectives { title } } query B { auditVerification { ok } }", "A", True),
    ("{ objectives { title } changes(from: \"2020-01-01T00:00:00Z\") { totalCount } }", None, False),  # "now"
    ('mutation { addObjective(input: {}) { id } }', None, False),
    ("query A { objectives { title } } query B { targets { id } }", None, False),  # which one? strawberry says
    ("{ ...Missing }", None, False),
    ("{ objectives { title }", None, False),  # does not parse
])
def test_only_query_operations_of_cacheable_root_fields_are_kept(query: str, operation: str | None,
                                                                 cacheable: bool) -> None:
    assert _cache().cacheable(query, operation) is cacheable


def test_callers_differing_in_any_claim_but_their_id_get_different_keys() -> None:
    key = ResponseCache.key("{ objectives { title } }", None, {}, OFFICER, VERSION)
    same_claims = dataclasses.replace(OFFICER, user_id="officer-2")
    assert ResponseCache.key("{ objectives { title } }", None, {}, same_claims, VERSION) == key
    others = [
        dataclasses.replace(OFFICER, organisation="wychavon-dc"),
        dataclasses.replace(OFFICER, grants=frozenset({Grant(Role.SCRUTINY_MEMBER)})),
        dataclasses.replace(OFFICER, grants=frozenset({Grant(Role.PROGRAMME_MANAGER, "worcester")})),
        dataclasses.replace(OFFICER, grants=frozenset({Grant(Role.PROGRAMME_MANAGER, "wychavon")})),
        dataclasses.replace(OFFICER, grants=frozenset({Grant(Role.THEME_GROUP_LEAD, "pstg")})),
        dataclasses.replace(OFFICER, client_id="college-mis", queries=frozenset({"objectives"})),
        dataclasses.replace(OFFICER, client_id="college-mis", queries=frozenset({"objectives", "taskings"})),
    ]
    keys = {ResponseCache.key("{ objectives { title } }", None, {}, p, VERSION) for p in others}
    assert len(keys) == len(others) and key not in keys
    assert set(visibility(OFFICER)) == {f.name for f in dataclasses.fields(Principal)} - {"user_id", "name"}


def test_the_document_variables_and_data_version_are_all_in_the_key() -> None:
    key = ResponseCache.key("{ objectives { title } }", None, {"at": "2024-01-01"}, OFFICER, VERSION)
    assert key != ResponseCache.key("{ objectives { id } }", None, {"at": "2024-01-01"}, OFFICER, VERSION)
    assert key != ResponseCache.key("{ objectives { title } }", None, {"at": "2024-01-02"}, OFFICER, VERSION)
    assert key != ResponseCache.key("{ objectives { title } }", "Q", {"at": "2024-01-01"}, OFFICER, VERSION)
    moved = (("reporting:priorities.events:0", 42, "1240"),)
    assert key != ResponseCache.key("{ objectives { title } }", None, {"at": "2024-01-01"}, OFFICER, moved)


def test_the_cache_keeps_the_most_recently_used_answers_within_its_size() -> None:
    cache = _cache(max_bytes=1_000)
    for n in range(5):
        cache.put(bytes([n]), EncodedData("x" * 200))
    assert cache.get(bytes([0])) is not None  # now the most recently used
    cache.put(bytes([5]), EncodedData("y" * 200))  # over 1,000 bytes: the least recently used goes
    assert cache.get(bytes([1])) is None and cache.get(bytes([0])) is not None
    cache.put(bytes([6]), EncodedData("z" * 251))  # over a quarter of the cache: not kept at all
    assert cache.get(bytes([6])) is None
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.evictions) == (5, 1_000, 1)
    assert (stats.hits, stats.misses) == (2, 2)
    assert cache.get(bytes([0]), refresh=True) is None  # asked afresh: a miss although it is there
    assert not ResponseCache(0, CACHEABLE_QUERIES).enabled
