"""SMART targets: a target with anything missing or incoherent is refused, with one message per problem."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.priorities.domain import Target, TargetTerms, target_problems
from shared.errors import InvalidCommand, RuleViolated
from shared.measures import UNIT_RANGES
from tests.unit.priorities.builders import BOARD, OFFICER, jobs_objective, jobs_terms, rules


def _fields(error: InvalidCommand) -> list[str]:
    return [p["field"] for p in error.problems]


def test_the_worked_example_target_is_smart() -> None:
    objective = jobs_objective()
    target = Target.set(OFFICER, objective=objective, terms=jobs_terms(), rules=rules())
    assert target.objective_id == objective.id
    assert target.terms.target_value == Decimal(6000)
    event = target.collect_events()[0]
    assert event.actor == OFFICER.actor and event.correlation_id == OFFICER.correlation_id  # type: ignore[attr-defined]


def test_a_deadline_not_after_the_baseline_date_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(deadline=date(2011, 4, 1)), rules=rules())
    assert _fields(refused.value) == ["deadline"]
    assert "must be after the baseline date (2011-04-01)" in refused.value.problems[0]["message"]


def test_a_target_equal_to_its_baseline_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(target_value=Decimal("0.00")),
                   rules=rules())
    assert _fields(refused.value) == ["target_value"]
    assert "equals the baseline" in refused.value.message


def test_an_unknown_unit_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(unit="widgets"), rules=rules())
    assert _fields(refused.value) == ["unit"]
    assert "'widgets' is not a unit" in refused.value.message and "jobs" in refused.value.message


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(baseline_value=Decimal(-5)), rules=rules())
    assert _fields(refused.value) == ["baseline_value"]
    assert "cannot be negative" in refused.value.message


def test_a_money_target_may_start_from_a_deficit() -> None:
    terms = jobs_terms(unit="GBP", baseline_value=Decimal(-250000), target_value=Decimal(0))
    assert target_problems(terms, rules()) == []


def test_a_missing_owner_and_data_source_are_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(owner_organisation=" ", data_source=""),
                   rules=rules())
    assert sorted(_fields(refused.value)) == ["data_source", "owner_organisation"]


def test_an_owner_who_is_not_a_partner_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(owner_organisation="acme-ltd"),
                   rules=rules())
    assert "'acme-ltd' is not a partner organisation" in refused.value.message


def test_every_problem_is_reported_at_once() -> None:
    terms = jobs_terms(metric="", unit="widgets", deadline=date(2010, 1, 1), data_source="", owner_organisation="")
    problems = target_problems(terms, rules())
    assert sorted(p["field"] for p in problems) == ["data_source", "deadline", "metric", "owner_organisation",
                                                    "unit"]


def test_no_target_may_be_set_on_a_retired_objective() -> None:
    objective = jobs_objective()
    objective.retire(OFFICER, decision=BOARD)
    with pytest.raises(InvalidCommand) as refused:
        Target.set(OFFICER, objective=objective, terms=jobs_terms(), rules=rules())
    assert _fields(refused.value) == ["objective_id"]


def test_revising_a_target_needs_a_decision_and_keeps_the_old_values_in_history() -> None:
    target = Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(), rules=rules())
    with pytest.raises(InvalidCommand):
        target.revise(OFFICER, terms=jobs_terms(target_value=Decimal(5000)), rules=rules(), decision=None)
    target.revise(OFFICER, terms=jobs_terms(target_value=Decimal(5000)), rules=rules(), decision=BOARD)
    events = target.collect_events()
    assert [type(e).__name__ for e in events] == ["Set", "Revised"]
    assert events[0].target_value == Decimal(6000)  # type: ignore[attr-defined]
    assert events[1].decision == BOARD and target.terms.target_value == Decimal(5000)  # type: ignore[attr-defined]


def test_a_revision_must_still_be_smart_and_change_something() -> None:
    target = Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(), rules=rules())
    with pytest.raises(InvalidCommand):
        target.revise(OFFICER, terms=jobs_terms(), rules=rules(), decision=BOARD)
    with pytest.raises(InvalidCommand):
        target.revise(OFFICER, terms=jobs_terms(deadline=date(2000, 1, 1)), rules=rules(), decision=BOARD)


def test_a_retired_target_cannot_be_revised_or_retired_again() -> None:
    target = Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(), rules=rules())
    target.retire(OFFICER, decision=BOARD)
    with pytest.raises(RuleViolated):
        target.revise(OFFICER, terms=jobs_terms(target_value=Decimal(1)), rules=rules(), decision=BOARD)
    with pytest.raises(RuleViolated):
        target.retire(OFFICER, decision=BOARD)


# -- properties ------------------------------------------------------------------------------------------------------

_units = st.sampled_from(sorted(rules().units))
_amounts = st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=2)
_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
# A fixed alphabet (letters, digits, punctuation, accents) keeps generation fast and still exercises odd names.
_text = st.text(alphabet="abcxyzABCXYZ 0123456789-'&,.éü£", min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@st.composite
def _smart_terms(draw: st.DrawFn) -> TargetTerms:
    unit = draw(_units)
    floor, ceiling = UNIT_RANGES.get(unit, (None if unit == "GBP" else 0, 10**9))  # the range its unit declares
    baseline = draw(st.decimals(min_value=floor, max_value=ceiling, allow_nan=False, allow_infinity=False, places=2))
    target = draw(st.decimals(min_value=floor, max_value=ceiling, allow_nan=False, allow_infinity=False, places=2)
                  .filter(lambda v: v != baseline))
    baseline_date = draw(_dates)
    deadline = baseline_date + timedelta(days=draw(st.integers(min_value=1, max_value=3650)))
    return TargetTerms(metric=draw(_text), unit=unit, baseline_value=baseline, baseline_date=baseline_date,
                       target_value=target, deadline=deadline, data_source=draw(_text),
                       owner_organisation=draw(st.sampled_from(sorted(rules().organisations))))


@given(_smart_terms())
def test_every_coherent_target_is_accepted(terms: TargetTerms) -> None:
    assert target_problems(terms, rules()) == []


@given(_smart_terms(), _dates)
def test_any_deadline_on_or_before_the_baseline_date_is_refused(terms: TargetTerms, deadline: date) -> None:
    if deadline > terms.baseline_date:
        deadline = terms.baseline_date
    problems = target_problems(TargetTerms(**{**vars(terms), "deadline": deadline}), rules())
    assert [p["field"] for p in problems] == ["deadline"]


@given(_smart_terms())
def test_any_target_equal_to_its_baseline_is_refused(terms: TargetTerms) -> None:
    problems = target_problems(TargetTerms(**{**vars(terms), "target_value": terms.baseline_value}), rules())
    assert [p["field"] for p in problems] == ["target_value"]


@given(_smart_terms(), _text)
def test_any_unit_outside_the_partnership_definition_is_refused(terms: TargetTerms, unit: str) -> None:
    problems = target_problems(TargetTerms(**{**vars(terms), "unit": unit}), rules())
    fields = [p["field"] for p in problems]
    assert ("unit" in fields) == (unit not in rules().units)


@given(_smart_terms(), st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False, places=2))
def test_any_negative_value_of_a_count_is_refused(terms: TargetTerms, negative: Decimal) -> None:
    counted = TargetTerms(**{**vars(terms), "unit": "jobs", "target_value": negative})
    problems = target_problems(counted, rules())
    assert "target_value" in [p["field"] for p in problems]
    assert all(p["message"] for p in problems)


@given(_smart_terms(), st.sampled_from(["metric", "data_source", "owner_organisation"]))
def test_any_blank_essential_is_refused_on_its_own_field(terms: TargetTerms, field: str) -> None:
    problems = target_problems(TargetTerms(**{**vars(terms), field: "  "}), rules())
    assert [p["field"] for p in problems] == [field]


@given(_amounts, _amounts)
def test_validation_never_raises_only_reports(baseline: Decimal, target: Decimal) -> None:
    problems = target_problems(jobs_terms(baseline_value=baseline, target_value=target), rules())
    assert all(set(p) == {"field", "message"} for p in problems)
