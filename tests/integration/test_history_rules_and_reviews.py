"""The history format's remaining kinds (#26): the partnership's rules changed by decisions (a quorum, a district
added, renamed and retired, a body's schemes of delegation, the RAG thresholds, the priority limit), an SCS review
opened, a priority re-confirmed in it and the review closed, evidence noted (with a contact's personal details,
sealed in the target's people vault and never exported in clear), a contribution re-pointed and a period's
performance released. Each row runs through its command; it reads back through REST and GraphQL, exports as the
same row, imports again as "already imported"; a bad row of each is refused in the API's own words with nothing
written; and a history holding every kind of row round-trips: exported, imported into an empty system, it reads
the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.history import format as fmt
from services.history.export import export_history
from services.history.runner import Applier, import_history, waiter
from shared.audit.people import REDACTED, vault_for
from shared.contracts import Actor, Decision
from shared.contracts.priorities import review_id
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.harness import running_system, settings_for, wait_until
from tests.history_snapshot import renamed
from tests.integration.test_history_import import _differences, _settled
from tests.integration.test_history_row_kinds import BOARD, MANAGER, _at, _meeting, history_rows

IMPORTER = Actor("history-importer", "worcestershire-cc", "partnership_officer")
BOARD_BODY = "worcestershire-partnership"
EMAIL = "ann.resident@example.org"
d = date


def _delegated(body: str, on: date, why: str, scheme: str) -> fmt.DecisionRow:
    return fmt.DecisionRow(body=body, decided_on=on, reason=why, delegation=scheme, reference=f"{scheme}/{on}")


def new_rows() -> dict[str, list[Any]]:
    """The new kinds, each list to go in after the row of ``history_rows()`` its key names."""
    def board(meeting: str, on: date, why: str) -> fmt.DecisionRow:
        return _at(BOARD_BODY, meeting, on, why)

    return {
        "board": [  # straight after the board's first meeting: the rules change from January 2011
            fmt.QuorumChange(key="pstg-quorum-4", body="pstg", quorum=4,
                             decision=board("board", d(2011, 1, 3), "Every PSTG member to be present")),
            fmt.DistrictAdded(key="tenbury-added", district="tenbury", name="Tenbury", partnership="Tenbury Forum",
                              quorum=2, decision=board("board", d(2011, 1, 3), "Tenbury joins")),
            fmt.DistrictRenamed(key="tenbury-renamed", district="tenbury", name="Tenbury Wells",
                                partnership="Tenbury Wells Forum",
                                decision=board("board", d(2011, 1, 3), "Its proper name")),
            fmt.SchemesOfDelegation(
                key="wychavon-schemes", body="wychavon",
                schemes=[fmt.DelegationScheme(id="wychavon-pm", role="programme_manager",
                                              decisions=["project.intervention"], name="Wychavon's manager")],
                decision=board("board", d(2011, 1, 3), "Interventions only")),
            fmt.RagThresholds(key="rag-tighter", green_within_percent=5, amber_within_percent=15,
                              decision=board("board", d(2011, 1, 3), "Tighter")),
            fmt.PriorityLimit(key="limit-4", max_agreed_priorities_per_district=4,
                              decision=board("board", d(2011, 1, 3), "Fewer, better priorities")),
            # Kinds the later changes' history lacks, so that this one holds every kind of row.
            fmt.Commitment(key="police", organisation="west-mercia-police", districts=["worcester", "wychavon"]),
            fmt.Action(key="circulate", meeting="board", owner="worcestershire-cc", due_on=d(2011, 2, 1),
                       description="Circulate the new rules", done_on=d(2011, 1, 20), note="Sent to every partner"),
        ],
        "deliver": [  # evidence noted; a third share, accepted, to re-point the project's outcomes to
            fmt.Evidence(key="survey", district="worcester", title="Residents' survey", summary="Jobs first",
                         source="Survey 2010", evidence_date=d(2010, 11, 1), objectives=["jobs"],
                         contact=fmt.Contact(person_id="resident-17", name="Ann Resident", email=EMAIL),
                         noted=_delegated(BOARD_BODY, d(2011, 1, 10), "Too small a sample",
                                          "county-officer-evidence-and-release"),
                         noted_reason="A sample of 40"),
            fmt.Tasking(key="third", target="jobs-target", theme_group="pstg", district="worcester",
                        share=Decimal(100), deadline=d(2015, 1, 10), lead_partner="worcester-city-council",
                        commissioning_level="district", decision=_at("pstg", "pstg-1", d(2011, 1, 10), "Third")),
            fmt.TaskingAnswer(key="accept-third", tasking="third", step="accept",
                              decision=_at("worcester", "alliance-1", d(2011, 1, 10), "Taken on")),
        ],
        "report-3": [  # red in April: 30 jobs where the line says 39
            fmt.Intervention(key="escalated", project="project", by=MANAGER, intervention="escalate_to_theme_group",
                             description="The lease is late",
                             decision=_delegated("worcester", d(2011, 4, 15), "Escalated",
                                                 "worcester-programme-manager")),
        ],
        "amber": [
            fmt.ContributionRepoint(key="to-third", project="project", by=MANAGER, from_tasking="share",
                                    to_tasking="third", reason="The hub's jobs are the third share's",
                                    decision=_delegated("worcester", d(2011, 5, 2), "Counted where they are",
                                                        "worcester-programme-manager")),
            fmt.Transfer(key="to-wychavon", tasking="share", district="wychavon", lead_partner="wychavon-dc",
                         share=Decimal(50), deadline=d(2015, 1, 10),
                         decision=_at("pstg", "pstg-2", d(2011, 5, 2), "Wychavon's part")),
            fmt.Retasking(key="share-later", tasking="share", district="worcester",
                          lead_partner="worcester-city-council", share=Decimal(550), deadline=d(2015, 6, 30),
                          decision=_at("pstg", "pstg-2", d(2011, 5, 2), "Six months more")),
            fmt.Priority(key="city-skills", district="worcester", title="City skills", rationale="Skills gap",
                         objective="jobs", agreed=_at("worcester", "alliance-2", d(2011, 5, 2), "Agreed")),
            _meeting("board-2", BOARD_BODY, d(2011, 6, 1), BOARD),
            fmt.ScsReview(key="review-1", number=1, decision=board("board-2", d(2011, 6, 1), "The first review")),
        ],
        "fit-out": [
            fmt.MilestoneAchieved(key="fit-out-done", project="project", by=MANAGER, milestone="fit-out",
                                  achieved_on=d(2011, 5, 20)),
        ],
        "resumed": [
            fmt.Reconfirmation(key="city-skills-again", priority="city-skills",
                               decision=_at("worcester", "alliance-3", d(2011, 9, 5), "Still the city's")),
            _meeting("board-3", BOARD_BODY, d(2012, 5, 1), BOARD),
            fmt.ScsReviewClosed(key="review-1-closed", review="review-1",
                                decision=board("board-3", d(2012, 5, 1), "Every priority seen")),
            fmt.DistrictRetired(key="tenbury-retired", district="tenbury",
                                decision=board("board-3", d(2012, 5, 1), "Merged into Malvern Hills")),
            fmt.PerformanceRelease(key="2011-12", starts_on=d(2011, 4, 1), ends_on=d(2012, 3, 31),
                                   decision=_delegated(BOARD_BODY, d(2012, 5, 1), "The year's figures",
                                                       "county-officer-evidence-and-release")),
            fmt.MembershipEnded(key="fire-left", body=BOARD_BODY, organisation="hw-fire", left_on=d(2012, 6, 1),
                                reason="The fire authority leaves the board"),
        ],
    }


def every_kind() -> list[Any]:
    """The later changes' history with the new kinds in their places: a history holding every kind of row."""
    rows = history_rows()
    for after, added in new_rows().items():
        at = next(i for i, r in enumerate(rows) if r.key == after) + 1
        rows[at:at] = added
    return rows


