"""The published event schemas say what the text is: every field described (from its attribute docstring), a date's
and an id's pattern beside its format, a decimal's pattern (release 2: a string only, within a Figure's bounds)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import shared.contracts as contracts
from services.partners.compatibility import incompatibilities
from services.partners.contracts import check_compatible, event_schemas, released_schemas
from shared.contracts import DECIMALS_AS_STRINGS_IN_RELEASE, UUID_PATTERN, Actor, Fact, json_schema, to_data
from shared.fields import DAY_PATTERN, DECIMAL_TEXT_PATTERN, FIGURE_PATTERN

COMMITTED = Path(__file__).resolve().parents[3] / "contracts"


def _properties(schema: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        for name, property_schema in schema.get("properties", {}).items():
            yield f"{path}.{name}", property_schema
            yield from _properties(property_schema, f"{path}.{name}")
        for name, definition in schema.get("$defs", {}).items():
            yield from _properties(definition, f"{path} ($defs/{name})")
        for key, value in schema.items():
            if key not in {"properties", "$defs"}:
                yield from _properties(value, path)
    elif isinstance(schema, list):
        for item in schema:
            yield from _properties(item, path)


def test_every_field_of_every_event_contract_has_a_description() -> None:
    undescribed = sorted({where for name, schema in event_schemas().items()
                          for where, property_schema in _properties(schema, name)
                          if not property_schema.get("description")})
    assert not undescribed, ("contract fields without a description: write a docstring on the line below the field "
                             "(docs/partners.md, 'Describing a field'):\n  " + "\n  ".join(undescribed))


@dataclass(frozen=True, kw_only=True)
class _Probe(Fact):
    described: str
    """Said."""
    undescribed: int
    on: date
    """A day."""
    of: UUID
    """An id."""
    amount: Decimal
    """An amount."""


def _probe_schema() -> dict[str, Any]:
    _Probe.__contract_type__ = "test.Probe.v1"  # type: ignore[attr-defined]
    return json_schema(_Probe)


def test_a_field_takes_its_description_from_the_docstring_below_it_and_inherited_ones_too() -> None:
    properties = _probe_schema()["properties"]
    assert properties["described"]["description"] == "Said."
    assert "description" not in properties["undescribed"]  # what the test above refuses
    assert properties["correlation_id"]["description"].startswith("The correlation id")  # declared on Fact


def test_dates_and_ids_have_a_pattern_beside_their_format() -> None:
    properties = _probe_schema()["properties"]
    assert properties["on"] == {"type": "string", "format": "date", "pattern": DAY_PATTERN, "title": "On",
                                "description": "A day."}
    assert properties["of"]["format"] == "uuid" and properties["of"]["pattern"] == UUID_PATTERN
    assert re.fullmatch(UUID_PATTERN.strip("^$"), str(UUID("5b0c7f64-2f1e-5d8a-9a57-2d3c1f0e6a10")))
    assert re.search(DAY_PATTERN, "2013-04-01") and not re.search(DAY_PATTERN, "1/4/2013")


def test_in_release_1_a_decimal_was_number_or_string_and_its_string_had_the_text_pattern(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contracts, "CONTRACT_RELEASE", 1)
    amount = _probe_schema()["properties"]["amount"]
    assert amount["anyOf"] == [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT_PATTERN}]
    for published in ("12.5", "-0.01", "1200", "1E+2", "1E-7"):  # Python's text of a decimal, as release 1 wrote it
        assert re.search(DECIMAL_TEXT_PATTERN, published), published
    for refused in ("1,200", "12.", ".5", "NaN", "Infinity", "+1"):
        assert not re.search(DECIMAL_TEXT_PATTERN, refused), refused


def test_decimals_are_written_out_in_full_so_they_satisfy_the_release_2_pattern() -> None:
    probe = _Probe(actor=Actor("u", "org", "role"), correlation_id="c", described="x", undescribed=1,
                   on=date(2013, 4, 1), of=UUID(int=1), amount=Decimal("1E-7"))
    _Probe.__contract_type__ = "test.Probe.v1"  # type: ignore[attr-defined]
    _, data = to_data(probe)
    assert data["amount"] == "0.0000001" and data["on"] == "2013-04-01" and data["of"] == str(UUID(int=1))
    assert re.search(FIGURE_PATTERN, data["amount"])


def test_from_release_2_a_decimal_is_a_string_within_a_figures_bounds() -> None:
    assert contracts.CONTRACT_RELEASE >= DECIMALS_AS_STRINGS_IN_RELEASE
    amount = _probe_schema()["properties"]["amount"]
    assert amount == {"type": "string", "pattern": FIGURE_PATTERN, "title": "Amount", "description": "An amount."}
    for figure in ("999999999999999999.0123456789", "-0.5", "0", "1200"):
        assert re.search(FIGURE_PATTERN, figure), figure
    for beyond in ("1000000000000000000", "0.01234567891", "1E+2", "12.5e3", "1,200"):  # shared.fields' bounds
        assert not re.search(FIGURE_PATTERN, beyond), beyond


def test_release_2_is_a_compatible_step_from_what_release_1_published(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every schema release 1 published and release 2 still publishes changed only as release 2 declared (decimals
    made strings, superseded versions marked) or compatibly; the committed contracts are release 2's."""
    with monkeypatch.context() as release_1:
        release_1.setattr(contracts, "CONTRACT_RELEASE", 1)
        published = released_schemas()
    current = released_schemas()
    kept = published.keys() & current.keys()
    assert kept and not {name: found for name in sorted(kept)
                         if (found := incompatibilities(published[name], current[name]))}
    assert any(schema.get("deprecated") for schema in current.values())  # the versions release 2 superseded
    check_compatible(COMMITTED, current)  # raises IncompatibleChange otherwise


def test_outside_the_release_a_decimal_made_string_only_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contracts, "CONTRACT_RELEASE", DECIMALS_AS_STRINGS_IN_RELEASE - 1)
    old = _probe_schema()
    new = copy.deepcopy(old)
    new["properties"]["amount"] = {"type": "string", "pattern": FIGURE_PATTERN}
    assert incompatibilities(old, new) == ["field amount: retyped ('anyOf' removed)"]


def test_a_wire_pattern_may_be_added_within_a_version_but_no_other() -> None:
    new = _probe_schema()
    old = copy.deepcopy(new)
    del old["properties"]["on"]["pattern"]
    assert incompatibilities(old, new) == []
    new["properties"]["on"]["pattern"] = "^2013-"
    assert incompatibilities(old, new) == ["field on: retyped ('pattern' added)"]
