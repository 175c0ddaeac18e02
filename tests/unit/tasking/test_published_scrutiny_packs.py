"""A scrutiny pack published for a committee meeting (#21): the partnership officer's delegated decision, recorded
by tasking as a fact once per meeting, with the pack's SHA-256, period, scope and the positions it was read from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.tasking.application import TaskingApplication
from services.tasking.domain import scrutiny_pack_id
from shared.contracts import Actor, Decision
from shared.contracts.tasking import TopicPosition
from shared.decisions import DecisionNotValid
from shared.errors import InvalidCommand, RuleViolated
from shared.eventstore import CommandContext
from tests.harness import settings_for

OFFICER = CommandContext(Actor("po-1", "worcestershire-cc", "partnership_officer"), "corr-pack")
LEAD = CommandContext(Actor("lead-1", "worcestershire-cc", "theme_group_lead"), "corr-lead")
DELEGATED = Decision(body="worcestershire-partnership", decided_on=date(2013, 7, 8), reason="the July pack",
                     delegation="county-officer-scrutiny-packs")
PACK: dict[str, Any] = dict(
    committee="Worcestershire Overview and Scrutiny", meeting_on=date(2013, 7, 15), starts_on=date(2011, 4, 1),
    ends_on=date(2013, 6, 30), districts=[], theme_groups=[], records_as_of="2026-12-02T19:00:00+00:00",
    positions=[TopicPosition("tasking.events", 40)], sha256="ab" * 32, renderer_version="pack-2", papers_public=True)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TaskingApplication]:
    application = TaskingApplication(settings_for(data_dir=tmp_path))
    yield application
    application.close()


def test_a_pack_is_published_once_per_meeting_by_the_officers_delegated_decision(app: TaskingApplication) -> None:
    pack = app.publish_scrutiny_pack(OFFICER, decision=DELEGATED, **PACK)
    assert pack.id == scrutiny_pack_id(PACK["committee"], PACK["meeting_on"]) and pack.sha256 == "ab" * 32
    events = list(app.repository.event_store.get(pack.id))
    assert [type(e).__name__ for e in events] == ["Published"]
    assert events[0].positions == [TopicPosition("tasking.events", 40)]  # type: ignore[attr-defined]
    assert events[0].decision.delegation == "county-officer-scrutiny-packs"  # type: ignore[attr-defined]
    with pytest.raises(RuleViolated, match="already published"):
        app.publish_scrutiny_pack(OFFICER, decision=DELEGATED, **PACK)


def test_a_pack_is_not_published_by_another_role_or_under_another_scheme(app: TaskingApplication) -> None:
    with pytest.raises(DecisionNotValid):
        app.publish_scrutiny_pack(LEAD, decision=DELEGATED, **PACK)
    with pytest.raises(DecisionNotValid, match="does not delegate this decision"):
        app.publish_scrutiny_pack(OFFICER, decision=Decision(
            body="worcestershire-partnership", decided_on=date(2013, 7, 8), reason="the July pack",
            delegation="county-officer-data-protection"), **PACK)
    assert app.scrutiny_pack(scrutiny_pack_id(PACK["committee"], PACK["meeting_on"])) is None


def test_a_pack_for_a_meeting_before_its_period_ends_or_without_a_digest_is_refused(app: TaskingApplication) -> None:
    with pytest.raises(InvalidCommand) as refused:
        app.publish_scrutiny_pack(OFFICER, decision=DELEGATED, **{**PACK, "meeting_on": date(2013, 6, 1),
                                                                  "sha256": "not-a-digest"})
    assert {p["field"] for p in refused.value.problems} == {"meeting_on", "sha256"}
