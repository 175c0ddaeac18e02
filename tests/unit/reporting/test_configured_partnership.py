"""The reporting side reads the partnership the deployment configured (``PARTNERSHIP_PARTNERSHIP_FILE``), as the
write side does: GraphQL ``partnership``, district and body names in retasking chains, and the scrutiny pack's
partnership and scope never fall back to the Worcestershire demo definition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.reporting_history import History
from services.reporting.changes import Scope
from services.reporting.graphql import schema
from services.reporting.packs import PackRequest, build_pack
from services.reporting.projections import ReportingProjection, read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from shared.auth import Grant, Principal, Role
from shared.contracts import Actor, Decision
from shared.contracts.tasking import CommissioningLevel, TaskingIssued, TaskingRetasked
from shared.envelope import decode
from shared.readstore import ReadStore
from tests.copies import TaskingFeed
from tests.harness import settings_for

HEREFORDSHIRE = {
    "id": "herefordshire", "name": "Herefordshire Partnership", "founded_on": "2008-04-01",
    "max_agreed_priorities_per_district": 4,
    "units": ["jobs", "count"],
    "bodies": [{"id": "hpb", "kind": "partnership_board", "name": "Herefordshire Partnership Board", "quorum": 4},
               {"id": "htg", "kind": "theme_group", "name": "Herefordshire Place Theme Group", "quorum": 2}],
    "districts": [{"id": "leominster", "name": "Leominster", "partnership": "Leominster Together"},
                  {"id": "ross", "name": "Ross-on-Wye", "partnership": "Ross Partnership"}],
    "organisations": [{"id": "herefordshire-council", "name": "Herefordshire Council", "kind": "council",
                       "county_wide": True}],
}
LEAD = Actor("htg-lead", "herefordshire-council", "theme_group_lead")
AUDITOR = Principal(user_id="auditor-1", organisation="herefordshire-council", grants=frozenset({Grant(Role.AUDITOR)}))


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ReportingReadModel]:
    definition = tmp_path / "herefordshire.yaml"
    definition.write_text(yaml.safe_dump(HEREFORDSHIRE))
    store = ReadStore(settings_for(data_dir=tmp_path, partnership_file=definition), "reporting")
    try:
        yield ReportingReadModel(store, read_model_ddl())
    finally:
        store.close()


def _transfer(model: ReportingReadModel) -> uuid.UUID:
    """Leominster is tasked 1,200 jobs; the theme group moves 200 of them to Ross-on-Wye."""
    history, kept, moved = History(), uuid.uuid4(), uuid.uuid4()
    feed = TaskingFeed(model.store)  # the theme group's quorate meeting, in reporting's copy of tasking's meetings
    for organisation in ("herefordshire-council", "ross-college"):
        feed.seat("htg", organisation)
    decided = Decision(**feed.meeting("htg", date(2012, 5, 1), ["herefordshire-council", "ross-college"],
                                      "Ross has the sites"), reference="HTG/12/4")
    terms = {"target_id": uuid.uuid4(), "theme_group": "htg", "unit": "jobs", "deadline": date(2016, 3, 31),
             "lead_partner": "herefordshire-council", "commissioning_level": CommissioningLevel.DISTRICT}
    history.add("tasking", kept, 1, TaskingIssued(actor=LEAD, correlation_id="c", decision=decided, **terms,
                                                  district="leominster", share=Decimal(1200),
                                                  counts_against_target=True))
    history.add("tasking", kept, 2, TaskingRetasked(
        actor=LEAD, correlation_id="c", decision=decided, district="leominster", lead_partner="herefordshire-council",
        share=Decimal(1000), deadline=date(2016, 3, 31), previous_district="leominster",
        previous_lead_partner="herefordshire-council", previous_share=Decimal(1200),
        previous_deadline=date(2016, 3, 31), reason="Ross has the sites", issued_again=False,
        counts_against_target=True))
    history.add("tasking", moved, 1, TaskingIssued(actor=LEAD, correlation_id="c", decision=decided, **terms,
                                                   district="ross", share=Decimal(200), retasked_from=kept,
                                                   counts_against_target=True))
    projection = ReportingProjection()
    with model.store.transaction() as tx:
        for _, value in history.events["tasking.events"]:
            projection.apply(tx, decode(value))
    return kept


def _graphql(model: ReportingReadModel, query: str) -> dict[str, Any]:
    result = schema.execute_sync(query, context_value={"model": model, "principal": AUDITOR})
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def test_graphql_shows_the_configured_partnership_its_districts_and_theme_groups(model: ReportingReadModel) -> None:
    data = _graphql(model, "{ partnership { name maxAgreedPrioritiesPerDistrict districts { districtId name } "
                           "bodies { bodyId } } districts { partnership } themeGroups { name } }")
    assert data["partnership"]["name"] == "Herefordshire Partnership"
    assert data["partnership"]["maxAgreedPrioritiesPerDistrict"] == 4
    assert data["partnership"]["districts"] == [{"districtId": "leominster", "name": "Leominster"},
                                                {"districtId": "ross", "name": "Ross-on-Wye"}]
    assert [b["bodyId"] for b in data["partnership"]["bodies"]] == ["hpb", "htg"]
    assert [d["partnership"] for d in data["districts"]] == ["Leominster Together", "Ross Partnership"]
    assert data["themeGroups"] == [{"name": "Herefordshire Place Theme Group"}]


def test_a_retasking_chain_names_the_configured_districts_and_deciding_body(model: ReportingReadModel) -> None:
    kept = _transfer(model)
    data = _graphql(model, f'{{ retaskingChain(taskingId: "{kept}") {{ steps {{ summary }} }} '
                           '  districtsWithoutPartnerKind(kind: "police") { districtName } }')
    assert [s["summary"] for s in data["retaskingChain"]["steps"]] == [
        "Leominster 1,200 -> Leominster 1,000 + Ross-on-Wye 200, decided by Herefordshire Place Theme Group"
        " on 2012-05-01 because Ross has the sites [HTG/12/4]"]
    assert [d["districtName"] for d in data["districtsWithoutPartnerKind"]] == ["Leominster", "Ross-on-Wye"]


def test_a_scrutiny_pack_is_headed_with_the_configured_partnership_and_scope(model: ReportingReadModel) -> None:
    _transfer(model)
    pack = build_pack(model.store, PackRequest(committee="Scrutiny", start=date(2012, 1, 1), end=date(2012, 12, 31),
                                               scope=Scope(frozenset({"ross"})),
                                               as_of=datetime(2030, 1, 1, tzinfo=UTC)))
    assert pack.partnership == "Herefordshire Partnership"
    assert pack.scope_label == "Ross-on-Wye"
    summaries = [r["summary"] for r in pack.retaskings]
    assert len(summaries) == 1
    assert (pack.retaskings[0]["body"], pack.retaskings[0]["meeting"]) == (
        "Herefordshire Place Theme Group", "htg meeting, 1 May 2012")  # names, not ids
    assert summaries == ["Leominster 1,200 \u2192 Leominster 1,000 + Ross-on-Wye 200"]
    retasked = [d["sentence"] for d in pack.decisions if "retasked" in d["sentence"]]
    assert retasked == ["Herefordshire Place Theme Group retasked Leominster's 1,200 jobs: Leominster keeps 1,000"
                        " (led by Herefordshire Council) and the other 200 are tasked to Ross-on-Wye at its"
                        " meeting \u201chtg meeting\u201d on 1 May 2012 (minute HTG/12/4),"
                        " because: Ross has the sites."]


def test_a_pack_period_is_on_the_in_force_axis_with_the_day_of_entry_beside_it(model: ReportingReadModel) -> None:
    """Entered later, decided on 1 May 2012: in the period that holds 1 May 2012, not in the one before it; the
    day it was entered is shown where it differs from the day it was decided."""
    _transfer(model)
    as_of = datetime(2030, 1, 1, tzinfo=UTC)
    before = build_pack(model.store, PackRequest(committee="Scrutiny", start=date(2012, 1, 1),
                                                 end=date(2012, 4, 30), as_of=as_of))
    assert [d for d in before.decisions if "retasked" in d["sentence"]] == []
    during = build_pack(model.store, PackRequest(committee="Scrutiny", start=date(2012, 5, 1),
                                                 end=date(2012, 12, 31), as_of=as_of))
    retasked = [d for d in during.decisions if "retasked" in d["sentence"]]
    assert len(retasked) == 1 and retasked[0]["decided_on"] == "2012-05-01"
    entered = model.store.query("SELECT time FROM event_log WHERE type LIKE 'tasking.TaskingRetasked%'")[0]["time"]
    assert retasked[0]["entered_on"] == entered[:10] != "2012-05-01"  # entered later than decided
