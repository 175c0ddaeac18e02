"""The gateway's executor: objects of plain leaves take a shorter path, and the answers (data and errors, with
their paths) are exactly the general executor's, including when a leaf is an error."""

from __future__ import annotations

import asyncio
import enum
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import strawberry

from services.reporting.graphql_execution import LeafFastExecutor


@strawberry.enum
class Rag(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Project:
    title: str
    rag: Rag | None
    contribution: Decimal
    opened_on: date
    score: int | None  # a test puts a value here that Int cannot represent

    @strawberry.field
    def shouted(self) -> str:
        return self.title.upper()


@strawberry.type
class Share:
    district: str
    projects: list[Project | None]  # so that a project's error nulls the project only


def _projects() -> list[Project]:
    return [Project(title=f"project {n}", rag=Rag.RED if n % 2 else None, contribution=Decimal(n) / 3,
                    opened_on=date(2024, 1, n + 1), score=n) for n in range(5)]


@strawberry.type
class Query:
    @strawberry.field
    def shares(self) -> list[Share]:
        return [Share(district=d, projects=[*_projects()]) for d in ("worcester", "wychavon")]

    @strawberry.field
    def gaps(self) -> list[Share]:
        first, *_, last = _projects()
        return [Share(district="worcester", projects=[first, None, last])]

    @strawberry.field
    def holes(self) -> list[Project] | None:
        return [*_projects()[:2], None, *_projects()[2:]]  # type: ignore[list-item]  # null where none may be

    @strawberry.field
    def broken(self) -> list[Share]:
        projects = _projects()
        projects[1].title = None  # type: ignore[assignment]  # a null in a non-null field
        projects[3].score = "many"  # type: ignore[assignment]  # not an Int
        return [Share(district="worcester", projects=[*projects])]


fast = strawberry.Schema(query=Query, execution_context_class=LeafFastExecutor)
plain = strawberry.Schema(query=Query)

QUERIES = [
    "{ shares { district projects { title rag contribution openedOn score } } }",
    "{ shares { __typename d: district projects { t: title, title __typename } } }",
    "{ shares { projects { title shouted } } }",  # a resolver among the leaves: the general path
    "fragment P on Project { title rag } { shares { projects { ...P ... on Project { contribution } } } }",
    "query($all: Boolean!) { shares { projects { title rag @include(if: $all) score @skip(if: $all) } } }",
    "{ broken { projects { title score } } }",  # a non-null error nulls the project; the bad Int is an error
    "{ broken { projects { score } } }",
    "{ gaps { projects { title } } }",  # a null item where items may be null
    "{ holes { title } }",  # a null item where none may be: an error, the list is null
    "{ shares { projects { title } } broken { projects { rag } } }",
]


def _run(schema: strawberry.Schema, query: str) -> tuple[Any, list[tuple[str, Any]]]:
    result = asyncio.run(schema.execute(query, variable_values={"all": True}))
    return result.data, sorted((e.message, e.path) for e in result.errors or [])


@pytest.mark.parametrize("query", QUERIES)
def test_the_fast_path_answers_exactly_as_the_general_executor(query: str) -> None:
    assert _run(fast, query) == _run(plain, query)


def test_errors_in_leaves_are_reported_at_their_field() -> None:
    data, errors = _run(fast, "{ broken { projects { title score } } }")
    assert data["broken"][0]["projects"][1] is None  # a null title nulls its project
    assert data["broken"][0]["projects"][3] == {"title": "project 3", "score": None}
    assert [path for _, path in errors] == [["broken", 0, "projects", 1, "title"],
                                            ["broken", 0, "projects", 3, "score"]]


class _CountingFields(LeafFastExecutor):
    """Counts the fields resolved one by one (each gets a resolve-info record)."""

    resolved = 0

    def build_resolve_info(self, *args: Any) -> Any:
        _CountingFields.resolved += 1
        return super().build_resolve_info(*args)


def test_only_objects_of_plain_leaves_skip_the_field_by_field_path() -> None:
    counting = strawberry.Schema(query=Query, execution_context_class=_CountingFields)
    asyncio.run(counting.execute("{ shares { district projects { title rag contribution openedOn score } } }"))
    # shares, then each share's district and projects; none of the 2 x 5 projects' 25 leaves one by one
    assert _CountingFields.resolved == 1 + 2 * 2
    _CountingFields.resolved = 0
    asyncio.run(counting.execute("{ shares { projects { title shouted } } }"))
    assert _CountingFields.resolved == 1 + 2 + 2 * 5 * 2  # a resolver among the leaves: every field on its own