def _write(tmp_path: Path, name: str, rows: list[Any]) -> fmt.HistoryFile:
    path = tmp_path / name
    path.write_text(fmt.to_json(fmt.HistoryDocument(partnership="worcestershire", rows=rows)))
    return fmt.read(path)


def _unsigned(row: Any) -> dict[str, Any]:
    unsigned: dict[str, Any] = row.model_dump(exclude={"by", "agreed_by", "accepted_by", "done_by", "noted_by"})
    return unsigned


def test_every_kind_of_row_is_in_the_format_and_its_published_schemas() -> None:
    kinds = set(fmt.ROW_TYPES)
    assert {"quorum_change", "district_added", "district_renamed", "district_retired", "schemes_of_delegation",
            "rag_thresholds", "priority_limit", "scs_review", "scs_review_closed", "reconfirmation",
            "performance_release", "contribution_repoint"} <= kinds
    published = Path(__file__).parents[2] / "contracts" / "history"
    for name, schema in fmt.json_schemas().items():
        assert json.loads((published / name).read_text()) == schema, f"{name}: run `partnership contracts`"
    assert {"noted", "noted_reason", "contact"} <= set(
        json.loads((published / "evidence.schema.json").read_text())["properties"])


def test_the_new_kinds_import_read_back_export_the_same_and_import_once(tmp_path: Path) -> None:
    rows = every_kind()
    history = _write(tmp_path, "history.json", rows)
    fmt.write(history.document, tmp_path / "csv")
    assert fmt.read(tmp_path / "csv").rows == rows  # the CSV folder says the same (schemes, a contact)
    with running_system(settings_for(data_dir=tmp_path / "imported")) as h:
        report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert report.imported, json.dumps(report.as_dict()["rows"], indent=1)
        assert {r.outcome for r in report.rows} == {"accepted"}

        # The rules, through REST: each change with the date it is in force from.
        rules = h.client.get("/tasking/partnership", headers=h.headers("auditor")).json()
        assert [c["change"] for c in rules["changes"]] == [
            "quorum", "district_added", "district_renamed", "schemes_of_delegation", "rag_thresholds",
            "priority_limit", "district_retired"]
        assert rules["quorums"]["pstg"] == 4 and "tenbury" not in rules["districts"]
        assert (rules["green_within_percent"], rules["amber_within_percent"],
                rules["max_agreed_priorities_per_district"]) == (5, 15, 4)

        # The review, the evidence and the release, through GraphQL; the re-pointing through REST.
        def read_back() -> dict[str, Any] | None:
            data = h.graphql("{ scsReviews { number status } evidence { title status statusReason } "
                             "performanceReleases { startsOn endsOn reason } }")["data"]
            return data if data["scsReviews"] and data["evidence"] and data["performanceReleases"] else None

        assert wait_until(read_back, what="the review, the evidence and the release") == {
            "scsReviews": [{"number": 1, "status": "closed"}],
            "evidence": [{"title": "Residents' survey", "status": "noted", "statusReason": "A sample of 40"}],
            "performanceReleases": [{"startsOn": "2011-04-01", "endsOn": "2012-03-31",
                                     "reason": "The year's figures"}]}
        applier = Applier(h.system.applications, IMPORTER, history.sha256, waiter(1))
        project_id = applier.created_id("project", "project")
        third = str(applier.created_id("tasking", "third"))
        project = h.client.get(f"/projects/projects/{project_id}", headers=h.headers("auditor")).json()
        assert [o["tasking_id"] for o in project["outcomes"]] == [third]
        priorities: Any = h.system.applications["priorities"]
        review = h.client.get(f"/priorities/reviews/{review_id(1)}", headers=h.headers("auditor")).json()
        assert (review["number"], review["open"], review["outstanding"]) == (1, False, [])

        exported = export_history(h.system.applications)
        text = fmt.to_json(exported)
        assert EMAIL not in text and "Ann Resident" not in text  # never in clear: the vault keeps it
        survey = next(r for r in exported.rows if r.kind == "evidence")
        assert survey.contact == fmt.Contact(person_id="resident-17")
        sealed = next(iter(priorities.events.get(applier.created_id("evidence", "survey")))).contact
        assert priorities.vault.open(sealed) == {"name": "Ann Resident", "email": EMAIL}  # sealed, as by REST

        # Every row exports as itself (the contact as its id alone); who acted travels out as who imported it.
        expected = [r.model_copy(update={"contact": fmt.Contact(person_id="resident-17")}) if r.key == "survey"
                    else r for r in rows]
        got = [_unsigned(r) for r in exported.rows if r.kind != "body"]
        assert got == [_unsigned(r) for r in expected], _differences(got, [_unsigned(r) for r in expected])

        again = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert {r.outcome for r in again.rows} == {"already imported"}


