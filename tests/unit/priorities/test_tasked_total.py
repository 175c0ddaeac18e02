"""A target is never revised below what is tasked of it (#15 part 2): priorities learns the shares from tasking's
events (a narrow copy) and refuses with the numbers, or answers "retry" while its copy is behind the version of a
tasking the caller read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.priorities.domain import Target
from services.priorities.tasked import TaskedShares
from shared.contracts import Actor, Decision, Fact, to_data
from shared.contracts.tasking import CommissioningLevel, TaskingDeclined, TaskingIssued, TaskingRetasked
from shared.envelope import Envelope
from shared.errors import NotYetKnown, RuleViolated
from shared.readstore import ReadStore
from tests.harness import settings_for
from tests.unit.priorities.builders import BOARD, OFFICER, jobs_objective, jobs_terms, rules

LEAD = Actor("pstg-lead", "worcestershire-cc", "theme_group_lead")
PSTG = Decision(body="pstg", decided_on=date(2012, 2, 14), reason="Shares of the jobs target")


def test_a_target_revision_below_the_total_tasked_is_refused_with_the_numbers() -> None:
    target = Target.set(OFFICER, objective=jobs_objective(), terms=jobs_terms(target_value=Decimal(1000)),
                        rules=rules())
    with pytest.raises(RuleViolated, match="tasked with 800") as refused:
        target.revise(OFFICER, terms=jobs_terms(target_value=Decimal(500)), rules=rules(), decision=BOARD,
                      tasked=Decimal(800))
    assert refused.value.status == 409
    assert refused.value.details == {"target_value": "500", "tasked": "800", "over_by": "300"}
    target.revise(OFFICER, terms=jobs_terms(target_value=Decimal(800)), rules=rules(), decision=BOARD,
                  tasked=Decimal(800))  # down to exactly what is tasked


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[TaskedShares]:
    store = ReadStore(settings_for(data_dir=tmp_path), "priorities")
    yield TaskedShares(store)
    store.close()


def _apply(copy: TaskedShares, tasking_id: UUID, version: int, fact: Fact) -> None:
    type_name, data = to_data(fact)
    envelope = Envelope(id=f"{tasking_id}:{version}", source="/services/tasking", type=type_name,
                        subject=str(tasking_id), time=datetime.now(UTC), sequence=version, data=data,
                        actor=fact.actor.user_id, actororganisation=fact.actor.organisation,
                        actorrole=fact.actor.role, correlationid="c")
    with copy.store.transaction() as tx:
        copy.apply(tx, envelope)


def _issued(target_id: UUID, share: str) -> TaskingIssued:
    return TaskingIssued(actor=LEAD, correlation_id="c", decision=PSTG, target_id=target_id, theme_group="pstg",
                         district="worcester", share=Decimal(share), unit="jobs", deadline=date(2014, 3, 31),
                         lead_partner="worcester-city-council", commissioning_level=CommissioningLevel.DISTRICT,
                         counts_against_target=True)


def test_the_total_tasked_follows_taskings_share_events(copy: TaskedShares) -> None:
    target_id, first, second = uuid4(), uuid4(), uuid4()
    _apply(copy, first, 1, _issued(target_id, "500"))
    _apply(copy, second, 1, _issued(target_id, "300"))
    _apply(copy, uuid4(), 1, _issued(uuid4(), "999"))  # another target's
    assert copy.tasked(target_id) == Decimal(800)
    _apply(copy, first, 2, TaskingRetasked(actor=LEAD, correlation_id="c", decision=PSTG, district="worcester",
                                           lead_partner="worcester-city-council", share=Decimal(400),
                                           deadline=date(2014, 3, 31), previous_district="worcester",
                                           previous_lead_partner="worcester-city-council",
                                           previous_share=Decimal(500), previous_deadline=date(2014, 3, 31),
                                           reason="Moved",
                                           issued_again=False, counts_against_target=True))
    assert copy.tasked(target_id) == Decimal(700)
    _apply(copy, second, 2, TaskingDeclined(actor=LEAD, correlation_id="c", reason="No capacity",
                                            counts_against_target=False))
    assert copy.tasked(target_id) == Decimal(400)  # a declined share is freed


def test_a_revision_waits_while_the_copy_is_behind_the_tasking_version_the_caller_read(copy: TaskedShares) -> None:
    target_id, tasking_id = uuid4(), uuid4()
    _apply(copy, tasking_id, 1, _issued(target_id, "800"))
    with pytest.raises(NotYetKnown) as retry:
        copy.tasked(target_id, {tasking_id: 2})
    assert retry.value.status == 503
    assert copy.tasked(target_id, {tasking_id: 1}) == Decimal(800)
