"""Moving a partnership's history onto the system (#26): the worked example's whole history, exported from a system
that loaded it through the commands, imported into an empty one, reads the same in GraphQL, the scrutiny pack and
the audit; a file with one bad row imports nothing and names that row; the same file twice imports once; and the
import's events say which file, which row, and who imported it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from services.history import format as fmt
from services.history.export import export_history
from services.history.runner import Applier, import_history, imported_row, waiter
from services.reporting.packs import PackRequest, build_pack
from shared.contracts import Actor
from tests.harness import Harness, running_system, settings_env, settings_for, wait_until
from tests.history_snapshot import audit_snapshot, graphql_snapshot, pack_snapshot, renamed

IMPORTER = Actor("history-importer", "worcestershire-cc", "partnership_officer")


def _everything(h: Harness) -> dict[str, Any]:
    return {"graphql": graphql_snapshot(h), "pack": pack_snapshot(h), "audit": audit_snapshot(h)}


def _settled(h: Harness) -> dict[str, Any]:
    """The read models once the projections stop changing (two equal reads a moment apart)."""
    last: list[Any] = [None]

    def steady() -> Any:
        now = _everything(h)
        same = now == last[0]
        last[0] = now
        return now if same and now["graphql"]["deliveryProjects"] else None

    return wait_until(steady, timeout=60, what="the read models to settle")


def _ids(h: Harness, history: fmt.HistoryFile) -> dict[str, str]:
    """Each exported key (the demo's id) -> the id the import derived from it."""
    applier = Applier(h.system.applications, IMPORTER, history.sha256, waiter(1))
    return {row.key: str(applier.created_id(row.kind, row.key, row.by)) for row in history.rows
            if row.kind in ("meeting", "tasking", "transfer", "action", "objective", "target", "priority",
                            "evidence", "project")}


def _differences(got: Any, expected: Any, path: str = "") -> list[str]:
    if isinstance(got, dict) and isinstance(expected, dict):
        return [d for k in sorted(set(got) | set(expected))
                for d in _differences(got.get(k), expected.get(k), f"{path}.{k}")]
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return [d for i, (g, e) in enumerate(zip(got, expected, strict=True))
                for d in _differences(g, e, f"{path}[{i}]")]
    return [] if got == expected else [f"{path}: {str(got)[:300]} != {str(expected)[:300]}"]


def _heads(h: Harness) -> dict[str, int | None]:
    return {name: app.recorder.max_notification_id() for name, app in h.system.applications.items()}


def test_the_worked_example_as_files_imports_into_an_empty_system_and_reads_the_same(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path / "commands")) as demo:
        assert demo.system.load_demo_data()
        through_commands = _settled(demo)
        exported = export_history(demo.system.applications)
    fmt.write(exported, tmp_path / "history.json")
    fmt.write(exported, tmp_path / "history-csv")
    for path in (tmp_path / "history.json", tmp_path / "history-csv"):
        history = fmt.read(path)
        assert history.document.rows == exported.rows  # the CSV folder and the JSON say the same
        with running_system(settings_for(data_dir=tmp_path / f"imported-{path.name}")) as h:
            report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
            assert report.imported, report.as_dict()
            assert {r.outcome for r in report.rows} == {"accepted"}
            assert len(report.rows) == len(exported.rows) == 52
            imported = _settled(h)
            expected = renamed(through_commands, _ids(h, history))
            differences = _differences(renamed(imported, {}), expected)
            assert differences == [], "\n".join(differences)

            # Provenance: every event names the file and its row, and the importer is its actor.
            first = next(row for row in history.rows if row.kind == "tasking")
            applier = Applier(h.system.applications, IMPORTER, history.sha256, waiter(1))
            events = list(h.system.applications["tasking"].events.get(  # type: ignore[attr-defined]
                applier.created_id("tasking", first.key, first.by)))
            assert len(events) >= 3  # issued, accepted, retasked, delivery started
            assert all(e.correlation_id.startswith(f"import:sha256={history.sha256};row=") for e in events)
            importer = h.pseudonym(IMPORTER.user_id)  # the people vault keeps who the importer is
            assert importer and all(e.actor.user_id == importer for e in events)
            assert imported_row(events[0].correlation_id) == f"tasking/{first.key}"

            # The same file again changes nothing.
            heads = _heads(h)
            again = import_history(history, h.system.applications, IMPORTER, h.system.settings)
            assert not again.imported and {r.outcome for r in again.rows} == {"already imported"}
            assert _heads(h) == heads

            # A round trip: the imported system exports the same file (its rows keep their keys).
            assert export_history(h.system.applications).rows == exported.rows


