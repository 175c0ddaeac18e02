"""The people vault at the mapper seam: an event stored before pseudonyms is upcast on read (its bytes untouched)
and erasure never re-links it; a decision's reason is stored and published sealed, read opened, and reads
[redacted] once its record's key is destroyed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.priorities.application import PrioritiesApplication
from shared.audit.chain import ChainedMapper
from shared.audit.people import REDACTED, PeopleMapper, is_pseudonym, is_sealed, vault_for
from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from tests.copies import board_meeting
from tests.harness import settings_for

LEGACY = CommandContext(Actor("legacy-officer-9", "worcestershire-cc", "partnership_officer"), "corr-legacy")
WHY = "Sharper wording, as Dana Whitfield suggested"


def test_an_event_stored_with_a_subject_is_upcast_to_a_pseudonym_and_erasure_never_relinks_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(data_dir=tmp_path)
    app = PrioritiesApplication(settings)
    adopted = board_meeting(app.local, date(2011, 3, 15), "Adopted by the board")
    try:
        with monkeypatch.context() as old_code:  # the mapper as it was before pseudonyms: the subject is stored
            old_code.setattr(PeopleMapper, "to_stored_event", ChainedMapper.to_stored_event)
            objective = app.add_objective(LEGACY, title="Safer communities", level=StrategyLevel.SCS,
                                          strategy="scs", decision=adopted)
        stored = app.recorder.select_events(objective.id)[0]
        assert b"legacy-officer-9" in bytes(stored.state)  # the upcaster does not edit the stored event
        vault = vault_for(settings)
        pseudonym = app.mapper.to_domain_event(stored).actor.user_id
        assert is_pseudonym(pseudonym) and vault.pseudonym_of("legacy-officer-9") == pseudonym
        assert app.objective(objective.id).version == 1

        vault.erase("legacy-officer-9", {"reason": "DP-7", "body": "data-protection-officer",
                                         "decided_on": "2026-01-01"})
        assert app.mapper.to_domain_event(stored).actor.user_id == pseudonym  # the erased pseudonym, not a new one
        assert vault.store.query("SELECT COUNT(*) AS n FROM people WHERE subject IS NOT NULL")[0]["n"] == 0
    finally:
        app.close()


def test_a_reason_is_stored_and_published_sealed_read_opened_and_redacted_with_its_key(tmp_path: Path) -> None:
    settings = settings_for(data_dir=tmp_path)
    app = PrioritiesApplication(settings)
    try:
        objective = app.add_objective(LEGACY, title="Safer communities", level=StrategyLevel.SCS, strategy="scs",
                                      decision=board_meeting(app.local, date(2011, 3, 15), "Adopted by the board"))
        board = board_meeting(app.local, date(2011, 4, 12), WHY, reference="PB/2011/04")
        app.reword_objective(LEGACY, objective.id, expected_version=1, title="Safer communities for all",
                             decision=board)
        stored = app.recorder.select_events(objective.id)[-1]
        assert b"Dana" not in bytes(stored.state) and b"legacy-officer-9" not in bytes(stored.state)
        assert app.mapper.to_domain_event(stored).decision.reason == WHY
        assert isinstance(app.mapper, PeopleMapper)
        assert is_sealed(app.mapper.to_published_event(stored).decision.reason)

        vault = vault_for(settings)
        assert vault.redact(str(objective.id), "names a resident") == 2  # adopted, then reworded
        assert app.mapper.to_domain_event(stored).decision.reason == REDACTED
        assert [(e["kind"], e["aggregate_id"], e["reason"]) for e in vault.erasures()] == [
            ("redaction", str(objective.id), "names a resident")]  # the redaction is recorded
    finally:
        app.close()


def test_a_text_quoting_another_sealed_text_opens_whole_and_the_quote_is_redacted_with_its_own_key(
        tmp_path: Path) -> None:
    """A project's flag quotes the retasking's reason as published (sealed): read, it is the words, not ciphertext."""
    vault = vault_for(settings_for(data_dir=tmp_path))
    quoted = vault.seal("person:" + "1" * 32, "tasking", 2, {"reason": WHY})["reason"]
    flag = vault.seal("person:" + "2" * 32, "project", 3, {"reason": f"Tasking retasked: {quoted}"})["reason"]
    assert vault.open(flag) == f"Tasking retasked: {WHY}"
    vault.redact("tasking", "names a resident")
    assert vault.open(flag) == f"Tasking retasked: {REDACTED}"


def test_a_text_sealed_in_another_vault_reads_as_unavailable_not_as_redacted(tmp_path: Path) -> None:
    from shared.audit.people import UNAVAILABLE

    here, there = vault_for(settings_for(data_dir=tmp_path / "a")), vault_for(settings_for(data_dir=tmp_path / "b"))
    sealed = here.seal("person:" + "0" * 32, "aggregate", 1, {"reason": WHY})["reason"]
    assert here.open(sealed) == WHY
    assert there.open(sealed) == UNAVAILABLE  # a misconfigured deployment says so, and never claims a redaction
    here.redact("aggregate", "test")
    assert here.open(sealed) == REDACTED
