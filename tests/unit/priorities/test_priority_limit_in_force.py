"""The limit on agreed priorities is a rule of record (#23): when the board lowers it from five to three by a
decision of 1 September 2011, a district's fourth agreement dated after that is refused, while agreements dated
before it stand, a fourth included, and are still shown as resolving (the audit's re-check of each decision)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from services.priorities.application import PrioritiesApplication
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.contracts.tasking import PriorityLimitChanged
from shared.decisions import problems_of
from shared.errors import RuleViolated
from shared.eventstore import CommandContext
from tests.copies import BOARD_TABLE, TaskingFeed, board_meeting
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "c-1")
WYCHAVON = CommandContext(Actor("coord-1", "wychavon-dc", "district_coordinator"), "c-2")
PARTNERS = ["wychavon-dc", "worcester-college", "vcs-alliance"]
LOWERED_ON = date(2011, 9, 1)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[PrioritiesApplication]:
    application = PrioritiesApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def test_a_lowered_priority_limit_refuses_a_later_agreement_and_keeps_the_earlier_ones(
        app: PrioritiesApplication) -> None:
    feed = TaskingFeed(app.local)
    for organisation in PARTNERS:
        feed.seat("wychavon", organisation)
    scs = app.add_objective(OFFICER, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                            strategy="Sustainable Community Strategy",
                            decision=board_meeting(app.local, date(2011, 3, 15), "Adopted"))

    def agreed_on(day: date, title: str) -> Decision:
        priority = app.propose_priority(WYCHAVON, district="wychavon", title=title, rationale="Evidence",
                                        objective_id=scs.id)
        decision = Decision(**feed.meeting("wychavon", day, PARTNERS, f"Agree {title}"))
        app.agree_priority(WYCHAVON, priority, expected_version=1, decision=decision)
        return decision

    earlier = [agreed_on(date(2011, 6, d), f"Priority {d}") for d in (1, 2, 3, 4)]  # four of five, in June
    assert app.priority_limit_on(date(2011, 8, 31)) == 5
    for organisation in BOARD_TABLE:
        feed.seat("worcestershire-partnership", organisation)
    board = Decision(**feed.meeting("worcestershire-partnership", LOWERED_ON, BOARD_TABLE, "Three is enough"))
    feed.partnership_change(2, PriorityLimitChanged(
        actor=OFFICER.actor, correlation_id="c", decision=board, max_agreed_priorities_per_district=3,
        previous_max_agreed_priorities_per_district=5))
    assert (app.priority_limit_on(date(2011, 8, 31)), app.priority_limit_on(LOWERED_ON)) == (5, 3)

    late = app.propose_priority(WYCHAVON, district="wychavon", title="A fifth, after", rationale="Evidence",
                                objective_id=scs.id)
    with pytest.raises(RuleViolated, match="3"):
        app.agree_priority(WYCHAVON, late, expected_version=1,
                           decision=Decision(**feed.meeting("wychavon", date(2011, 10, 5), PARTNERS, "Agree")))
    # Back-filled: an agreement dated before the board lowered the limit is held to the limit then (five).
    earlier.append(agreed_on(date(2011, 8, 30), "A fifth, before"))
    chapter = app.chapter("wychavon")
    assert chapter is not None and len(chapter.agreed) == 5
    assert all(problems_of(d, rules=app.rules, meetings=app.meetings) == [] for d in earlier)
