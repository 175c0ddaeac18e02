"""A contract declared for the next release is generated apart, free to change, and in no published contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import shared.contracts as contracts_module
from services.partners.contracts import UNRELEASED, check_compatible, published_type, render
from services.partners.release import NewVersion, notice_draft, release_plan
from shared.contracts import CONTRACT_RELEASE, Fact, all_contracts, contract, contract_type, is_released, release_of
from tests.contract_probe import PROBE_TYPE, PROBE_V1, PROBE_V2, declared_unreleased, declared_unreleased_version

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


def test_a_version_added_since_the_release_is_apart_and_its_released_version_not_yet_superseded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    declared_unreleased_version(monkeypatch)
    assert is_released(PROBE_V1) and not is_released(PROBE_V2)
    files = render()
    assert f"events/{PROBE_V1}.schema.json" in files and f"events/{PROBE_V2}.schema.json" not in files
    assert f"{UNRELEASED}/events/{PROBE_V2}.schema.json" in files and PROBE_V2 not in files["asyncapi.yaml"]
    released = json.loads(files[f"events/{PROBE_V1}.schema.json"])
    assert "deprecated" not in released and "Superseded" not in released["description"]  # not until it ships
    plan = release_plan()
    assert NewVersion(PROBE_V2, PROBE_V1) in plan.new_versions and not plan.problems
    assert f"`{PROBE_V2}` supersedes `{PROBE_V1}`" in notice_draft(plan)

    monkeypatch.setattr(contracts_module, "CONTRACT_RELEASE", CONTRACT_RELEASE + 1)  # its release ships
    shipped = render()
    assert f"events/{PROBE_V2}.schema.json" in shipped and PROBE_V2 in shipped["asyncapi.yaml"]
    superseded = json.loads(shipped[f"events/{PROBE_V1}.schema.json"])
    assert superseded["deprecated"] is True
    assert f"Superseded by {PROBE_V2} in contract release {CONTRACT_RELEASE + 1}" in superseded["description"]


def test_every_unreleased_contract_is_in_contracts_unreleased_only() -> None:
    asyncapi = (COMMITTED / "asyncapi.yaml").read_text()
    partners_doc = (ROOT / "docs" / "partners.md").read_text()
    for type_name, cls in all_contracts():
        published = (COMMITTED / "events" / f"{type_name}.schema.json").exists()
        apart = (COMMITTED / UNRELEASED / "events" / f"{type_name}.schema.json").exists()
        if published_type(type_name):
            assert published and not apart, type_name
        elif is_released(type_name):  # released once, internal: withdrawn by release 2
            assert not published and not apart and type_name not in asyncapi, type_name
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


def test_from_release_2_the_published_contracts_cover_public_events_only() -> None:
    """Release 2 withdrew the internal events: none is in contracts/events or AsyncAPI, and the compatibility check
    accepts their absence (withdrawn on purpose, not "no longer declared" by mistake)."""
    from shared.contracts.publication import SERVICES, internal_events
    from shared.envelope import PUBLIC_EVENTS_ONLY_IN_RELEASE

    assert CONTRACT_RELEASE >= PUBLIC_EVENTS_ONLY_IN_RELEASE
    internal = sorted(contract_type(cls) for service in SERVICES for cls in internal_events(service))
    assert internal
    files = render()
    asyncapi = (COMMITTED / "asyncapi.yaml").read_text()
    for name in internal:
        assert not (COMMITTED / "events" / f"{name}.schema.json").exists() and name not in asyncapi, name
        assert f"events/{name}.schema.json" not in files and name not in files["asyncapi.yaml"], name
    check_compatible(COMMITTED)


def test_the_change_notice_of_every_shipped_release_names_what_it_published_and_its_dates() -> None:
    """docs/partners.md has a notice for each release since the first, with its dates, every event and version it
    published, every version it superseded and every event it stopped publishing."""
    from shared.contracts import RELEASE_DATES

    doc = (ROOT / "docs" / "partners.md").read_text()
    for release in range(2, CONTRACT_RELEASE + 1):
        heading = f"#### Contract release {release}\n"
        assert heading in doc, f"no change notice for release {release}"
        notice = doc.split(heading, 1)[1].split("\n#", 1)[0]
        dates = RELEASE_DATES[release]
        assert f"Served from: {dates.served_from.isoformat()}." in notice
        assert f"served (upcast on our side) until: {dates.superseded_until.isoformat()}" in notice
        owed = [type_name for type_name, cls in all_contracts() if _owed_in_notice(type_name, cls, release)]
        missing = [name for name in owed if f"`{name}`" not in notice]
        assert owed and not missing, f"the notice of release {release} does not name {missing}"


def _owed_in_notice(type_name: str, cls: type[Fact], release: int) -> bool:
    """Published by ``release``, superseded by a version it published, or withdrawn by it (internal)."""
    from shared.contracts import resolve, superseded_by
    from shared.contracts.publication import is_public
    from shared.envelope import PUBLIC_EVENTS_ONLY_IN_RELEASE

    if not is_released(type_name):
        return False
    if not is_public(cls):
        return release == PUBLIC_EVENTS_ONLY_IN_RELEASE and release_of(cls) < release
    successor = superseded_by(cls)
    return release_of(cls) == release or (successor is not None and release_of(resolve(successor)) == release)
