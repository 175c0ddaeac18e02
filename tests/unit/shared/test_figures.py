"""Figures at entry (``shared.fields.Figure``): finite, smaller than 10^15, at most 15 significant digits, declared
once and published in every command's JSON Schema; and no figure accepted makes the scrutiny pack's arithmetic fail."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.priorities.api import SetTarget
from services.projects.bulk import parse_json
from services.reporting.packs import Series, _direction, _rag
from shared.fields import ENTRY_LIMIT, Figure
from shared.partnership import load

OPENAPI = Path(__file__).resolve().parents[3] / "contracts" / "openapi"
FIGURE: TypeAdapter[Decimal] = TypeAdapter(Figure)
TARGET = {"objective_id": "5d1f6a2e-8b4d-4e7f-9a0b-2d4c6e8f1a3b", "metric": "new private-sector jobs",
          "unit": "jobs", "baseline_value": "0", "baseline_date": "2011-04-01", "target_value": "6000",
          "deadline": "2016-03-31", "data_source": "ONS", "owner_organisation": "worcestershire-cc",
          "decision": {"body": "pstg", "decided_on": "2011-04-12", "reason": "Set by the theme group",
                       "meeting_id": "7c0e9f3a-2b1d-4c5e-8f6a-9d0b1c2e3f4a", "meeting_version": 1}}


def _refused_fields(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        SetTarget.model_validate(body)
    return [(".".join(str(part) for part in e["loc"]), e["type"]) for e in refused.value.errors()]


def test_a_target_value_of_1e999999_is_refused() -> None:
    assert _refused_fields({**TARGET, "target_value": "1e999999"}) == [("target_value", "figure_range")]
    assert _refused_fields({**TARGET, "target_value": 1e300}) == [("target_value", "figure_range")]


@pytest.mark.parametrize("value", ["1e15", "-1000000000000000", "1234567890.123456", "0.00000000001", "NaN",
                                   "-Infinity"])
def test_a_figure_outside_the_declared_range_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match=r"figure_range|finite"):
        FIGURE.validate_python(value)


@pytest.mark.parametrize("value", ["999999999999999", "-999999999999999", "12345.1234567891", "0.0000000001", "0"])
def test_a_figure_within_the_range_is_kept_exactly(value: str) -> None:
    assert FIGURE.validate_python(value) == Decimal(value)


def test_a_bulk_uploaded_value_outside_the_range_is_refused_naming_the_outcome() -> None:
    [row] = parse_json(json.dumps([{"project_id": "5d1f6a2e-8b4d-4e7f-9a0b-2d4c6e8f1a3b", "reported_on": "2013-04-01",
                                    "outcome_id": "jobs", "value": "1e999999", "narrative": "n"}]))
    assert row.reasons == ["The value of jobs is out of range: A figure is smaller than 10^15 in size."]


def _commands(document: dict[str, Any]) -> set[str]:
    """The schemas named by a request body, directly or through a property."""
    named: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                named |= set(_refs(media["schema"]))
    schemas = document["components"]["schemas"]
    pending = list(named)
    while pending:
        for ref in _refs(schemas[pending.pop()]):
            if ref not in named:
                named.add(ref)
                pending.append(ref)
    return named


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _numbers(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        found = [(where, node)] if node.get("type") in ("number", "integer") else []
        return found + [n for key, value in node.items() for n in _numbers(value, f"{where}.{key}")]
    if isinstance(node, list):
        return [n for index, value in enumerate(node) for n in _numbers(value, f"{where}[{index}]")]
    return []


def test_every_number_of_every_command_is_bounded_in_its_published_schema() -> None:
    checked = 0
    for path in sorted(OPENAPI.glob("*.json")):
        document = json.loads(path.read_text())
        schemas = document["components"]["schemas"]
        for name in sorted(_commands(document)):
            for where, number in _numbers(schemas[name], f"{path.name}:{name}"):
                checked += 1
                assert {"maximum", "exclusiveMaximum"} & number.keys(), where
                assert {"minimum", "exclusiveMinimum"} & number.keys(), where
    assert checked > 10  # the walk found the commands' numbers


def test_a_figure_sent_as_text_is_published_with_its_pattern() -> None:
    document = json.loads((OPENAPI / "priorities.json").read_text())
    target_value = document["components"]["schemas"]["SetTarget"]["properties"]["target_value"]
    [text] = [branch for branch in target_value["anyOf"] if branch["type"] == "string"]
    assert text["pattern"] == "^-?[0-9]{1,15}(\\.[0-9]{1,10})?$"
    [number] = [branch for branch in target_value["anyOf"] if branch["type"] == "number"]
    assert number["exclusiveMaximum"] == float(ENTRY_LIMIT)


def test_today_is_the_partnerships_date_in_its_time_zone() -> None:
    definition = load()
    assert definition.time_zone == "Europe/London"
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time)
    assert definition.calendar(lambda: datetime(2013, 6, 30, 23, 30, tzinfo=UTC))() == date(2013, 7, 1)
    assert definition.calendar(lambda: datetime(2013, 12, 31, 23, 30, tzinfo=UTC))() == date(2013, 12, 31)


_FIGURES = st.decimals(min_value=-ENTRY_LIMIT + 1, max_value=ENTRY_LIMIT - 1, places=4, allow_nan=False,
                       allow_infinity=False).filter(lambda d: abs(d) < ENTRY_LIMIT and len(d.as_tuple().digits) <= 15)
_DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=150, deadline=None)
@given(goal=_FIGURES, reports=st.lists(st.tuples(_DAYS, _FIGURES), max_size=6), baseline=_DAYS,
       span=st.integers(min_value=0, max_value=9000), start=_DAYS, end=_DAYS)
def test_no_accepted_figure_makes_the_packs_arithmetic_fail(goal: Decimal, reports: list[tuple[date, Decimal]],
                                                            baseline: date, span: int, start: date,
                                                            end: date) -> None:
    goal, points = FIGURE.validate_python(goal), sorted((d, FIGURE.validate_python(v)) for d, v in reports)
    deadline = date.fromordinal(min(baseline.toordinal() + span, date(9999, 12, 31).toordinal()))
    series = Series(label="jobs", unit="jobs", baseline_date=baseline, deadline=deadline, goal=goal, points=points,
                    actual=Decimal(0), expected=Decimal(0), rag=None, direction=None)
    series.actual, series.expected = series.actual_at(end), series.trajectory_at(end)
    assert _rag(series, end, load()) in (None, "green", "amber", "red")
    assert series.judged(end, load()).status in ("green", "amber", "red", "stale")
    assert _direction(series, min(start, end), max(start, end)) in (None, "improving", "worsening", "steady")
