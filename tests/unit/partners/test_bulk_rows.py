"""Bulk progress rows are parsed one by one, each problem noted against its row in plain words."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from services.projects.bulk import parse_csv, parse_json
from shared.errors import InvalidCommand

PROJECT = "0b6f9a52-5d1e-4c5e-9a43-0e1f3c2b7d11"


def test_a_csv_row_is_one_outcome_value_of_one_project_at_a_date() -> None:
    rows = parse_csv("\ufeffproject_id,reported_on,outcome_id,value,narrative,expected_version\n"
                     f"{PROJECT},2013-04-01,jobs,150,Cohort 1 placed,3\n")
    assert len(rows) == 1 and not rows[0].reasons
    assert rows[0].reported_on == date(2013, 4, 1) and rows[0].values == {"jobs": Decimal(150)}
    assert rows[0].expected_version == 3 and rows[0].correction is False


def test_every_problem_of_a_row_is_named() -> None:
    rows = parse_csv("project_id,reported_on,outcome_id,value,narrative,correction\n"
                     "not-an-id,01/04/2013,jobs,many,x,perhaps\n")
    assert rows[0].reasons == ["project_id is not a project id (a UUID).", "reported_on is not a date (YYYY-MM-DD).",
                               "The value of jobs is not a number.", "correction is true or false."]


def test_a_csv_without_a_required_column_is_refused_whole() -> None:
    with pytest.raises(InvalidCommand, match="value"):
        parse_csv("project_id,reported_on,outcome_id,narrative\n")


def test_a_csv_with_an_unknown_column_is_refused_whole() -> None:
    with pytest.raises(InvalidCommand, match="valu"):
        parse_csv("project_id,reported_on,outcome_id,value,narrative,valu\n")


def test_a_json_row_may_report_several_outcomes_and_refuses_unknown_fields() -> None:
    rows = parse_json(json.dumps({"rows": [
        {"project_id": PROJECT, "reported_on": "2013-04-01", "values": {"jobs": "150", "trained": 40},
         "narrative": "ok"},
        {"project_id": PROJECT, "reported_on": "2013-04-01", "outcome_id": "jobs", "value": 1, "narrative": "ok",
         "colour": "red"},
        7,
    ]}))
    assert rows[0].values == {"jobs": Decimal(150), "trained": Decimal(40)} and not rows[0].reasons
    assert rows[1].reasons == ["Unknown field colour."]
    assert rows[2].reasons == ["A row is an object."]


def test_a_body_that_is_not_json_is_refused_whole() -> None:
    with pytest.raises(InvalidCommand, match="not JSON"):
        parse_json("{rows: ")
