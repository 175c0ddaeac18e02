"""The seed's worked example (Appendix 4B), coordination part: PSTG tasks Worcester with 1,200 of the 6,000 jobs,
Worcester accepts, and PSTG later moves 200 of them to Wychavon, with the tables and meetings behind each decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from services.tasking.application import TaskingApplication
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


def load_demo(app: TaskingApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    target_id = ids["jobs_target"]
    wait_for(lambda: app.known_target(target_id) is not None, "the 6,000 jobs target to reach tasking")

    for body, organisations in TABLES.items():
        for organisation in organisations:
            app.join(OFFICER, body=body, organisation=organisation)
    # PSTG supplies the Chamber of Commerce to Worcester's table as its representative for the jobs priority.
    app.join(PSTG_LEAD, body="worcester", organisation="chamber-of-commerce", nominated_by="pstg")
    app.declare_commitment(OFFICER, organisation="west-mercia-police", districts=["worcester", "wychavon", "redditch"])

    may = app.hold_meeting(PSTG_LEAD, body="pstg", held_on=date(2011, 5, 10), title="PSTG: shares of the jobs target",
                           present=["worcestershire-cc", "chamber-of-commerce", "worcester-college"])
    worcester = app.issue(
        PSTG_LEAD, target_id=target_id, theme_group="pstg", district="worcester", share=Decimal(1200),
        deadline=date(2014, 3, 31), lead_partner="worcester-city-council",
        commissioning_level=CommissioningLevel.DISTRICT,
        decision=Decision(body="pstg", decided_on=may.held_on, meeting_id=str(may.id), reference="PSTG/2011/05/3",
                          reason="Worcester's share of the county's 6,000 new private-sector jobs, in one industry"),
    )
    ids["worcester_tasking"] = worcester.id
    alliance = app.hold_meeting(WORCESTER, body="worcester", held_on=date(2011, 5, 24),
                                title="Worcester Alliance board",
                                present=["worcester-city-council", "worcester-college", "vcs-alliance"])
    app.accept(WORCESTER, worcester.id, worcester.version, Decision(
        body="worcester", decided_on=alliance.held_on, meeting_id=str(alliance.id),
        reason="The Alliance takes on 1,200 jobs, led by the City Council"))
    app.agree_action(WORCESTER, meeting_id=alliance.id, owner="worcester-city-council", due_on=date(2011, 9, 30),
                     description="Report the employment land available for the new jobs")

    june = app.hold_meeting(PSTG_LEAD, body="pstg", held_on=date(2011, 6, 14), title="PSTG: jobs target review",
                            present=["worcestershire-cc", "chamber-of-commerce", "worcester-college",
                                     "worcester-city-council"])
    ids["pstg_june_meeting"] = june.id
    worcester = app.tasking(worcester.id)
    _, wychavon = app.transfer(
        PSTG_LEAD, worcester.id, worcester.version, district="wychavon", lead_partner="wychavon-dc",
        share=Decimal(200),
        decision=Decision(body="pstg", decided_on=june.held_on, meeting_id=str(june.id), reference="PSTG/2011/06/7",
                          reason="Wychavon's new business park can host 200 of the jobs sooner than the city"),
    )
    ids["wychavon_tasking"] = wychavon.id
    done = app.agree_action(PSTG_LEAD, meeting_id=june.id, owner="wychavon-dc", due_on=date(2011, 7, 31),
                            description="Confirm the business park's opening date")
    app.action_done(PSTG_LEAD, done.id, done.version, date(2011, 7, 20), "Opens in April 2012")
    worcester = app.tasking(worcester.id)
    app.start_delivery(WORCESTER, worcester.id, worcester.version)
