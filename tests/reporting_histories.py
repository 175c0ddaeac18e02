"""A varied reporting history for the "rebuilt store equals the live one" tests: every event type the read models
handle, in the orders that matter (retaskings within and across districts, withdrawals, declines, completions,
corrections of earlier reports, RAG overrides that expire, a ProgressReported published as v1 and upcast,
contributions re-pointed and closed, projects deferred, resumed and closed, memberships, meetings and actions,
a released period), plus what the live consumer must not apply: a redelivered event, a malformed message and an
event it rejects (a tasking accepted that was never issued, progress of a project never opened)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from bench.reporting_history import LEAD, MANAGER, OFFICER, PSTG, History
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.reporting.rebuild import TOPICS
from services.tasking.partnership import founding_of
from shared.consumer import ConsumerRunner
from shared.contracts import Actor, Decision, Fact
from shared.contracts.priorities import (
    ChapterPriorityAgreed,
    ChapterPriorityRetired,
    DistrictChapterOpened,
    EvidenceAccepted,
    EvidenceFigure,
    EvidenceNoted,
    EvidenceSubmitted,
    ObjectiveAdded,
    ObjectiveRetired,
    ObjectiveReworded,
    PerformanceReleased,
    PriorityAgreed,
    PriorityProposed,
    PriorityReconfirmed,
    PriorityRejected,
    PriorityRetired,
    ScsReviewClosed,
    ScsReviewOpened,
    ScsReviewPriorityResolved,
    StrategyLevel,
    TargetRetired,
    TargetRevised,
    TargetSet,
    chapter_id,
)
from shared.contracts.projects import (
    ContributionClosed,
    ContributionRepointed,
    DirectionOfTravel,
    InterventionKind,
    InterventionRecorded,
    Milestone,
    MilestoneAchieved,
    MilestoneAdded,
    Outcome,
    OutcomeValue,
    ProgressReportCorrected,
    ProgressReported,
    ProgressReportedV1,
    ProgressReportWithdrawn,
    ProjectClosed,
    ProjectDeferred,
    ProjectOpened,
    ProjectResumed,
    Rag,
    RagOverridden,
    ResourceCommitment,
    ResourcesCommitted,
    Standing,
    Submission,
    TaskingRef,
)
from shared.contracts.tasking import (
    ActionAgreed,
    ActionDone,
    BodyKind,
    CommissioningLevel,
    DistrictAdded,
    DistrictsCommitted,
    MeetingHeld,
    PartnerJoined,
    PartnerLeft,
    PartnershipFounded,
    QuorumChanged,
    RagThresholdsChanged,
    TaskingAccepted,
    TaskingCompleted,
    TaskingDeclined,
    TaskingDeliveryStarted,
    TaskingIssued,
    TaskingRetasked,
    TaskingWithdrawn,
)
from shared.partnership import load
from shared.readstore import ReadStore
from shared.settings import Settings
from shared.transport import Transport

BOARD_LEAD = Actor("board-lead", "worcestershire-cc", "partnership_officer")


def varied(projects: int = 6) -> History:
    """The history; ``projects`` projects per kept tasking (more make more rows, not more kinds of change)."""
    history = History()
    versions: dict[uuid.UUID, int] = {}

    def add(service: str, subject: uuid.UUID, fact: Fact) -> None:
        versions[subject] = versions.get(subject, 0) + 1
        history.add(service, subject, versions[subject], fact)

    common = {"correlation_id": "c", "decision": PSTG}
    # -- priorities
    scs, county, retired_objective = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    add("priorities", scs, ObjectiveAdded(actor=OFFICER, **common, title="Prosperity", level=StrategyLevel.SCS,
                                          strategy="SCS"))
    add("priorities", county, ObjectiveAdded(actor=OFFICER, **common, title="Jobs", parent_id=scs,
                                             level=StrategyLevel.COUNTY_STRATEGY, strategy="Economy"))
    add("priorities", county, ObjectiveReworded(actor=OFFICER, **common, title="More jobs", previous_title="Jobs"))
    add("priorities", retired_objective, ObjectiveAdded(actor=OFFICER, **common, title="Old", level=StrategyLevel.SCS,
                                                        strategy="SCS"))
    add("priorities", retired_objective, ObjectiveRetired(actor=OFFICER, **common, reason="Superseded"))
    target, other_target = uuid.uuid4(), uuid.uuid4()
    terms = {"metric": "jobs", "unit": "jobs", "baseline_value": Decimal(0), "baseline_date": date(2011, 4, 1),
             "deadline": date(2016, 3, 31), "data_source": "ONS", "owner_organisation": "worcestershire-cc"}
    add("priorities", target, TargetSet(actor=OFFICER, **common, objective_id=county, target_value=Decimal(6000),
                                        **terms))
    add("priorities", target, TargetRevised(actor=OFFICER, **common, target_value=Decimal("6500.5"), **terms))
    add("priorities", other_target, TargetSet(actor=OFFICER, **common, objective_id=county,
                                              target_value=Decimal(100), **terms))
    add("priorities", other_target, TargetRetired(actor=OFFICER, **common, reason="Met elsewhere"))
    chapter, priority, rejected_priority = chapter_id("worcester"), uuid.uuid4(), uuid.uuid4()
    add("priorities", chapter, DistrictChapterOpened(actor=OFFICER, **common, district="worcester"))
    add("priorities", priority, PriorityProposed(actor=OFFICER, **common, district="worcester", title="Skills",
                                                 rationale="Low skills", objective_id=county, evidence_refs=("e1",)))
    add("priorities", priority, PriorityAgreed(actor=OFFICER, **common, district="worcester"))
    add("priorities", chapter, ChapterPriorityAgreed(actor=OFFICER, **common, priority_id=priority, title="Skills"))
    add("priorities", rejected_priority, PriorityProposed(actor=OFFICER, **common, district="worcester",
                                                          title="Roads", rationale="Potholes", objective_id=county))
    add("priorities", rejected_priority, PriorityRejected(actor=OFFICER, **common, district="worcester",
                                                          reason="Not ours"))
    evidence, noted = uuid.uuid4(), uuid.uuid4()
    add("priorities", evidence, EvidenceSubmitted(
        actor=OFFICER, **common, district="worcester", title="Survey", summary="Skills survey", source="ONS",
        evidence_date=date(2011, 3, 1), figures=(EvidenceFigure(label="NVQ2", value=Decimal("61.5"), unit="%"),),
        objective_ids=(county,), priority_ids=(priority,)))
    add("priorities", evidence, EvidenceAccepted(actor=OFFICER, **common))
    add("priorities", noted, EvidenceSubmitted(actor=OFFICER, **common, district="redditch", title="Anecdote",
                                               summary="Heard", source="Pub", evidence_date=date(2011, 3, 2)))
    add("priorities", noted, EvidenceNoted(actor=OFFICER, **common, reason="Anecdotal"))
    review = uuid.uuid4()
    add("priorities", review, ScsReviewOpened(actor=OFFICER, **common, number=1, outstanding=(priority,)))
    add("priorities", priority, PriorityReconfirmed(actor=OFFICER, **common, district="worcester", review_id=review))
    add("priorities", review, ScsReviewPriorityResolved(actor=OFFICER, **common, priority_id=priority,
                                                        district="worcester", outcome="reconfirmed"))
    add("priorities", review, ScsReviewClosed(actor=OFFICER, **common))
    add("priorities", priority, PriorityRetired(actor=OFFICER, **common, district="worcester", reason="Done"))
    add("priorities", chapter, ChapterPriorityRetired(actor=OFFICER, **common, priority_id=priority, reason="Done"))
    add("priorities", uuid.uuid4(), PerformanceReleased(actor=OFFICER, **common, starts_on=date(2012, 4, 1),
                                                        ends_on=date(2012, 9, 30)))

    # -- tasking: the partnership's rules, founded and changed
    partnership = uuid.uuid4()
    add("tasking", partnership, PartnershipFounded(actor=BOARD_LEAD, correlation_id="c", **founding_of(load())))
    add("tasking", partnership, QuorumChanged(actor=BOARD_LEAD, **common, body="pstg", quorum=4, previous_quorum=3))
    # Another body's quorum, decided before the change just entered: a keyed part of the rules' bodies, refolded.
    add("tasking", partnership, QuorumChanged(actor=BOARD_LEAD, correlation_id="c", body="wychavon", quorum=4,
                                              previous_quorum=3, decision=Decision(
                                                  body="worcestershire-partnership", decided_on=date(2011, 1, 10),
                                                  reason="Wychavon decides with four")))
    add("tasking", partnership, DistrictAdded(actor=BOARD_LEAD, **common, district="pershore", name="Pershore",
                                              partnership="Pershore Partnership", quorum=2))
    add("tasking", partnership, RagThresholdsChanged(
        actor=BOARD_LEAD, **common, green_within_percent=5, amber_within_percent=20, previous_green_within_percent=10,
        previous_amber_within_percent=25))
    # -- tasking: one tasking of each fate
    def issue(district: str, share: int, retasked_from: uuid.UUID | None = None) -> uuid.UUID:
        tasking = uuid.uuid4()
        add("tasking", tasking, TaskingIssued(
            actor=LEAD, **common, target_id=target, theme_group="pstg", district=district, share=Decimal(share),
            unit="jobs", deadline=date(2014, 3, 31), lead_partner=f"{district}-council",
            commissioning_level=CommissioningLevel.DISTRICT, retasked_from=retasked_from, counts_against_target=True))
        return tasking

    worcester, wychavon, redditch, malvern, wyre = (issue(d, 1200) for d in (
        "worcester", "wychavon", "redditch", "malvern-hills", "wyre-forest"))
    for tasking in (worcester, wychavon, redditch, wyre):
        add("tasking", tasking, TaskingAccepted(actor=LEAD, **common, counts_against_target=True))
    add("tasking", malvern, TaskingDeclined(actor=LEAD, **common, reason="No capacity", counts_against_target=False))
    add("tasking", wychavon, TaskingDeliveryStarted(actor=LEAD, **common, counts_against_target=True))
    bromsgrove = issue("bromsgrove", 200, retasked_from=worcester)
    add("tasking", bromsgrove, TaskingAccepted(actor=LEAD, **common, counts_against_target=True))
    # never issued: the live consumer rejects it
    add("tasking", uuid.uuid4(), TaskingAccepted(actor=LEAD, **common, counts_against_target=True))
    for who, body, kind in (("worcester-city-council", "pstg", BodyKind.THEME_GROUP),
                            ("worcester-college", "worcester", BodyKind.DISTRICT_PARTNERSHIP)):
        membership = uuid.uuid4()
        add("tasking", membership, PartnerJoined(actor=BOARD_LEAD, **common, body=body, body_kind=kind,
                                                 organisation=who, nominated_by="board"))
        if body == "worcester":
            add("tasking", membership, PartnerLeft(actor=BOARD_LEAD, **common, body=body, organisation=who,
                                                   reason="Merged"))
    add("tasking", uuid.uuid4(), DistrictsCommitted(actor=BOARD_LEAD, correlation_id="c",
                                                    organisation="worcester-college",
                                                    districts=["worcester", "wychavon"]))
    meeting = uuid.uuid4()
    add("tasking", meeting, MeetingHeld(actor=BOARD_LEAD, correlation_id="c", body="pstg",
                                        body_kind=BodyKind.THEME_GROUP, held_on=date(2011, 6, 14),
                                        present=["worcestershire-cc"], title="June PSTG"))
    action = uuid.uuid4()
    add("tasking", action, ActionAgreed(actor=BOARD_LEAD, correlation_id="c", meeting_id=meeting, body="pstg",
                                        description="Chase figures", owner="worcestershire-cc",
                                        due_on=date(2011, 7, 1)))
    add("tasking", action, ActionDone(actor=BOARD_LEAD, correlation_id="c", done_on=date(2011, 6, 30), note="Sent"))

    # -- projects, under the taskings that were accepted
    def report(project: uuid.UUID, on: date, value: int, rag: Rag, *, v1: bool = False, correction: bool = False,
               outcome: str = "jobs") -> None:
        fields = {"actor": MANAGER, "correlation_id": "c", "reported_on": on,
                  "values": (OutcomeValue(outcome_id=outcome, value=Decimal(value)),),
                  "actuals": (OutcomeValue(outcome_id=outcome, value=Decimal(value)),),
                  "narrative": "Report", "rag": rag, "shortfall_percent": Decimal("12.5"),
                  "direction": None if v1 else DirectionOfTravel.IMPROVING, "correction": correction,
                  "correction_reason": "Typo" if correction else None}
        fact = ProgressReportedV1(**fields) if v1 else ProgressReported(**fields, submitted_via=Submission.API)
        add("projects", project, fact)

    opened: list[tuple[uuid.UUID, uuid.UUID]] = []
    for tasking in (worcester, wychavon, redditch, wyre, bromsgrove):
        for n in range(projects):
            project = uuid.uuid4()
            opened.append((project, tasking))
            add("projects", project, ProjectOpened(
                actor=MANAGER, **common, programme_id=uuid.uuid5(uuid.NAMESPACE_URL, "p"), district="worcester",
                title=f"Project {n}", lead_partner="worcester-college", project_manager="pm",
                taskings=(TaskingRef(tasking_id=tasking, version=2),),
                outcomes=(Outcome(id="jobs", tasking_id=tasking, metric="jobs", unit="jobs",
                                  baseline_value=Decimal(0), baseline_date=date(2012, 4, 1), target_value=Decimal(40),
                                  target_date=date(2014, 3, 31), weight=Decimal("0.5")),
                          Outcome(id="skills", tasking_id=redditch, metric="nvq", unit="people",
                                  baseline_value=Decimal(3), baseline_date=date(2012, 4, 1),
                                  target_value=Decimal(30), target_date=date(2014, 3, 31))),
                milestones=(Milestone(id="m1", title="Launch", due_on=date(2012, 6, 1)),),
                resources=(ResourceCommitment(organisation="worcester-college", money_gbp=Decimal("1000.50"),
                                              staff_days=Decimal(3)),)))
    for month, (project, _) in enumerate(opened * 2):
        report(project, date(2012, 5 + month % 7, 1), 5 + month, [Rag.GREEN, Rag.AMBER, Rag.RED][month % 3],
               v1=month % 4 == 0)
    first, second, third, fourth = (p for p, _ in opened[:4])
    report(first, date(2012, 5, 15), 2, Rag.RED, correction=True)  # corrects an earlier report: the latest stands
    add("projects", first, RagOverridden(actor=MANAGER, **common, rag=Rag.GREEN, derived_rag=Rag.RED,
                                         reason="Known delay"))
    report(first, date(2012, 12, 1), 30, Rag.AMBER, outcome="skills")  # the override expires
    add("projects", first, MilestoneAdded(actor=MANAGER, **common,
                                          milestone=Milestone(id="m2", title="Review", due_on=date(2013, 1, 1))))
    add("projects", first, MilestoneAchieved(actor=MANAGER, **common, milestone_id="m1",
                                             achieved_on=date(2012, 6, 2)))
    add("projects", second, ResourcesCommitted(actor=MANAGER, **common, commitment=ResourceCommitment(
        organisation="redditch-council", money_gbp=Decimal("250.25"), staff_days=Decimal("1.5"))))
    # Two more, entered out of date order: the sums in force on a day are refolded from each one's own amount.
    for decided_on, money in ((date(2013, 1, 10), "100"), (date(2012, 7, 10), "40.5")):
        add("projects", second, ResourcesCommitted(
            actor=MANAGER, correlation_id="c", decision=Decision(body="pstg", decided_on=decided_on,
                                                                 reason="More resources"),
            commitment=ResourceCommitment(organisation="wychavon-dc", money_gbp=Decimal(money),
                                          staff_days=Decimal(1))))
    add("projects", second, InterventionRecorded(actor=MANAGER, **common, kind=InterventionKind.RE_PLAN,
                                                 description="Re-plan", triggers=("red", "missed-milestone:m1")))
    # Worcester's tasking retasked within the district (the projects are flagged), then partly moved to Bromsgrove.
    add("tasking", worcester, TaskingRetasked(
        actor=LEAD, **common, district="worcester", lead_partner="worcester-college", share=Decimal(1000),
        deadline=date(2014, 6, 30), previous_district="worcester", previous_lead_partner="worcester-council",
        previous_share=Decimal(1200), previous_deadline=date(2014, 3, 31), reason="Moved 200 to Bromsgrove",
        issued_again=False, counts_against_target=True))
    for project, tasking in opened:
        if tasking == worcester:
            add("projects", project, ContributionRepointed(
                actor=MANAGER, correlation_id="c", from_tasking_id=worcester, to_tasking_id=worcester,
                to_version=versions[worcester], share=Decimal(1000), deadline=date(2014, 6, 30),
                lead_partner="worcester-college", reason="Tasking retasked", upstream_version=versions[worcester]))
    add("projects", first, ContributionRepointed(
        actor=MANAGER, **common, from_tasking_id=redditch, to_tasking_id=wychavon, to_version=3, share=Decimal(1200),
        deadline=date(2014, 3, 31), lead_partner="wychavon-council", reason="Moved by the programme manager"))
    # Wyre Forest's tasking withdrawn: its projects' outcomes stop counting.
    add("tasking", wyre, TaskingWithdrawn(actor=LEAD, **common, reason="Target retired", counts_against_target=False))
    for project, tasking in opened:
        if tasking == wyre:
            add("projects", project, ContributionClosed(actor=MANAGER, correlation_id="c", tasking_id=wyre,
                                                        upstream_version=versions[wyre], reason="Withdrawn"))
    add("tasking", wychavon, TaskingCompleted(actor=LEAD, **common, achieved=Decimal(1250), counts_against_target=True))
    add("projects", third, ProjectDeferred(actor=MANAGER, **common, reason="Funding paused"))
    add("projects", third, ProjectResumed(actor=MANAGER, **common, reason="Funding back"))
    report(third, date(2013, 2, 1), 40, Rag.GREEN)
    # ... and that report withdrawn as a mistake: the one before it stands again.
    add("projects", third, ProgressReportWithdrawn(
        actor=MANAGER, correlation_id="c", reported_on=date(2013, 2, 1), reason="Counted twice",
        standing=Standing(reported_on=date(2012, 9, 1), actuals=(OutcomeValue(outcome_id="jobs", value=Decimal(37)),),
                          rag=Rag.RED, shortfall_percent=Decimal("12.5"))))
    # An older report withdrawn, and another corrected: the record keeps the latest report's standing; on the
    # in-force axis, from the date taken back, what stood the day before (or the correction) until the next report.
    later_actuals = (OutcomeValue(outcome_id="jobs", value=Decimal(36)),)
    add("projects", second, ProgressReportWithdrawn(
        actor=MANAGER, correlation_id="c", reported_on=date(2012, 6, 1), reason="Wrong project",
        standing=Standing(reported_on=date(2012, 8, 1), actuals=later_actuals, rag=Rag.AMBER,
                          shortfall_percent=Decimal("12.5"), direction=DirectionOfTravel.IMPROVING)))
    corrected = (OutcomeValue(outcome_id="jobs", value=Decimal(7)),)
    add("projects", fourth, ProgressReportCorrected(
        actor=MANAGER, correlation_id="c", corrected_report_on=date(2012, 8, 1), reason="Miscounted",
        reported_on=date(2012, 8, 1), values=corrected, actuals=corrected, narrative="Corrected", rag=Rag.RED,
        shortfall_percent=Decimal(30), direction=DirectionOfTravel.WORSENING, submitted_via=Submission.API,
        standing=Standing(reported_on=date(2012, 10, 1), actuals=later_actuals, rag=Rag.AMBER,
                          shortfall_percent=Decimal("12.5"), direction=DirectionOfTravel.IMPROVING)))
    add("projects", fourth, ProjectClosed(actor=MANAGER, **common, outcome_achieved="Most jobs", lessons="Start early",
                                          final_actuals=(OutcomeValue(outcome_id="jobs", value=Decimal(38)),)))
    # A project this read model never saw opened: a change to a row that was never made is rejected (dead-lettered
    # with the reason), by every read model alike.
    report(uuid.uuid4(), date(2013, 3, 1), 1, Rag.RED)

    # What the live consumer applies once or never.
    history.events["projects.events"].append(history.events["projects.events"][5])
    history.events["projects.events"].append(("garbage", b"{not a cloud event"))
    return history


def project_live(settings: Settings, transport: Transport, *, batch_size: int, timeout: float) -> tuple[ReadStore, int]:
    """The live consumer's read model of every topic (as the reporting worker builds it), and how many messages it
    dead-lettered: what a rebuild is compared with."""
    live = ReadStore(settings, "reporting")
    ReportingReadModel(live, read_model_ddl())
    dead_lettered = 0
    for name in TOPICS:
        runner = ConsumerRunner("reporting", live, transport, settings.topic(name), ReportingProjection(),
                                dead_letter_topic=settings.topic("reporting.dlq"), batch_size=batch_size)
        ends = sum(transport.end_offsets(settings.topic(name)).values())
        consumed = 0
        while consumed < ends:
            consumed += runner.process_batch(timeout=timeout)
        dead_lettered += runner.status.dead_lettered
        runner.close()
    return live, dead_lettered
