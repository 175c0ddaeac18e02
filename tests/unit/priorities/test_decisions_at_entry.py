"""Every strategy decision resolves, at entry, to a quorate meeting of a body entitled to take it (or to a scheme
of delegation), judged on priorities' copy of tasking's meetings and memberships."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.priorities.application import PrioritiesApplication
from services.priorities.domain import TargetTerms
from services.priorities.publication import release_performance
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.decisions import DecisionNotValid, MeetingNotYetKnown
from shared.eventstore import CommandContext
from tests.copies import TaskingFeed, board_meeting
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "c-1")
WORCESTER = CommandContext(Actor("coord-1", "worcester-city-council", "district_coordinator"), "c-2")
ALLIANCE = ["worcester-city-council", "worcester-college", "vcs-alliance"]
PSTG = ["worcestershire-cc", "chamber-of-commerce", "worcester-college"]
MAY = date(2011, 5, 18)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[PrioritiesApplication]:
    application = PrioritiesApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


@pytest.fixture
def feed(app: PrioritiesApplication) -> TaskingFeed:
    feed = TaskingFeed(app.local)
    for org in ALLIANCE:
        feed.seat("worcester", org)
    for org in PSTG:
        feed.seat("pstg", org)
    return feed


def adopted(app: PrioritiesApplication) -> Decision:
    """The partnership board's adoption of an SCS objective, at a quorate meeting fed into the copy."""
    return board_meeting(app.local, date(2011, 3, 15), "Adopted by the partnership board")


def decision(fields: dict[str, Any]) -> Decision:
    return Decision(**fields)


def proposed(app: PrioritiesApplication) -> Any:
    scs = app.add_objective(OFFICER, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                            strategy="Sustainable Community Strategy", decision=adopted(app))
    return app.propose_priority(WORCESTER, district="worcester", title="Jobs",
                                rationale="Claimant count up by a third", objective_id=scs.id)


def agree(app: PrioritiesApplication, priority: Any, fields: dict[str, Any]) -> Any:
    return app.agree_priority(WORCESTER, priority, expected_version=1, decision=decision(fields))


JOBS = TargetTerms(metric="jobs", unit="jobs", baseline_value=Decimal(0), baseline_date=date(2011, 4, 1),
                   target_value=Decimal(6000), deadline=date(2016, 3, 31), data_source="ONS",
                   owner_organisation="worcestershire-cc")
SIFTED = Decision("worcestershire-partnership", date(2011, 5, 20), "Official statistics",
                  delegation="county-officer-evidence-and-release")


def target(app: PrioritiesApplication, feed: TaskingFeed) -> Any:
    scs = app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS", decision=adopted(app))
    return app.set_target(OFFICER, objective_id=scs.id, terms=JOBS,
                          decision=decision(feed.meeting("pstg", MAY, PSTG, "County target set"))), JOBS


def submitted(app: PrioritiesApplication) -> Any:
    scs = app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS", decision=adopted(app))
    return app.submit_evidence(WORCESTER, district="worcester", title="Claimant count",
                               summary="Up by a third", source="ONS", evidence_date=date(2011, 4, 14),
                               objective_ids=[scs.id])


