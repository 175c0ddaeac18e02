"""Rules of coordination: taskings within the target, lead partners at the table, quorate decisions, retasking."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.tasking.domain import (
    AgreedAction,
    Commitment,
    KnownTarget,
    Meeting,
    Membership,
    MinuteBook,
    Tasking,
    TaskingStatus,
    require_within_target,
)
from shared.contracts import Actor, Decision
from shared.contracts.tasking import CommissioningLevel, MembershipVersion, TaskingRetasked
from shared.errors import InvalidCommand, RuleViolated
from shared.eventstore import CommandContext
from shared.partnership import load

JOINED = dict(joined_on=date(2010, 4, 1), today=date(2011, 6, 1))

DEFINITION = load()
LEAD = CommandContext(Actor("lead-1", "worcestershire-cc", "theme_group_lead"), "corr-1")
COORDINATOR = CommandContext(Actor("coord-1", "worcester-city-council", "district_coordinator"), "corr-2")
JOBS = KnownTarget(id=uuid.uuid4(), metric="New private-sector jobs", unit="jobs", target_value=Decimal(6000),
                   deadline=date(2014, 3, 31))
PSTG = Decision(body="pstg", decided_on=date(2011, 5, 10), reason="Shares of the jobs target agreed",
                meeting_id="m-1", reference="PSTG/11/5")


def member(body: str, organisation: str) -> Membership:
    return Membership.join(LEAD, existing=None, body=body, organisation=organisation, definition=DEFINITION, **JOINED)


def worcester_tasking(share: int = 1200, allocated_elsewhere: int = 0) -> Tasking:
    return Tasking.issue(
        LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(share),
        deadline=date(2013, 3, 31), lead_partner="worcester-city-council",
        commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
        allocated_elsewhere=Decimal(allocated_elsewhere),
        lead_membership=member("worcester", "worcester-city-council"), definition=DEFINITION,
    )


def test_a_theme_group_tasks_a_district_with_a_share_and_one_lead_partner() -> None:
    tasking = worcester_tasking()
    assert (tasking.district, tasking.share, tasking.unit, tasking.lead_partner) == (
        "worcester", Decimal(1200), "jobs", "worcester-city-council")
    assert tasking.status is TaskingStatus.ISSUED
    assert tasking.decision == PSTG


def test_shares_of_one_target_may_not_exceed_the_target_and_the_refusal_gives_the_numbers() -> None:
    with pytest.raises(RuleViolated) as refused:
        worcester_tasking(share=1200, allocated_elsewhere=5000)
    assert "6,200" in refused.value.message and "6,000" in refused.value.message
    assert "1,000" in refused.value.message  # what may still be given
    assert refused.value.details["available"] == "1000"


def test_shares_that_add_up_exactly_to_the_target_are_allowed() -> None:
    require_within_target(JOBS, Decimal(4800), Decimal(1200))


def test_a_share_deadline_may_not_be_after_the_target_deadline() -> None:
    with pytest.raises(InvalidCommand) as refused:
        Tasking.issue(LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(10),
                      deadline=date(2015, 1, 1), lead_partner="worcester-city-council",
                      commissioning_level=CommissioningLevel.COUNTY, decision=PSTG, allocated_elsewhere=Decimal(0),
                      lead_membership=member("worcester", "worcester-city-council"), definition=DEFINITION)
    assert refused.value.problems[0]["field"] == "deadline"


def test_a_share_must_be_more_than_zero() -> None:
    with pytest.raises(InvalidCommand):
        worcester_tasking(share=0)


def test_the_lead_partner_must_be_a_member_of_the_tasked_district_partnership() -> None:
    with pytest.raises(RuleViolated, match="not a member of the worcester district partnership"):
        Tasking.issue(LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(10),
                      deadline=date(2013, 1, 1), lead_partner="wychavon-dc",
                      commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
                      allocated_elsewhere=Decimal(0), lead_membership=None, definition=DEFINITION)


def test_a_partner_who_left_the_table_cannot_lead() -> None:
    seat = member("worcester", "worcester-city-council")
    seat.leave(LEAD, "Stepped down from the partnership", left_on=date(2011, 1, 1), today=date(2011, 6, 1))
    with pytest.raises(RuleViolated):
        Tasking.issue(LEAD, target=JOBS, theme_group="pstg", district="worcester", share=Decimal(10),
                      deadline=date(2013, 1, 1), lead_partner="worcester-city-council",
                      commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
                      allocated_elsewhere=Decimal(0), lead_membership=seat, definition=DEFINITION)


def test_no_tasking_against_a_retired_target() -> None:
    retired = KnownTarget(id=JOBS.id, metric=JOBS.metric, unit="jobs", target_value=Decimal(6000),
                          deadline=JOBS.deadline, retired=True)
    with pytest.raises(RuleViolated, match="retired"):
        Tasking.issue(LEAD, target=retired, theme_group="pstg", district="worcester", share=Decimal(10),
                      deadline=date(2013, 1, 1), lead_partner="worcester-city-council",
                      commissioning_level=CommissioningLevel.DISTRICT, decision=PSTG,
                      allocated_elsewhere=Decimal(0), lead_membership=member("worcester", "worcester-city-council"),
                      definition=DEFINITION)


def test_lifecycle_issued_accepted_in_delivery_completed() -> None:
    tasking = worcester_tasking()
    tasking.accept(COORDINATOR)
    tasking.start_delivery(COORDINATOR)
    tasking.complete(COORDINATOR, Decimal(1150))
    assert tasking.status is TaskingStatus.COMPLETED and tasking.achieved == Decimal(1150)


def test_a_district_declines_with_a_reason_and_its_share_no_longer_counts() -> None:
    tasking = worcester_tasking()
    with pytest.raises(InvalidCommand):
        tasking.decline(COORDINATOR, " ")
    tasking.decline(COORDINATOR, "No industrial land left in the city")
    assert tasking.status is TaskingStatus.DECLINED and not tasking.counts_against_target


def test_a_tasking_is_answered_once() -> None:
    tasking = worcester_tasking()
    tasking.accept(COORDINATOR)
    with pytest.raises(RuleViolated, match="accepted cannot be declined"):
        tasking.decline(COORDINATOR, "changed our mind")


def test_delivery_starts_only_after_acceptance_and_completion_only_in_delivery() -> None:
    tasking = worcester_tasking()
    with pytest.raises(RuleViolated):
        tasking.start_delivery(COORDINATOR)
    with pytest.raises(RuleViolated):
        tasking.complete(COORDINATOR, Decimal(1))


def test_a_withdrawn_tasking_is_final() -> None:
    tasking = worcester_tasking()
    tasking.withdraw(LEAD, "Target re-phased", PSTG)
    assert not tasking.counts_against_target
    with pytest.raises(RuleViolated):
        tasking.accept(COORDINATOR)


def test_moving_part_of_a_share_retasks_the_remainder_and_issues_the_part_retasked_from_it() -> None:
    worcester = worcester_tasking()
    worcester.accept(COORDINATOR)
    moved = worcester.transfer_share(
        LEAD, target=JOBS, decision=PSTG, district="wychavon", lead_partner="wychavon-dc", share=Decimal(200),
        deadline=None, lead_membership=member("wychavon", "wychavon-dc"), definition=DEFINITION)
    assert worcester.share == Decimal(1000) and worcester.status is TaskingStatus.ACCEPTED
    assert (moved.district, moved.share, moved.retasked_from) == ("wychavon", Decimal(200), worcester.id)
    assert moved.status is TaskingStatus.ISSUED and moved.deadline == worcester.deadline
    retasked = worcester.collect_events()[-1]
    assert isinstance(retasked, TaskingRetasked)
    assert (retasked.previous_share, retasked.share, retasked.reason) == (Decimal(1200), Decimal(1000), PSTG.reason)


def test_moving_the_whole_share_is_a_retasking_of_the_district_not_a_transfer() -> None:
    worcester = worcester_tasking()
    with pytest.raises(InvalidCommand):
        worcester.transfer_share(LEAD, target=JOBS, decision=PSTG, district="wychavon", lead_partner="wychavon-dc",
                                 share=Decimal(1200), deadline=None,
                                 lead_membership=member("wychavon", "wychavon-dc"), definition=DEFINITION)


def test_retasking_to_another_district_needs_the_new_district_to_accept_and_keeps_the_previous_values() -> None:
    tasking = worcester_tasking()
    tasking.accept(COORDINATOR)
    tasking.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(0),
                   lead_membership=member("wychavon", "wychavon-dc"), definition=DEFINITION, district="wychavon",
                   lead_partner="wychavon-dc")
    event = tasking.collect_events()[-1]
    assert isinstance(event, TaskingRetasked)
    assert (event.previous_district, event.district) == ("worcester", "wychavon")
    assert tasking.status is TaskingStatus.ISSUED


def test_a_retasked_share_may_not_push_the_total_over_the_target() -> None:
    tasking = worcester_tasking()
    with pytest.raises(RuleViolated, match="6,200"):
        tasking.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(4800), lead_membership=None,
                       definition=DEFINITION, share=Decimal(1400))
    with pytest.raises(InvalidCommand, match="changes nothing"):
        tasking.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(0), lead_membership=None,
                       definition=DEFINITION, share=Decimal(1200))


def test_a_declined_tasking_can_only_be_retasked_to_another_district() -> None:
    tasking = worcester_tasking()
    tasking.decline(COORDINATOR, "No capacity this year")
    with pytest.raises(RuleViolated, match="another district"):
        tasking.retask(LEAD, target=JOBS, decision=PSTG, allocated_elsewhere=Decimal(0), lead_membership=None,
                       definition=DEFINITION, share=Decimal(1000))


def _meeting(present: list[str]) -> Meeting:
    return Meeting.hold(LEAD, body="pstg", held_on=date(2011, 5, 10), present=present, title="PSTG May",
                        definition=DEFINITION)


def test_a_membership_is_in_force_from_joined_on_until_the_day_it_left() -> None:
    seat = member("worcester", "worcester-college")
    assert not seat.in_force_on(date(2010, 3, 31)) and seat.in_force_on(date(2010, 4, 1))
    seat.leave(LEAD, "Merged into another college", left_on=date(2011, 1, 1), today=date(2011, 6, 1))
    assert seat.in_force_on(date(2010, 12, 31)) and not seat.in_force_on(date(2011, 1, 1))
    Membership.join(LEAD, existing=seat, body="worcester", organisation="worcester-college",
                    definition=DEFINITION, joined_on=date(2011, 3, 1), today=date(2011, 6, 1))
    assert seat.in_force_on(date(2010, 6, 1)) and not seat.in_force_on(date(2011, 2, 1))
    assert seat.in_force_on(date(2011, 3, 1))


def test_a_membership_starts_neither_in_the_future_nor_before_it_last_ended() -> None:
    with pytest.raises(InvalidCommand, match="future"):
        Membership.join(LEAD, existing=None, body="pstg", organisation="worcester-college", definition=DEFINITION,
                        joined_on=date(2011, 7, 1), today=date(2011, 6, 1))
    seat = member("pstg", "worcester-college")
    seat.leave(LEAD, "Stepped down", left_on=date(2011, 1, 1), today=date(2011, 6, 1))
    with pytest.raises(InvalidCommand) as refused:
        Membership.join(LEAD, existing=seat, body="pstg", organisation="worcester-college", definition=DEFINITION,
                        joined_on=date(2010, 12, 1), today=date(2011, 6, 1))
    assert refused.value.problems[0]["field"] == "joined_on"


def test_a_meeting_is_entered_in_its_body_minute_book_in_the_order_recorded() -> None:
    first = Meeting.hold(LEAD, body="pstg", held_on=date(2011, 5, 10), present=["worcestershire-cc"], title="May",
                         definition=DEFINITION)
    book = MinuteBook.enter(LEAD, None, first, [MembershipVersion("worcestershire-cc", 1)])
    second = Meeting.hold(LEAD, body="pstg", held_on=date(2011, 4, 12), present=["worcestershire-cc"],
                          title="April, minuted late", definition=DEFINITION)
    assert MinuteBook.enter(LEAD, book, second, []) is book
    assert (book.version, book.entries[first.id], book.entries[second.id]) == (2, 1, 2)
    record = book.record_of(second)
    assert record is not None and (record.entry, record.held_on, record.body) == (2, date(2011, 4, 12), "pstg")


def test_a_partner_joins_once_and_may_rejoin_after_leaving() -> None:
    seat = member("worcester", "worcester-college")
    with pytest.raises(RuleViolated, match="already a member"):
        Membership.join(LEAD, existing=seat, body="worcester", organisation="worcester-college",
                        definition=DEFINITION, **JOINED)
    seat.leave(LEAD, "Merged into another college", left_on=date(2011, 1, 1), today=date(2011, 6, 1))
    again = Membership.join(LEAD, existing=seat, body="worcester", organisation="worcester-college",
                            definition=DEFINITION, joined_on=date(2011, 2, 1), today=date(2011, 6, 1))
    assert again is seat and seat.is_member and seat.version == 3


def test_a_theme_group_nominates_only_its_own_members_to_district_partnerships() -> None:
    with pytest.raises(RuleViolated, match="not a member of Place Shaping Theme Group"):
        Membership.join(LEAD, existing=None, body="worcester", organisation="chamber-of-commerce",
                        definition=DEFINITION, nominated_by="pstg", nominator_membership=None, **JOINED)
    rep = Membership.join(LEAD, existing=None, body="worcester", organisation="chamber-of-commerce",
                          definition=DEFINITION, nominated_by="pstg",
                          nominator_membership=member("pstg", "chamber-of-commerce"), **JOINED)
    assert rep.nominated_by == "pstg"
    with pytest.raises(InvalidCommand):
        Membership.join(LEAD, existing=None, body="pstg", organisation="nhs-worcestershire", definition=DEFINITION,
                        nominated_by="health-theme-group", **JOINED)


def test_unknown_partners_and_bodies_are_refused() -> None:
    with pytest.raises(InvalidCommand):
        member("worcester", "acme-ltd")
    with pytest.raises(InvalidCommand):
        member("atlantis", "worcester-college")


def test_only_county_wide_partners_declare_district_commitments() -> None:
    with pytest.raises(RuleViolated, match="not a county-wide partner"):
        Commitment.declare(LEAD, existing=None, organisation="worcester-college", districts=["worcester"],
                           definition=DEFINITION)
    commitment = Commitment.declare(LEAD, existing=None, organisation="west-mercia-police",
                                    districts=["worcester", "redditch"], definition=DEFINITION)
    assert commitment.districts == ["redditch", "worcester"]
    Commitment.declare(LEAD, existing=commitment, organisation="west-mercia-police", districts=["wychavon"],
                       definition=DEFINITION)
    assert commitment.districts == ["wychavon"]


def test_an_agreed_action_is_overdue_after_its_due_date_until_done() -> None:
    meeting = _meeting(["worcestershire-cc"])
    action = AgreedAction.agree(LEAD, meeting=meeting, description="Map employment land", owner="worcestershire-cc",
                                due_on=date(2011, 6, 30), definition=DEFINITION)
    assert not action.is_overdue(date(2011, 6, 30))
    assert action.is_overdue(date(2011, 7, 1))
    action.mark_done(LEAD, date(2011, 7, 5))
    assert not action.is_overdue(date(2011, 8, 1))
    with pytest.raises(RuleViolated):
        action.mark_done(LEAD, date(2011, 7, 6))


def test_an_action_cannot_fall_due_before_the_meeting_that_agreed_it() -> None:
    with pytest.raises(InvalidCommand):
        AgreedAction.agree(LEAD, meeting=_meeting(["worcestershire-cc"]), description="Too late",
                           owner="worcestershire-cc", due_on=date(2011, 1, 1), definition=DEFINITION)