def test_one_bad_row_imports_nothing_and_is_named(tmp_path: Path) -> None:
    with running_system(settings_for(data_dir=tmp_path / "commands")) as demo:
        assert demo.system.load_demo_data()
        wait_until(lambda: demo.system.applications["projects"].recorder.max_notification_id(), what="projects")
        exported = export_history(demo.system.applications)
    document = json.loads(fmt.to_json(exported))
    bad = next(i for i, r in enumerate(document["rows"]) if r["kind"] == "transfer")
    document["rows"][bad]["share"] = "5000"  # more than Worcester holds: the retasking rule refuses it
    (tmp_path / "bad.json").write_text(json.dumps(document))
    history = fmt.read(tmp_path / "bad.json")
    with running_system(settings_for(data_dir=tmp_path / "imported")) as h:
        report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert not report.imported
        assert not any(app.holds_history() for app in h.system.applications.values())  # only the founding
        refused = report.refused
        assert refused[0].row == f"transfer {document['rows'][bad]['key']}"
        assert refused[0].status in (409, 422) and refused[0].detail
        print(json.dumps([r.as_dict() for r in refused], indent=1))


def test_the_commands_export_and_import_a_history_once(tmp_path: Path) -> None:
    """``partnership export history`` from a system that ran the demo, ``partnership import history`` into an empty
    one (its own workers carrying the events between the services), twice: imported once, then nothing changed."""
    from typer.testing import CliRunner

    from services.cli import cli

    commands = settings_for(data_dir=tmp_path / "commands")
    with running_system(commands) as demo:
        assert demo.system.load_demo_data()
        wait_until(lambda: demo.system.applications["projects"].recorder.max_notification_id(), what="projects")
    runner = CliRunner()
    exported = runner.invoke(cli, ["export", "history", str(tmp_path / "history")], env=settings_env(commands))
    assert exported.exit_code == 0, exported.output
    assert "52 rows written" in exported.output
    empty = settings_env(settings_for(data_dir=tmp_path / "imported"))
    arguments = ["import", "history", str(tmp_path / "history"), "--by", "history-importer",
                 "--organisation", "worcestershire-cc", "--report", str(tmp_path / "report.json")]
    first = runner.invoke(cli, arguments, env=empty)
    assert first.exit_code == 0, first.output
    assert "52 accepted" in first.output
    assert json.loads((tmp_path / "report.json").read_text())["imported"] is True
    second = runner.invoke(cli, arguments, env=empty)
    assert second.exit_code == 0, second.output
    assert "52 already imported; nothing changed" in second.output

    (tmp_path / "history" / "progress.csv").write_text(
        (tmp_path / "history" / "progress.csv").read_text().replace('"{""jobs"": ""95""}"', '"{""places"": ""95""}"'))
    other = settings_env(settings_for(data_dir=tmp_path / "refused"))
    refused = runner.invoke(cli, arguments, env=other)
    assert refused.exit_code == 1
    assert "progress " in refused.output and "not imported" in refused.output