def test_a_priority_agreed_at_a_quorate_meeting_of_its_district_partnership_is_agreed(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    agreed = agree(app, proposed(app), feed.meeting("worcester", MAY, ALLIANCE))
    assert agreed.status.value == "agreed"


def test_a_priority_agreed_by_a_body_that_does_not_exist_at_a_bogus_meeting_is_refused(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        agree(app, proposed(app), {"body": "no-such-body", "decided_on": MAY, "reason": "Agreed",
                                   "meeting_id": "bogus", "meeting_version": 1})
    assert refused.value.status == 422 and refused.value.problems[0]["field"] == "decision.body"


def test_a_priority_agreed_at_a_meeting_that_was_not_held_is_refused(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    feed.meeting("worcester", MAY, ALLIANCE)  # the copy has Worcester's minute book at entry 1
    made_up = {"body": "worcester", "decided_on": MAY, "reason": "Agreed", "meeting_id": str(uuid.uuid4()),
               "meeting_version": 1}
    with pytest.raises(DecisionNotValid) as refused:
        agree(app, proposed(app), made_up)
    assert (refused.value.code, refused.value.problems[0]["field"]) == ("meeting-not-held", "decision.meeting_id")
    with pytest.raises(DecisionNotValid, match="meeting_version"):
        agree(app, proposed(app), {**made_up, "meeting_version": None})


def test_a_priority_agreed_at_a_meeting_the_copy_has_not_heard_of_yet_is_retried(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    on_its_way = {"body": "worcester", "decided_on": MAY, "reason": "Agreed", "meeting_id": str(uuid.uuid4()),
                  "meeting_version": 1}
    with pytest.raises(MeetingNotYetKnown) as retry:
        agree(app, proposed(app), on_its_way)
    assert retry.value.status == 503


def test_a_priority_is_agreed_by_its_own_district_partnership_only(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        agree(app, proposed(app), feed.meeting("pstg", MAY, PSTG))
    assert refused.value.code == "wrong-body"


def test_a_priority_agreed_at_an_inquorate_meeting_is_refused(app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        agree(app, proposed(app), feed.meeting("worcester", MAY, ALLIANCE[:2]))
    assert refused.value.code == "not-quorate"


def test_quorum_counts_the_members_of_the_meeting_date(app: PrioritiesApplication, feed: TaskingFeed) -> None:
    feed.seat("worcester", "nhs-worcestershire", joined_on=date(2011, 6, 1))  # joined after the May meeting
    feed.seat("worcester", "west-mercia-police", joined_on=date(2010, 4, 1), left_on=date(2011, 5, 1))
    present = [*ALLIANCE[:2], "nhs-worcestershire", "west-mercia-police"]
    with pytest.raises(DecisionNotValid, match="2 member\\(s\\) present, 3 needed"):
        agree(app, proposed(app), feed.meeting("worcester", MAY, present))


def test_a_target_revised_by_a_body_that_does_not_exist_is_refused(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    jobs, terms = target(app, feed)
    with pytest.raises(DecisionNotValid) as refused:
        app.revise_target(OFFICER, jobs.id, expected_version=1, terms=terms,
                          decision=Decision("no-such-body", MAY, "Re-baselined", meeting_id="bogus"))
    assert refused.value.problems[0]["field"] == "decision.body"


def test_a_target_is_revised_at_a_quorate_meeting_of_a_theme_group(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    jobs, terms = target(app, feed)
    revised = TargetTerms(**{**vars(terms), "target_value": Decimal(5000)})
    app.revise_target(OFFICER, jobs.id, expected_version=1, terms=revised,
                      decision=decision(feed.meeting("pstg", MAY, PSTG, "Re-baselined")))
    assert app.target(jobs.id).terms.target_value == 5000


def test_an_scs_review_is_opened_by_the_partnership_board_only(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        app.start_review(OFFICER, decision=decision(feed.meeting("pstg", MAY, PSTG)))
    assert refused.value.code == "wrong-body"


def test_figures_are_released_by_the_board_or_its_officer_under_its_scheme_of_delegation(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    delegated = Decision("worcestershire-partnership", date(2013, 7, 15), "Q1 figures checked",
                         delegation="county-officer-evidence-and-release")
    release_performance(app, OFFICER, starts_on=date(2013, 4, 1), ends_on=date(2013, 6, 30), decision=delegated,
                        today=date(2013, 8, 1))
    with pytest.raises(DecisionNotValid, match="delegates to the partnership_officer"):
        release_performance(app, CommandContext(Actor("pm-1", "worcester-city-council", "programme_manager"), "c"),
                            starts_on=date(2013, 7, 1), ends_on=date(2013, 7, 31), decision=delegated,
                            today=date(2013, 8, 2))
    with pytest.raises(DecisionNotValid) as refused:
        release_performance(app, OFFICER, starts_on=date(2013, 7, 1), ends_on=date(2013, 7, 31),
                            decision=Decision("no-such-body", date(1900, 1, 1), "rejected"), today=date(2013, 8, 2))
    assert refused.value.code == "unknown-body"


def test_a_target_set_without_a_decision_is_refused(app: PrioritiesApplication, feed: TaskingFeed) -> None:
    scs = app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS", decision=adopted(app))
    with pytest.raises(DecisionNotValid) as refused:
        app.set_target(OFFICER, objective_id=scs.id, terms=JOBS, decision=None)
    assert (refused.value.code, refused.value.problems[0]["field"]) == ("decision-required", "decision")


def test_a_target_set_at_a_meeting_that_was_not_held_is_refused(app: PrioritiesApplication, feed: TaskingFeed) -> None:
    scs = app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS", decision=adopted(app))
    feed.meeting("pstg", MAY, PSTG)
    with pytest.raises(DecisionNotValid) as refused:
        app.set_target(OFFICER, objective_id=scs.id, terms=JOBS, decision=Decision(
            "pstg", MAY, "Set", meeting_id=str(uuid.uuid4()), meeting_version=1))
    assert refused.value.code == "meeting-not-held"


def test_evidence_accepted_or_noted_without_a_decision_is_refused(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    evidence = submitted(app)
    with pytest.raises(DecisionNotValid) as refused:
        app.accept_evidence(OFFICER, evidence.id, expected_version=1, decision=None)
    assert refused.value.problems[0]["field"] == "decision"
    with pytest.raises(DecisionNotValid):
        app.note_evidence(OFFICER, evidence.id, expected_version=1, reason="Anecdotal", decision=None)


def test_evidence_is_sifted_by_the_partnership_officer_under_the_county_scheme_of_delegation(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    evidence = submitted(app)
    with pytest.raises(DecisionNotValid) as refused:
        app.accept_evidence(WORCESTER, evidence.id, expected_version=1, decision=SIFTED)
    assert refused.value.code == "not-delegated"
    app.accept_evidence(OFFICER, evidence.id, expected_version=1, decision=SIFTED)
    assert str(app.evidence(evidence.id).status) == "accepted"


def test_an_objective_added_without_a_decision_is_refused(app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS", decision=None)
    assert (refused.value.code, refused.value.problems[0]["field"]) == ("decision-required", "decision")


def test_an_scs_objective_is_adopted_by_the_partnership_board_only(
        app: PrioritiesApplication, feed: TaskingFeed) -> None:
    with pytest.raises(DecisionNotValid) as refused:
        app.add_objective(OFFICER, title="Jobs", level=StrategyLevel.SCS, strategy="SCS",
                          decision=decision(feed.meeting("pstg", MAY, PSTG)))
    assert refused.value.code == "wrong-body"