def test_a_history_with_every_kind_round_trips_into_an_empty_system(tmp_path: Path) -> None:
    """Export, import into an empty system, equal read models (GraphQL, the pack, the audit); exported again, the
    same file. A contact erased where the history came from is erased in the target too."""
    _round_trip(tmp_path, lambda name: settings_for(data_dir=tmp_path / name))


def test_on_postgresql_and_kafka_a_history_with_every_kind_round_trips(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """The same as deployed: the stores on PostgreSQL (a schema prefix each), the services over Kafka."""
    _round_trip(tmp_path, lambda name: settings_for(data_dir=tmp_path / name, postgres_url=postgres_url,
                                                    kafka=kafka_bootstrap))


def _round_trip(tmp_path: Path, settings: Callable[[str], Settings]) -> None:
    history = _write(tmp_path, "history.json", every_kind())
    with running_system(settings("first")) as first:
        assert import_history(history, first.system.applications, IMPORTER, first.system.settings).imported
        # The data protection officer's acts in the source (as `audit erase` and `audit redact` do them): the
        # contact erased, a tasking's texts redacted, each recorded in tasking's register.
        first.system.applications["priorities"].vault.erase("resident-17", "an erasure request")  # type: ignore
        extra = str(Applier(first.system.applications, IMPORTER, history.sha256, waiter(1)).created_id(
            "tasking", "extra"))
        keys = vault_for(first.system.settings).redact(extra, "names a resident")
        tasking: Any = first.system.applications["tasking"]
        officer = CommandContext(IMPORTER, "data-protection")
        protection = Decision(body=BOARD_BODY, decided_on=d(2026, 12, 1), reason="A request",
                              delegation="county-officer-data-protection", reference="DP/2026/1")
        tasking.record_erasure(officer, decision=protection, pseudonyms=[], redacted_texts=0,
                               contact_details_in=["priorities"])
        tasking.record_redaction(officer, decision=protection, record_id=extra, record_version=None, keys=keys)
        before = _settled(first)
        exported = export_history(first.system.applications)
    assert {r.kind for r in exported.rows} == set(fmt.ROW_TYPES)  # a history holding every kind of row
    # The erasure and the redaction are no rows: what they did is in the rows (the contact erased, the texts).
    assert next(r for r in exported.rows if r.key == "withdraw-extra").reason == REDACTED
    assert next(r for r in exported.rows if r.kind == "evidence").contact == fmt.Contact(
        person_id="resident-17", erased=True)
    fmt.write(exported, tmp_path / "exported")
    moved = fmt.read(tmp_path / "exported")
    with running_system(settings("second")) as second:
        report = import_history(moved, second.system.applications, IMPORTER, second.system.settings)
        assert report.imported, json.dumps(report.as_dict()["rows"], indent=1)
        differences = _differences(renamed(_settled(second), {}), renamed(before, {}))
        assert differences == [], "\n".join(differences)
        assert export_history(second.system.applications).rows == exported.rows
        priorities: Any = second.system.applications["priorities"]
        assert "resident-17" in priorities.vault.erased()


def test_a_bad_row_of_each_new_kind_is_refused_in_the_apis_words_and_nothing_is_written(tmp_path: Path) -> None:
    rows = every_kind()

    def replace(key: str, **changes: Any) -> None:
        at = next(i for i, r in enumerate(rows) if r.key == key)
        rows[at] = rows[at].model_copy(update=changes)

    replace("pstg-quorum-4", body="no-such-body")
    replace("tenbury-renamed", district="atlantis")
    replace("review-1", number=2)
    replace("limit-4", max_agreed_priorities_per_district=0)
    replace("to-third", to_tasking="extra")  # issued, never accepted
    at = next(i for i, r in enumerate(rows) if r.key == "city-skills-again")
    rows.insert(at, fmt.Reconfirmation(key="too-soon", priority="city-jobs",
                                       decision=_at("worcester", "alliance-3", d(2011, 9, 5), "Again")))
    rows.append(fmt.PerformanceRelease(key="again", starts_on=d(2012, 1, 1), ends_on=d(2012, 3, 31),
                                       decision=_delegated(BOARD_BODY, d(2012, 5, 1), "Again",
                                                           "county-officer-evidence-and-release")))
    history = _write(tmp_path, "bad.json", rows)
    with running_system(settings_for(data_dir=tmp_path / "refused")) as h:
        report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert not report.imported
        assert not any(app.holds_history() for app in h.system.applications.values())  # only the founding
        refused = {r.row: r for r in report.refused}
        print(json.dumps({k: v.as_dict() for k, v in refused.items()}, indent=1))
        assert set(refused) >= {"quorum_change pstg-quorum-4", "district_renamed tenbury-renamed",
                                "scs_review review-1", "priority_limit limit-4", "contribution_repoint to-third",
                                "performance_release again"}
        assert "no-such-body" in (refused["quorum_change pstg-quorum-4"].detail or "")
        assert "atlantis" in (refused["district_renamed tenbury-renamed"].detail or "")
        assert refused["scs_review review-1"].detail == "The next SCS review is number 1, not 2."
        assert "not accepted" in json.dumps(refused["contribution_repoint to-third"].as_dict())
        assert "already released" in (refused["performance_release again"].detail or "")
        assert all(r.status in (403, 409, 422) and r.title for r in refused.values())
        assert "reconfirmation too-soon" in refused  # city-jobs was retired before the review
        assert {r.outcome for r in report.rows} == {"refused", "not imported"}
