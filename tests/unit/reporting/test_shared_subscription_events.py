"""One execution of a subscription's selection per update, shared by the subscribers that would get the same answer:
the same document, the same values of the variables used under the subscribed field (``after`` and ``kinds`` pick
which updates come, not what each looks like) and the same visibility (``graphql_cache.visibility``). Every other
subscriber gets its own execution, and a shared answer is the one it would have computed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import parse

from services.reporting.graphql import schema
from services.reporting.graphql_execution import LeafFastExecutor
from services.reporting.subscriptions import Update, UpdateKind
from shared.auth import Grant, Principal, Role
from tests.live_client import UPDATES

OFFICER = Principal("u-1", "worcestershire-cc", frozenset({Grant(Role.PARTNERSHIP_OFFICER)}))
ANOTHER_OFFICER = Principal("u-2", "worcestershire-cc", frozenset({Grant(Role.PARTNERSHIP_OFFICER)}))
COORDINATOR = Principal("u-3", "worcester-city", frozenset({Grant(Role.DISTRICT_COORDINATOR, "worcester")}))


def update(position: int, title: str = "Worcester Woods") -> Update:
    now = datetime.now(UTC)
    return Update(cursor=f"c{position}", kind=UpdateKind.PROGRESS_REPORTED, subject_id=strawberry.ID("p-1"),
                  subject_type="project", version=position, event_type="ProgressReported", occurred_at=now,
                  committed_at=now, district="worcester", theme_group=None, organisation="worcester-city",
                  title=title, rag="green", previous_rag="amber", status=None, previous_status=None, decision=None,
                  position=position)


def answer(principal: Principal, payload: Update, document: str = UPDATES,
           variables: dict[str, Any] | None = None) -> Any:
    """What one subscriber's stream gives for ``payload`` (graphql-core's per-event execution, as strawberry runs
    it for a subscription)."""
    executor = LeafFastExecutor.build(schema._schema, parse(document), None,
                                      {"principal": principal, "model": None}, variables or {"after": None}, None)
    assert isinstance(executor, LeafFastExecutor)
    result = executor.build_per_event_executor(payload).execute_operation(False)
    assert not result.errors, result.errors
    return result.data


def test_subscribers_with_the_same_document_and_visibility_share_one_answer_per_update() -> None:
    payload = update(101)
    first = answer(OFFICER, payload, variables={"after": "cursor-a"})
    second = answer(ANOTHER_OFFICER, payload, variables={"after": "cursor-b", "kinds": ["PROGRESS_REPORTED"]})
    assert second is first  # one execution: the same answer object, encoded once (CachingGraphQLRouter.encode_json)
    assert first["updates"]["title"] == "Worcester Woods" and first["updates"]["cursor"] == "c101"


def test_a_shared_answer_is_the_one_a_subscriber_computes_alone() -> None:
    payload = update(102)
    shared = answer(OFFICER, payload)
    alone = answer(COORDINATOR, payload)  # another visibility: its own execution
    assert alone is not shared and alone == shared


def test_the_next_update_is_executed_afresh() -> None:
    assert answer(OFFICER, update(103, "Old title"))["updates"]["title"] == "Old title"
    assert answer(OFFICER, update(104, "New title"))["updates"]["title"] == "New title"


def test_a_variable_used_under_the_subscribed_field_separates_the_answers() -> None:
    document = ("subscription($after: String, $withTitle: Boolean!) { updates(after: $after) { cursor "
                "title @include(if: $withTitle) } }")
    payload = update(105)
    with_title = answer(OFFICER, payload, document, {"after": None, "withTitle": True})
    without = answer(OFFICER, payload, document, {"after": None, "withTitle": False})
    assert with_title == {"updates": {"cursor": "c105", "title": "Worcester Woods"}}
    assert without == {"updates": {"cursor": "c105"}}


def test_the_router_writes_a_shared_answer_as_each_subscribers_own_next_message() -> None:
    import json

    from services.reporting.graphql import CachingGraphQLRouter
    from services.reporting.graphql_cache import ResponseCache

    router = CachingGraphQLRouter(schema, model=None, cache=ResponseCache(0, frozenset()))  # type: ignore[arg-type]
    shared = answer(OFFICER, update(106, 'A "quoted" title'))
    for operation in ("1", "op-2", 'odd"id'):
        message = {"id": operation, "type": "next", "payload": {"data": shared}}
        assert json.loads(router.encode_json(message)) == message
    with_errors = {"id": "1", "type": "next", "payload": {"data": None, "errors": [{"message": "no"}]}}
    assert json.loads(router.encode_json(with_errors)) == with_errors
