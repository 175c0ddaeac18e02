"""A synthetic partnership history for the reporting benchmarks: objectives, SMART targets, taskings of every
district, projects under them, and monthly progress reports (with interventions when a project is red) until the
history holds the number of events asked for. Events are CloudEvents exactly as the services publish them, one
minute apart in time, so ``asOf`` can ask about any moment of it."""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import shared.contracts.projects as project_contracts
from shared.contracts import Actor, Decision, Fact, to_data
from shared.contracts.priorities import ObjectiveAdded, StrategyLevel, TargetSet
from shared.contracts.projects import (
    DirectionOfTravel,
    InterventionKind,
    InterventionRecorded,
    Outcome,
    OutcomeValue,
    ProgressReported,
    ProjectOpened,
    Rag,
    TaskingRef,
)
from shared.contracts.tasking import CommissioningLevel, TaskingAccepted, TaskingIssued
from shared.envelope import Envelope, encode
from shared.transport import Transport

DISTRICTS = ("bromsgrove", "malvern-hills", "redditch", "worcester", "wychavon", "wyre-forest")
START = datetime(2024, 1, 1, tzinfo=UTC)
OFFICER = Actor("bench-officer", "worcestershire-cc", "partnership_officer")
LEAD = Actor("bench-pstg-lead", "worcestershire-cc", "theme_group_lead")
MANAGER = Actor("bench-pm", "worcester-city-council", "programme_manager")
PSTG = Decision(body="pstg", decided_on=date(2011, 4, 12), reason="Benchmark decision")


@dataclass
class History:
    """The events in publication order, by topic, and the moments a benchmark asks about."""

    events: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    count: int = 0
    first: datetime = START
    last: datetime = START
    target_ids: list[str] = field(default_factory=list)

    def add(self, service: str, subject: uuid.UUID, version: int, fact: Fact) -> None:
        moment = START + timedelta(minutes=self.count)
        type_name, data = to_data(fact)
        envelope = Envelope(id=f"{subject}:{version}", source=f"/services/{service}", type=type_name,
                            subject=str(subject), time=moment, sequence=version, data=data,
                            actor=fact.actor.user_id, actororganisation=fact.actor.organisation,
                            actorrole=fact.actor.role, correlationid=f"bench-{self.count}")
        self.events.setdefault(f"{service}.events", []).append((str(subject), encode(envelope)))
        self.count += 1
        self.last = moment


def _progress(**fields: Any) -> ProgressReported:
    if "submitted_via" in {f.name for f in dataclasses.fields(ProgressReported)}:  # version 2 of the contract
        fields["submitted_via"] = project_contracts.Submission.API
    return ProgressReported(**fields)


def generate(total: int, *, targets: int = 8, projects_per_tasking: int = 20, seed: int = 7) -> History:
    """About ``total`` events: the structure first, then progress reports round-robin over the projects."""
    rng = random.Random(seed)
    history = History()
    scs = uuid.uuid4()
    history.add("priorities", scs, 1, ObjectiveAdded(actor=OFFICER, correlation_id="c", decision=PSTG,
                                                     title="A skilled and prosperous economy",
                                                     level=StrategyLevel.SCS, strategy="SCS"))
    projects: list[tuple[uuid.UUID, Decimal, list[int]]] = []  # id, outcome target, version counter
    for t in range(targets):
        objective, target = uuid.uuid4(), uuid.uuid4()
        history.add("priorities", objective, 1, ObjectiveAdded(
            actor=OFFICER, correlation_id="c", decision=PSTG, title=f"County objective {t}",
            level=StrategyLevel.COUNTY_STRATEGY, strategy="County Economic Strategy", parent_id=scs))
        goal = Decimal(6000)
        history.add("priorities", target, 1, TargetSet(
            actor=OFFICER, correlation_id="c", decision=PSTG, objective_id=objective, metric=f"jobs {t}", unit="jobs",
            baseline_value=Decimal(0), baseline_date=date(2011, 4, 1), target_value=goal, deadline=date(2016, 3, 31),
            data_source="ONS", owner_organisation="worcestershire-cc"))
        history.target_ids.append(str(target))
        for district in DISTRICTS:
            tasking = uuid.uuid4()
            share = goal / len(DISTRICTS)
            history.add("tasking", tasking, 1, TaskingIssued(
                actor=LEAD, correlation_id="c", decision=PSTG, target_id=target, theme_group="pstg",
                district=district, share=share, unit="jobs", deadline=date(2014, 3, 31),
                lead_partner="worcestershire-cc", commissioning_level=CommissioningLevel.DISTRICT,
                    counts_against_target=True))
            history.add("tasking", tasking, 2, TaskingAccepted(actor=LEAD, correlation_id="c", decision=PSTG,
                                                                    counts_against_target=True))
            for p in range(projects_per_tasking):
                project = uuid.uuid4()
                each = (share / projects_per_tasking).quantize(Decimal(1))
                history.add("projects", project, 1, ProjectOpened(
                    actor=MANAGER, correlation_id="c", decision=PSTG, programme_id=uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                              district),
                    district=district, title=f"Project {t}.{district}.{p}", lead_partner="worcester-college",
                    project_manager="bench-pm", taskings=(TaskingRef(tasking_id=tasking, version=2),),
                    outcomes=(Outcome(id="jobs", tasking_id=tasking, metric="jobs", unit="jobs",
                                      baseline_value=Decimal(0), baseline_date=date(2012, 4, 1),
                                      target_value=each, target_date=date(2014, 3, 31)),)))
                projects.append((project, each, [1]))
    day = date(2012, 5, 1)
    while history.count < total:
        for project, each, version in projects:
            if history.count >= total:
                break
            version[0] += 1
            value = (each * Decimal(rng.uniform(0.2, 1.1)) * Decimal(min((day - date(2012, 4, 1)).days, 730))
                     / Decimal(730)).quantize(Decimal(1))
            rag = rng.choice([Rag.GREEN, Rag.GREEN, Rag.AMBER, Rag.RED])
            history.add("projects", project, version[0], _progress(
                actor=MANAGER, correlation_id="c", reported_on=day,
                values=(OutcomeValue(outcome_id="jobs", value=value),),
                actuals=(OutcomeValue(outcome_id="jobs", value=value),), narrative="Monthly report", rag=rag,
                shortfall_percent=Decimal(rng.randint(0, 60)), direction=DirectionOfTravel.STEADY))
            if rag is Rag.RED and rng.random() < 0.1 and history.count < total:
                version[0] += 1
                history.add("projects", project, version[0], InterventionRecorded(
                    actor=MANAGER, correlation_id="c", decision=PSTG, kind=InterventionKind.EXTRA_RESOURCES,
                    description="More officer time", triggers=("red",)))
        day += timedelta(days=30)
    return history


def publish(history: History, transport: Transport, topic_prefix: str, partitions: int = 3) -> None:
    for topic, events in history.events.items():
        name = f"{topic_prefix}{topic}"
        transport.ensure_topic(name, partitions)
        publisher = transport.publisher()
        try:
            for key, value in events:
                publisher.publish(name, key, value)
            publisher.flush()
        finally:
            publisher.close()


def moments(history: History, count: int, seed: int = 11) -> Iterator[datetime]:
    """Moments spread over the history, for ``asOf``."""
    rng = random.Random(seed)
    span = (history.last - history.first).total_seconds()
    for _ in range(count):
        yield history.first + timedelta(seconds=rng.uniform(0, span))
