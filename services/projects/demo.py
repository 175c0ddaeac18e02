"""The seed's worked example, delivery part: Worcester's share of the jobs delivered by two projects, one red."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from uuid import UUID

from services.projects.application import ProjectsApplication
from shared.contracts import Actor
from shared.contracts.projects import InterventionKind, Milestone, Outcome, ResourceCommitment, Risk
from shared.eventstore import CommandContext
from shared.meeting_copy import decision_at
from shared.service import WaitFor

log = logging.getLogger(__name__)

MANAGER = Actor(user_id="demo-worcester-pm", organisation="worcester-city-council", role="programme_manager")
COLLEGE = Actor(user_id="demo-college-officer", organisation="worcester-college", role="partner_officer")
CHAMBER = Actor(user_id="demo-chamber-officer", organisation="chamber-of-commerce", role="partner_officer")


def load_demo(app: ProjectsApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    tasking_id = ids.get("worcester_tasking")
    if tasking_id is None:
        log.warning("demo data: no Worcester tasking was issued upstream; no projects loaded")
        return

    def in_delivery() -> bool:
        # Delivery starts last in the tasking demo, after the 200 jobs moved to Wychavon: waiting for it means the
        # projects are opened against Worcester's share as it stands (1,000), not flagged by a retasking later.
        known = app.known_taskings.get(tasking_id)
        return known is not None and known.status == "in_delivery"

    wait_for(in_delivery, "Worcester's tasking, in delivery, to reach the projects service")
    tasking = app.tasking(tasking_id)
    manager = CommandContext(MANAGER, "demo-data")
    alliance = decision_at(app.meetings, ids["alliance_march_2012"], wait_for,
                           "Delivery plan for Worcester's share of the county jobs target", "WA-2012-03-2")

    def jobs(target: int, weight: str = "1") -> Outcome:
        return Outcome(id="jobs", tasking_id=tasking_id, metric="new private-sector jobs", unit=tasking.unit,
                       baseline_value=Decimal(0), baseline_date=date(2012, 4, 1), target_value=Decimal(target),
                       target_date=date(2014, 3, 31), weight=Decimal(weight))

    academy = app.open_project(
        manager, district="worcester", title="Engineering skills academy with local manufacturers",
        lead_partner="worcester-college", project_manager="demo-college-pm", tasking_ids=[tasking_id],
        outcomes=[jobs(400)], decision=alliance,
        milestones=[Milestone("premises", "Training premises open", date(2012, 9, 1)),
                    Milestone("cohort-1", "First cohort placed with employers", date(2013, 7, 1))],
        resources=[ResourceCommitment("worcester-college", Decimal(180000), Decimal(220)),
                   ResourceCommitment("worcestershire-cc", Decimal(75000), Decimal(40))],
        risks=[Risk("employers", "Too few employers offer placements", 2, 4, "worcester-college",
                    "Chamber of Commerce recruits placement employers")],
    )
    park = app.open_project(
        manager, district="worcester", title="Inward investment to the Blackpole business park",
        lead_partner="chamber-of-commerce", project_manager="demo-chamber-pm", tasking_ids=[tasking_id],
        outcomes=[jobs(600)], decision=alliance,
        milestones=[Milestone("anchor", "Anchor tenant signed", date(2012, 12, 1))],
        resources=[ResourceCommitment("chamber-of-commerce", Decimal(60000), Decimal(150)),
                   ResourceCommitment("worcester-city-council", Decimal(250000), Decimal(90))],
        risks=[Risk("economy", "Investors delay decisions in the downturn", 4, 4, "chamber-of-commerce",
                    "Council business-rate relief for early movers")],
    )
    ids["academy_project"] = academy.id
    ids["business_park_project"] = park.id
    college, chamber = CommandContext(COLLEGE, "demo-data"), CommandContext(CHAMBER, "demo-data")
    app.achieve_milestone(college, app.project(academy.id), milestone_id="premises", achieved_on=date(2012, 8, 28))
    app.report_progress(college, app.project(academy.id), reported_on=date(2012, 10, 1), values={"jobs": Decimal(95)},
                        narrative="First 95 apprentices placed with manufacturers")
    app.report_progress(college, app.project(academy.id), reported_on=date(2013, 4, 1), values={"jobs": Decimal(190)},
                        narrative="Second intake placed; on course")
    app.report_progress(chamber, app.project(park.id), reported_on=date(2012, 10, 1), values={"jobs": Decimal(60)},
                        narrative="Two small firms moved in; anchor tenant still negotiating")
    app.report_progress(chamber, app.project(park.id), reported_on=date(2013, 4, 1), values={"jobs": Decimal(150)},
                        narrative="Anchor tenant postponed its decision to 2014")
    app.intervene(manager, app.project(park.id), kind=InterventionKind.EXTRA_RESOURCES,
                  description="Council funds a dedicated inward-investment officer for twelve months",
                  due_on=date(2013, 10, 1), owner="worcestershire-cc",
                  decision=decision_at(app.meetings, ids["alliance_april_2013"], wait_for,
                                       "Business park project red: 150 jobs against 300 due", "WA-2013-04-5"))
