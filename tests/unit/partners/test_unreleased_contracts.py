"""A contract declared for the next release is generated apart, free to change, and in no published contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import shared.contracts as contracts_module
from services.partners.contracts import UNRELEASED, check_compatible, render
from services.partners.release import notice_draft, release_plan
from shared.contracts import CONTRACT_RELEASE, Fact, all_contracts, contract, contract_type, is_released, release_of
from tests.contract_probe import PROBE_TYPE, declared_unreleased

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "contracts"


def test_the_probe_is_generated_apart_and_left_out_of_every_published_contract(
        monkeypatch: pytest.MonkeyPatch) -> None:
    declared_unreleased(monkeypatch)
    assert not is_released(PROBE_TYPE)
    files = render()
    schema = json.loads(files[f"{UNRELEASED}/events/{PROBE_TYPE}.schema.json"])
    assert f"Unreleased: part of contract release {CONTRACT_RELEASE + 1}" in schema["description"]
    assert f"events/{PROBE_TYPE}.schema.json" not in files
    assert PROBE_TYPE not in files["asyncapi.yaml"]
    assert yaml.safe_load(files["asyncapi.yaml"])["info"]["version"] == f"{CONTRACT_RELEASE}.0.0"
    check_compatible(COMMITTED)  # free to change: never compared with anything published
    plan = release_plan()
    assert PROBE_TYPE in plan.new_events and not plan.problems  # beside the events other work declared for it
    assert PROBE_TYPE in notice_draft(plan)


def test_every_unreleased_contract_is_in_contracts_unreleased_only() -> None:
    asyncapi = (COMMITTED / "asyncapi.yaml").read_text()
    partners_doc = (ROOT / "docs" / "partners.md").read_text()
    for type_name, cls in all_contracts():
        published = (COMMITTED / "events" / f"{type_name}.schema.json").exists()
        apart = (COMMITTED / UNRELEASED / "events" / f"{type_name}.schema.json").exists()
        if is_released(type_name):
            assert published and not apart, type_name
        else:
            assert apart and not published, type_name
            assert type_name not in asyncapi and type_name not in partners_doc, type_name
            assert release_of(cls) == CONTRACT_RELEASE + 1


def test_the_release_plan_is_coherent() -> None:
    assert not release_plan().problems


def test_a_contract_cannot_be_declared_for_a_release_after_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    declared_unreleased(monkeypatch)

    @dataclass(frozen=True, kw_only=True)
    class TooEarly(Fact):
        note: str

    with pytest.raises(RuntimeError, match=f"belongs to release {CONTRACT_RELEASE + 1}"):
        contract("priorities", release=CONTRACT_RELEASE + 2)(TooEarly)
    released = contract("priorities")(TooEarly)
    assert is_released(contract_type(released))


def test_from_release_2_the_published_contracts_cover_public_events_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """What release 2 will publish (simulated): no internal event in contracts/events or AsyncAPI, and the
    compatibility check accepts their withdrawal; today's contracts still carry them (release 1)."""
    from shared.contracts.publication import SERVICES, internal_events
    from shared.envelope import PUBLIC_EVENTS_ONLY_IN_RELEASE

    internal = sorted(contract_type(cls) for service in SERVICES for cls in internal_events(service))
    assert internal and all((COMMITTED / "events" / f"{name}.schema.json").exists() for name in internal)
    plan = release_plan()
    if plan.release == PUBLIC_EVENTS_ONLY_IN_RELEASE:
        assert set(internal) <= set(plan.withdrawn)
    monkeypatch.setattr(contracts_module, "CONTRACT_RELEASE", max(CONTRACT_RELEASE, PUBLIC_EVENTS_ONLY_IN_RELEASE))
    files = render()
    for name in internal:
        assert f"events/{name}.schema.json" not in files and name not in files["asyncapi.yaml"]
    check_compatible(COMMITTED)  # withdrawn on purpose, not "no longer declared" by mistake
