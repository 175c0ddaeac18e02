"""Pure parts of the reporting service: keyset cursors, query cost, trajectories, direction of travel, charts."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from graphql import parse, validate

from services.reporting.charts import trajectory_chart
from services.reporting.graphql import schema
from services.reporting.graphql_common import GatewayError, paginate
from services.reporting.graphql_limits import QueryLimits
from services.reporting.packs import IMPROVING, WORSENING, Series, _direction


def _errors(query: str) -> list[str]:
    found = validate(schema._schema, parse(query), [QueryLimits])
    return [e.extensions["code"] for e in found if e.extensions]


def test_a_page_continues_after_its_cursor_even_when_rows_were_added_before_it() -> None:
    rows = [{"k": f"{n:02d}"} for n in range(10)]
    first = paginate(rows, lambda r: (r["k"],), lambda r: r["k"], 4, None)
    assert first.nodes() == ["00", "01", "02", "03"] and first.page_info.has_next_page
    grown = [{"k": "00a"}, *rows]  # a row added before the page boundary
    second = paginate(grown, lambda r: (r["k"],), lambda r: r["k"], 4, first.page_info.end_cursor)
    assert second.nodes() == ["04", "05", "06", "07"]


def test_a_cursor_that_was_not_given_out_is_bad_input() -> None:
    with pytest.raises(GatewayError) as refused:
        paginate([], lambda r: (r,), lambda r: r, 5, "!!not-a-cursor")
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_nested_lists_multiply_the_cost_and_a_small_page_keeps_it_down() -> None:
    assert _errors("{ objectiveTree { children { children { children { children { title } } } } } }") == [
        "QUERY_TOO_COSTLY"]
    assert _errors("{ objectiveTree { children { targets { metric } } } }") == []
    assert _errors("{ objectivesConnection(first: 500) { edges { node { children { children { title } } } } } }"
                   ) == ["QUERY_TOO_COSTLY"]
    assert _errors("{ objectivesConnection(first: 5) { edges { node { children { children { title } } } } } }") == []


def test_a_query_nested_deeper_than_ten_levels_is_refused() -> None:
    deep = "{ objectiveTree { " + "children { " * 10 + "title" + " }" * 10 + " } }"
    assert _errors(deep) == ["QUERY_TOO_DEEP"]


def _series(points: list[tuple[date, int]]) -> Series:
    return Series(label="Worcester", unit="jobs", baseline_date=date(2012, 1, 1), deadline=date(2014, 1, 1),
                  goal=Decimal(1000), points=[(d, Decimal(v)) for d, v in points], actual=Decimal(0),
                  expected=Decimal(0), rag=None, direction=None, district="worcester")


def test_the_trajectory_runs_straight_from_the_baseline_to_the_goal_at_the_deadline() -> None:
    series = _series([])
    assert series.trajectory_at(date(2011, 6, 1)) == 0
    assert series.trajectory_at(date(2013, 1, 1)) == Decimal("500.7")  # 366 of 731 days
    assert series.trajectory_at(date(2015, 1, 1)) == 1000


def test_direction_of_travel_compares_actual_against_trajectory_with_the_previous_pack() -> None:
    closing = _series([(date(2012, 7, 1), 100), (date(2013, 1, 1), 480)])
    assert _direction(closing, date(2012, 7, 1), date(2013, 1, 1)) == IMPROVING
    slipping = _series([(date(2012, 7, 1), 240), (date(2013, 1, 1), 300)])
    assert _direction(slipping, date(2012, 7, 1), date(2013, 1, 1)) == WORSENING


def test_a_chart_draws_the_trajectory_the_actual_line_and_a_point_per_report() -> None:
    series = _series([(date(2012, 7, 1), 100), (date(2013, 1, 1), 480)])
    series.direction, series.rag = IMPROVING, "amber"
    svg = trajectory_chart(series, date(2013, 1, 1), "c1")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="trajectory"') == 1 and svg.count('class="actual"') == 1
    assert svg.count('class="report"') == 2 and 'class="direction improving"' in svg


def test_too_many_aliases_are_refused_every_time_though_validation_is_cached() -> None:
    many = "{ " + " ".join(f"a{n}: districts {{ id }}" for n in range(31)) + " }"
    fine = "{ " + " ".join(f"a{n}: districts {{ id }}" for n in range(30)) + " }"
    for _ in range(2):  # the second time the validation comes from the cache
        refused = asyncio.run(schema.execute(many, context_value={}))
        assert refused.errors and "31 aliases found" in refused.errors[0].message
        assert not any("aliases" in e.message for e in asyncio.run(schema.execute(fine, context_value={})).errors or [])
