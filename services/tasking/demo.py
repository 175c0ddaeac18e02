"""The seed's worked example (Appendix 4B), coordination part: PSTG tasks Worcester with 1,200 of the 6,000 jobs,
Worcester accepts, and PSTG later moves 200 of them to Wychavon, with the tables and meetings behind each decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from services.tasking.application import TaskingApplication
from services.tasking.domain import Meeting
from shared.contracts import Actor, Decision
from shared.contracts.tasking import CommissioningLevel
from shared.eventstore import CommandContext
from shared.service import WaitFor

OFFICER = CommandContext(Actor("demo-loader", "worcestershire-cc", "partnership_officer"), "demo-data")
PSTG_LEAD = CommandContext(Actor("demo-pstg-lead", "worcestershire-cc", "theme_group_lead"), "demo-data")
WORCESTER = CommandContext(Actor("demo-worcester-coordinator", "worcester-city-council", "district_coordinator"),
                           "demo-data")

TABLES = {
    "worcestershire-partnership": ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire",
                                   "chamber-of-commerce", "vcs-alliance"],
    "pstg": ["worcestershire-cc", "chamber-of-commerce", "worcester-college", "worcester-city-council"],
    "worcester": ["worcester-city-council", "worcester-college", "vcs-alliance", "nhs-worcestershire"],
    "wychavon": ["wychavon-dc", "vcs-alliance", "west-mercia-police", "worcestershire-cc"],
}


JOINED = date(2010, 4, 1)  # the tables as they stood when the partnership moved onto the system

# Meetings of the other services' decisions (priorities and projects learn them from tasking.events): key in the
# demo's ids -> (body, date, title, present).
MEETINGS = {
    "board_march_2011": ("worcestershire-partnership", date(2011, 3, 1), "Partnership board: the SCS agreed",
                         ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire",
                          "chamber-of-commerce"]),
    "pstg_april_2011": ("pstg", date(2011, 4, 12), "PSTG: the County Economic Strategy and its jobs target",
                        ["worcestershire-cc", "chamber-of-commerce", "worcester-college", "worcester-city-council"]),
    "alliance_may_2011": ("worcester", date(2011, 5, 18), "Worcester Alliance board: the city's priorities",
                          ["worcester-city-council", "worcester-college", "vcs-alliance", "nhs-worcestershire"]),
    "alliance_march_2012": ("worcester", date(2012, 3, 20), "Worcester Alliance board: the delivery plan",
                            ["worcester-city-council", "worcester-college", "vcs-alliance"]),
    "alliance_april_2013": ("worcester", date(2013, 4, 24), "Worcester Alliance board: programme review",
                            ["worcester-city-council", "worcester-college", "vcs-alliance", "chamber-of-commerce"]),
}


def at(app: TaskingApplication, meeting: Meeting, reason: str, reference: str | None = None) -> Decision:
    """A decision taken at a meeting tasking recorded: its body, date, id and minute-book entry."""
    return Decision(body=meeting.body, decided_on=meeting.held_on, reason=reason, meeting_id=str(meeting.id),
                    meeting_version=app.meeting_version(meeting), reference=reference)


def load_tables(app: TaskingApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    """First, before any service's demo: who sits at which table, and the meetings every demo decision cites."""
    for body, organisations in TABLES.items():
        for organisation in organisations:
            app.join(OFFICER, body=body, organisation=organisation, joined_on=JOINED)
    # PSTG supplies the Chamber of Commerce to Worcester's table as its representative for the jobs priority.
    app.join(PSTG_LEAD, body="worcester", organisation="chamber-of-commerce", nominated_by="pstg", joined_on=JOINED)
    for key, (body, held_on, title, present) in MEETINGS.items():
        ids[key] = app.hold_meeting(OFFICER, body=body, held_on=held_on, title=title, present=present).id


def load_demo(app: TaskingApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    target_id = ids["jobs_target"]
    wait_for(lambda: app.known_target(target_id) is not None, "the 6,000 jobs target to reach tasking")
    app.declare_commitment(OFFICER, organisation="west-mercia-police", districts=["worcester", "wychavon", "redditch"])

    may = app.hold_meeting(PSTG_LEAD, body="pstg", held_on=date(2011, 5, 10), title="PSTG: shares of the jobs target",
                           present=["worcestershire-cc", "chamber-of-commerce", "worcester-college"])
    worcester = app.issue(
        PSTG_LEAD, target_id=target_id, theme_group="pstg", district="worcester", share=Decimal(1200),
        deadline=date(2014, 3, 31), lead_partner="worcester-city-council",
        commissioning_level=CommissioningLevel.DISTRICT,
        decision=at(app, may, "Worcester's share of the county's 6,000 new private-sector jobs, in one industry",
                    "PSTG/2011/05/3"),
    )
    ids["worcester_tasking"] = worcester.id
    alliance = app.hold_meeting(WORCESTER, body="worcester", held_on=date(2011, 5, 24),
                                title="Worcester Alliance board",
                                present=["worcester-city-council", "worcester-college", "vcs-alliance"])
    app.accept(WORCESTER, worcester, worcester.version,
               at(app, alliance, "The Alliance takes on 1,200 jobs, led by the City Council", "WA-2011-05-4"))
    app.agree_action(WORCESTER, meeting_id=alliance.id, owner="worcester-city-council", due_on=date(2011, 9, 30),
                     description="Report the employment land available for the new jobs")

    june = app.hold_meeting(PSTG_LEAD, body="pstg", held_on=date(2011, 6, 14), title="PSTG: jobs target review",
                            present=["worcestershire-cc", "chamber-of-commerce", "worcester-college",
                                     "worcester-city-council"])
    ids["pstg_june_meeting"] = june.id
    worcester = app.tasking(worcester.id)
    _, wychavon = app.transfer(
        PSTG_LEAD, worcester, worcester.version, district="wychavon", lead_partner="wychavon-dc",
        share=Decimal(200),
        decision=at(app, june, "Wychavon's new business park can host 200 of the jobs sooner than the city",
                    "PSTG/2011/06/7"),
    )
    ids["wychavon_tasking"] = wychavon.id
    done = app.agree_action(PSTG_LEAD, meeting_id=june.id, owner="wychavon-dc", due_on=date(2011, 7, 31),
                            description="Confirm the business park's opening date")
    app.action_done(PSTG_LEAD, done, done.version, date(2011, 7, 20), "Opens in April 2012")
    worcester = app.tasking(worcester.id)
    app.start_delivery(WORCESTER, worcester, worcester.version)
