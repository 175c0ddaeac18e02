"""District priorities: proposed by a district for its own place, agreed by its board, at most N agreed at once."""

from __future__ import annotations

from datetime import date

import pytest

from services.priorities.domain import (
    DistrictChapter,
    DistrictPriority,
    ScsReview,
    agree_priority,
    reconfirm_priority,
    retire_priority,
)
from shared.contracts import Decision
from shared.contracts.priorities import PriorityStatus, chapter_id
from shared.errors import InvalidCommand, RuleViolated
from tests.unit.priorities.builders import BOARD, OFFICER, WORCESTER, jobs_objective

LIMIT = 5


def _propose(title: str = "Jobs in the city centre") -> DistrictPriority:
    return DistrictPriority.propose(WORCESTER, district="worcester", title=title,
                                    rationale="Unemployment in the city is above the county's",
                                    objective=jobs_objective(), evidence_refs=["JSA claimants 2010"])


def _chapter_with(count: int) -> tuple[DistrictChapter, list[DistrictPriority]]:
    chapter = DistrictChapter.open(WORCESTER, district="worcester")
    agreed = []
    for n in range(count):
        priority = _propose(f"Priority {n + 1}")
        agree_priority(WORCESTER, priority, chapter, decision=BOARD, limit=LIMIT)
        agreed.append(priority)
    return chapter, agreed


def test_a_proposed_priority_awaits_its_districts_board() -> None:
    # Who may propose for which district is ``services.priorities.permissions`` (tests/unit/priorities/
    # test_permissions.py): the domain keeps the partnership's rules.
    assert _propose().status is PriorityStatus.PROPOSED


def test_a_priority_needs_a_title_and_a_rationale() -> None:
    with pytest.raises(InvalidCommand) as refused:
        DistrictPriority.propose(WORCESTER, district="worcester", title=" ",
                                 rationale="", objective=jobs_objective())
    assert sorted(p["field"] for p in refused.value.problems) == ["rationale", "title"]


def test_the_district_chapter_has_one_id_per_district() -> None:
    chapter = DistrictChapter.open(WORCESTER, district="worcester")
    assert chapter.id == chapter_id("worcester") != chapter_id("redditch")


def test_agreeing_a_priority_is_a_decision_of_the_district_board() -> None:
    chapter = DistrictChapter.open(WORCESTER, district="worcester")
    priority = _propose()
    with pytest.raises(InvalidCommand):
        agree_priority(WORCESTER, priority, chapter, decision=None, limit=LIMIT)
    agree_priority(WORCESTER, priority, chapter, decision=BOARD, limit=LIMIT)
    assert priority.status is PriorityStatus.AGREED
    assert list(chapter.agreed) == [priority.id]


def test_a_district_cannot_agree_more_than_five_priorities() -> None:
    chapter, agreed = _chapter_with(LIMIT)
    sixth = _propose("A sixth priority")
    version = chapter.version
    with pytest.raises(RuleViolated) as refused:
        agree_priority(WORCESTER, sixth, chapter, decision=BOARD, limit=LIMIT)
    assert "already keeps 5 agreed priorities" in refused.value.message
    assert all(f"'{p.title}'" in refused.value.message for p in agreed)
    assert [p["title"] for p in refused.value.details["current_priorities"]] == [p.title for p in agreed]
    assert chapter.version == version and sixth.status is PriorityStatus.PROPOSED


def test_the_limit_comes_from_the_partnership_definition() -> None:
    chapter, _ = _chapter_with(2)
    with pytest.raises(RuleViolated):
        agree_priority(WORCESTER, _propose(), chapter, decision=BOARD, limit=2)


def test_retiring_a_priority_frees_a_place() -> None:
    chapter, agreed = _chapter_with(LIMIT)
    retire_priority(WORCESTER, agreed[0], chapter, None, decision=BOARD)
    assert agreed[0].status is PriorityStatus.RETIRED
    sixth = _propose("Now there is room")
    agree_priority(WORCESTER, sixth, chapter, decision=BOARD, limit=LIMIT)
    assert len(chapter.agreed) == LIMIT and sixth.id in chapter.agreed


def test_only_a_proposed_priority_can_be_agreed_or_rejected_and_only_an_agreed_one_retired() -> None:
    chapter, [agreed] = _chapter_with(1)
    with pytest.raises(RuleViolated):
        agree_priority(WORCESTER, agreed, chapter, decision=BOARD, limit=LIMIT)
    with pytest.raises(RuleViolated):
        agreed.reject(WORCESTER, decision=BOARD)
    proposed = _propose()
    with pytest.raises(RuleViolated):
        retire_priority(WORCESTER, proposed, chapter, None, decision=BOARD)


def test_rejecting_a_priority_is_a_decision_with_a_reason() -> None:
    priority = _propose()
    with pytest.raises(InvalidCommand):
        priority.reject(WORCESTER, decision=None)
    priority.reject(WORCESTER, decision=BOARD)
    assert priority.status is PriorityStatus.REJECTED
    assert priority.collect_events()[-1].reason == BOARD.reason  # type: ignore[attr-defined]


# -- the SCS review cycle ---------------------------------------------------------------------------------------------

REVIEW = Decision(body="worcestershire-partnership", decided_on=date(2013, 3, 1), reason="Three-yearly SCS review")


def test_an_scs_review_closes_only_when_every_agreed_priority_is_reconfirmed_or_retired() -> None:
    chapter, (keep, drop) = _chapter_with(2)
    review = ScsReview.open(OFFICER, number=1, previous=None, agreed_priorities=list(chapter.agreed),
                            decision=REVIEW)
    with pytest.raises(RuleViolated) as refused:
        review.close(OFFICER, decision=REVIEW)
    assert "2 agreed priorities are still" in refused.value.message
    reconfirm_priority(WORCESTER, keep, review, decision=BOARD)
    with pytest.raises(RuleViolated):
        review.close(OFFICER, decision=REVIEW)
    retire_priority(WORCESTER, drop, chapter, review, decision=BOARD)
    review.close(OFFICER, decision=REVIEW)
    assert not review.is_open


def test_a_priority_is_reconfirmed_once_per_review_and_only_while_it_is_open() -> None:
    chapter, [priority] = _chapter_with(1)
    review = ScsReview.open(OFFICER, number=1, previous=None, agreed_priorities=list(chapter.agreed),
                            decision=REVIEW)
    reconfirm_priority(WORCESTER, priority, review, decision=BOARD)
    with pytest.raises(RuleViolated):
        reconfirm_priority(WORCESTER, priority, review, decision=BOARD)
    review.close(OFFICER, decision=REVIEW)
    with pytest.raises(RuleViolated):
        review.close(OFFICER, decision=REVIEW)


def test_only_one_scs_review_is_open_at_a_time() -> None:
    first = ScsReview.open(OFFICER, number=1, previous=None, agreed_priorities=[], decision=REVIEW)
    with pytest.raises(RuleViolated):
        ScsReview.open(OFFICER, number=2, previous=first, agreed_priorities=[], decision=REVIEW)
    first.close(OFFICER, decision=REVIEW)
    second = ScsReview.open(OFFICER, number=2, previous=first, agreed_priorities=[], decision=REVIEW)
    assert second.id != first.id
