"""The seed's worked example (Appendix 4B), strategy part: SCS objective -> County Economic Strategy objectives ->
the county target of 6,000 new private-sector jobs, and Worcester's district priority and evidence behind it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from services.priorities.application import PrioritiesApplication
from services.priorities.domain import TargetTerms
from shared.contracts import Actor, Decision
from shared.contracts.priorities import EvidenceFigure, StrategyLevel
from shared.eventstore import CommandContext
from shared.meeting_copy import decision_at
from shared.service import WaitFor

DEMO_OFFICER = Actor(user_id="demo-loader", organisation="worcestershire-cc", role="partnership_officer")
DEMO_WORCESTER = Actor(user_id="demo-worcester-coordinator", organisation="worcester-city-council",
                       role="district_coordinator")


def load_demo(app: PrioritiesApplication, ids: dict[str, UUID], wait_for: WaitFor) -> None:
    context = CommandContext(DEMO_OFFICER, "demo-data")
    board = decision_at(app.meetings, ids["board_march_2011"], wait_for,
                "Sustainable Community Strategy agreed by the partnership board", "WP/2011/03/2")
    scs = app.add_objective(context, title="A skilled and prosperous economy", level=StrategyLevel.SCS,
                            strategy="Sustainable Community Strategy", decision=board)
    ids["scs_objective"] = scs.id
    economic = decision_at(app.meetings, ids["pstg_april_2011"], wait_for,
                   "County Economic Strategy refines the SCS economic objective", "PSTG/2011/04/1")
    county = app.add_objective(
        context, title="Enhance employability levels, removing barriers to employment and improving skills",
        level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy", parent_id=scs.id,
        decision=economic)
    ids["county_objective"] = county.id
    jobs = app.add_objective(context, title="Create jobs in the private sector",
                             level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy",
                             parent_id=county.id, decision=economic)
    ids["jobs_objective"] = jobs.id
    target = app.set_target(
        context, objective_id=jobs.id,
        terms=TargetTerms(metric="new private-sector jobs", unit="jobs", baseline_value=Decimal(0),
                          baseline_date=date(2011, 4, 1), target_value=Decimal(6000), deadline=date(2016, 3, 31),
                          data_source="ONS Business Register and Employment Survey",
                          owner_organisation="worcestershire-cc"),
        decision=decision_at(app.meetings, ids["pstg_april_2011"], wait_for,
                     "The Place Shaping Theme Group sets the county target for new private-sector jobs",
                     "PSTG/2011/04/2"))
    ids["jobs_target"] = target.id

    worcester = CommandContext(DEMO_WORCESTER, "demo-data")
    alliance = decision_at(app.meetings, ids["alliance_may_2011"], wait_for,
                   "Private-sector jobs are the city's first priority, on the claimant-count evidence", "WA-2011-05-2")
    priority = app.propose_priority(
        worcester, district="worcester", title="More private-sector jobs in Worcester",
        rationale="Unemployment in the city has risen faster than in the county since 2008; the city centre and "
                  "the technology park can take new employers.",
        objective_id=jobs.id, evidence_refs=["Worcester claimant count, April 2011"])
    app.agree_priority(worcester, priority, expected_version=priority.version, decision=alliance)
    ids["worcester_priority"] = priority.id
    evidence = app.submit_evidence(
        worcester, district="worcester", title="Worcester claimant count, April 2011",
        summary="Jobseeker's Allowance claimants in the city rose by a third between 2008 and 2011.",
        source="ONS claimant count (NOMIS)", evidence_date=date(2011, 4, 14),
        figures=[EvidenceFigure(label="Jobseeker's Allowance claimants", value=Decimal(2300), unit="people")],
        objective_ids=[jobs.id], priority_ids=[priority.id])
    # Sifting evidence is delegated to the partnership officer (shared/worcestershire.yaml, schemes of delegation).
    app.accept_evidence(context, evidence.id, expected_version=evidence.version, decision=Decision(
        body="worcestershire-partnership", decided_on=date(2011, 5, 20),
        delegation="county-officer-evidence-and-release",
        reason="The claimant count is official statistics: taken into the evidence base"))
    ids["worcester_evidence"] = evidence.id
