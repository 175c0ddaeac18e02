"""Every district the partnership has had, as records name it (``shared.rules_history.districts_of_record``): today's
by today's name, a retired one by the name it had when retired, with the date of the decision that retired it."""

from __future__ import annotations

from datetime import date

from shared.decisions import BodyRule, DistrictRule, RagRule
from shared.rules_history import (
    DistrictAddition,
    DistrictOfRecord,
    DistrictRenaming,
    DistrictRetirement,
    FoundedRules,
    RuleChange,
    RulesOfRecord,
    districts_of_record,
)

FOUNDING = FoundedRules.from_parts(
    date(2010, 4, 1), [BodyRule("wychavon", "Wychavon Partnership", "district_partnership", 3)],
    [DistrictRule("wychavon", "Wychavon", "Wychavon Partnership")], [], RagRule(10, 25), 5)
CHANGES: list[RuleChange] = [  # recorded out of date order: a back-dated decision counts from its date
    DistrictRetirement("pershore", date(2014, 4, 1)),
    DistrictAddition(DistrictRule("pershore", "Pershore", "Pershore Partnership"), 2, date(2012, 4, 1)),
    DistrictRenaming("pershore", "Pershore and Vale", "Vale Partnership", date(2013, 4, 1)),
    DistrictRenaming("wychavon", "Vale of Evesham", "Vale of Evesham Partnership", date(2013, 4, 1)),
]


def test_a_district_added_renamed_and_retired_is_named_by_its_last_name_with_the_day_it_was_retired() -> None:
    today = districts_of_record(FOUNDING, CHANGES, date(2026, 1, 1))
    assert today == {
        "pershore": DistrictOfRecord("pershore", "Pershore and Vale", "Vale Partnership", date(2014, 4, 1)),
        "wychavon": DistrictOfRecord("wychavon", "Vale of Evesham", "Vale of Evesham Partnership")}


def test_before_its_retirement_a_district_is_named_as_on_that_day_and_not_retired() -> None:
    assert districts_of_record(FOUNDING, CHANGES, date(2012, 6, 1))["pershore"] == DistrictOfRecord(
        "pershore", "Pershore", "Pershore Partnership")
    assert districts_of_record(FOUNDING, CHANGES, date(2013, 4, 1))["pershore"].name == "Pershore and Vale"


def test_a_district_not_yet_added_on_the_day_is_not_of_record_then() -> None:
    assert set(districts_of_record(FOUNDING, CHANGES, date(2012, 3, 31))) == {"wychavon"}


def test_the_rules_of_record_answer_the_same_as_the_pure_rule() -> None:
    rules = RulesOfRecord(lambda: FOUNDING, lambda: CHANGES)
    assert rules.districts_of_record(date(2026, 1, 1)) == districts_of_record(FOUNDING, CHANGES, date(2026, 1, 1))


def test_a_body_is_named_as_on_the_day_and_a_retired_district_partnership_by_its_last_name() -> None:
    rules = RulesOfRecord(lambda: FOUNDING, lambda: CHANGES)
    assert rules.body_name("wychavon", date(2013, 3, 31)) == "Wychavon Partnership"
    assert rules.body_name("wychavon", date(2026, 1, 1)) == "Vale of Evesham Partnership"
    assert rules.body_name("pershore", date(2026, 1, 1)) == "Vale Partnership"
    assert rules.body_name("atlantis", date(2026, 1, 1)) is None