def test_a_historic_meeting_without_attendance_stands_on_its_minutes_and_is_shown_and_audited_so(
        tmp_path: Path) -> None:
    """The board met in 2009; its minutes say it was quorate but not who came. Imported with its minute reference,
    its decision passes the rule, GraphQL and the pack say "quorum as minuted", the audit counts it apart (and not
    as unresolved); a meeting with neither attendance nor a minute reference is refused in the API's words."""
    board = ["worcestershire-cc", "nhs-worcestershire", "west-mercia-police", "hw-fire", "chamber-of-commerce"]
    rows: list[Any] = [fmt.Body(key="worcestershire-partnership", name="Worcestershire Partnership Board",
                                body_kind="partnership_board", quorum=5)]
    rows += [fmt.Membership(key=f"board/{org}", body="worcestershire-partnership", organisation=org,
                            joined_on=date(2008, 4, 1)) for org in board]
    rows += [
        fmt.Meeting(key="board-2009-03", body="worcestershire-partnership", held_on=date(2009, 3, 3),
                    title="Partnership board: the SCS", quorum_as_minuted="WP/2009/03"),
        fmt.Objective(key="scs", title="A skilled and prosperous economy", level="scs",
                      strategy="Sustainable Community Strategy",
                      decision=fmt.DecisionRow(body="worcestershire-partnership", decided_on=date(2009, 3, 3),
                                               reason="The SCS agreed", meeting="board-2009-03",
                                               reference="WP/2009/03/2")),
        fmt.MembershipEnded(key="board/hw-fire/left", body="worcestershire-partnership", organisation="hw-fire",
                            left_on=date(2010, 3, 31), reason="The fire authority leaves the board")]
    (tmp_path / "minuted.json").write_text(fmt.to_json(fmt.HistoryDocument(partnership="worcestershire", rows=rows)))
    history = fmt.read(tmp_path / "minuted.json")
    with running_system(settings_for(data_dir=tmp_path / "imported")) as h:
        report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert report.imported, report.as_dict()
        meetings = wait_until(lambda: h.graphql("{ meetings { title present quorumAsMinuted quorum } }")["data"][
            "meetings"], what="the meeting in GraphQL")
        assert meetings == [{"title": "Partnership board: the SCS", "present": [], "quorumAsMinuted": "WP/2009/03",
                             "quorum": "quorum as minuted (WP/2009/03)"}]
        # The objective comes by its own topic (priorities'), which the meeting's arrival does not wait for.
        objectives = wait_until(lambda: h.graphql(
            "{ objectives { decision { meeting { title quorum quorumAsMinuted } } } }")["data"]["objectives"],
            what="the objective in GraphQL")
        assert objectives == [{"decision": {"meeting": {
            "title": "Partnership board: the SCS", "quorum": "quorum as minuted (WP/2009/03)",
            "quorumAsMinuted": "WP/2009/03"}}}]
        auditor = h.system.auditor()
        minuted = auditor.minuted_quorum_decisions()
        assert [(m.type, m.quorum_as_minuted) for m in minuted] == [("priorities.ObjectiveAdded.v1", "WP/2009/03")]
        assert auditor.unresolved_decisions() == [] and auditor.missing_decisions() == []

        def in_the_pack() -> list[str]:
            assert h.system.read_model is not None
            pack = build_pack(h.system.read_model.store, PackRequest(committee="Scrutiny", start=date(2009, 1, 1),
                                                                     end=date(2009, 12, 31)))
            return [d["sentence"] for d in pack.decisions]

        sentences = wait_until(in_the_pack, what="the decision in the pack")
        assert "quorum as minuted (WP/2009/03)" in sentences[0]
        exported = [r for r in export_history(h.system.applications).rows if r.kind != "body"]
        # The minute reference and the leaving travel out too; each exported row names who acted, now.
        assert [r.model_copy(update={"by": None}) for r in exported] == history.rows[1:]
        assert {r.by for r in exported} == {fmt.ActingFor(organisation="worcestershire-cc", role="partnership_officer")}
        def former_members() -> list[dict[str, object]]:
            members: list[dict[str, object]] = h.graphql(
                '{ memberships(body: "worcestershire-partnership", includeFormer: true) { organisation isMember } }'
            )["data"]["memberships"]
            return [m for m in members if m == {"organisation": "hw-fire", "isMember": False}]

        # The leaving is projected by its own consumer, which the pack's decisions do not wait for.
        assert wait_until(former_members, what="the fire service's leaving in the memberships")

    no_evidence = json.loads(fmt.to_json(history.document))
    no_evidence["rows"][1 + len(board)].pop("quorum_as_minuted")
    no_evidence["rows"][0]["quorum"] = 2  # not the partnership file's board
    (tmp_path / "unminuted.json").write_text(json.dumps(no_evidence))
    with running_system(settings_for(data_dir=tmp_path / "refused")) as h:
        report = import_history(fmt.read(tmp_path / "unminuted.json"), h.system.applications, IMPORTER,
                                h.system.settings)
        assert not report.imported
        assert [(r.row, r.detail) for r in report.refused[:2]] == [
            ("body worcestershire-partnership", "The body 'worcestershire-partnership' differs from the partnership "
                                                "file's: quorum is 5 there, not 2."),
            ("meeting board-2009-03", "Record who was present at the meeting.")]
        assert not any(app.holds_history() for app in h.system.applications.values())  # only the founding


def test_on_postgresql_and_kafka_the_imported_worked_example_reads_as_the_commanded_one(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """The same round trip as deployed: each system's stores on PostgreSQL (a schema prefix of its own), its
    services talking over Kafka (topics of its own); the dry run still runs in a scratch embedded system."""
    def distributed(name: str) -> Any:
        return settings_for(data_dir=tmp_path / name, postgres_url=postgres_url, kafka=kafka_bootstrap)

    with running_system(distributed("commands")) as demo:
        assert demo.system.load_demo_data()
        through_commands = _settled(demo)
        exported = export_history(demo.system.applications)
    fmt.write(exported, tmp_path / "history-csv")
    history = fmt.read(tmp_path / "history-csv")
    with running_system(distributed("imported")) as h:
        report = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert report.imported, report.as_dict()
        differences = _differences(renamed(_settled(h), {}), renamed(through_commands, _ids(h, history)))
        assert differences == [], "\n".join(differences)
        heads = _heads(h)
        again = import_history(history, h.system.applications, IMPORTER, h.system.settings)
        assert {r.outcome for r in again.rows} == {"already imported"} and _heads(h) == heads
        assert export_history(h.system.applications).rows == exported.rows
