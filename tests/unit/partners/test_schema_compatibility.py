"""Within a published version an event schema may only gain optional fields; anything else needs a new version."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.partners.compatibility import incompatibilities
from services.partners.contracts import IncompatibleChange, check_compatible
from shared.contracts import Fact, json_schema

COMMITTED = Path(__file__).resolve().parents[3] / "contracts"


@dataclass(frozen=True, kw_only=True)
class _Reported(Fact):
    reported_on: str
    value: int
    narrative: str | None = None


def _schema() -> dict[str, Any]:
    _Reported.__contract_type__ = "test.Reported.v1"  # type: ignore[attr-defined]
    return json_schema(_Reported)


def test_an_unchanged_schema_is_compatible() -> None:
    assert incompatibilities(_schema(), _schema()) == []


def test_adding_an_optional_field_and_rewording_descriptions_is_compatible() -> None:
    new = copy.deepcopy(_schema())
    new["properties"]["source"] = {"type": "string", "default": "api"}
    new["description"] = "Reworded."
    new["properties"]["value"]["description"] = "The actual value."
    assert incompatibilities(_schema(), new) == []


def test_a_removed_field_is_incompatible() -> None:
    new = copy.deepcopy(_schema())
    del new["properties"]["narrative"]
    assert incompatibilities(_schema(), new) == ["field narrative was removed"]


def test_a_retyped_field_is_incompatible() -> None:
    new = copy.deepcopy(_schema())
    new["properties"]["value"] = {"type": "string", "title": "Value"}
    assert incompatibilities(_schema(), new) == ["field value: retyped ('integer' -> 'string')"]


def test_a_retyped_nested_field_is_incompatible() -> None:
    new = copy.deepcopy(_schema())
    new["$defs"]["Actor"]["properties"]["role"] = {"type": "integer"}
    assert incompatibilities(_schema(), new) == ["field actor.role: retyped ('string' -> 'integer')"]


def test_a_new_required_field_is_incompatible_because_stored_events_lack_it() -> None:
    new = copy.deepcopy(_schema())
    new["properties"]["source"] = {"type": "string"}
    new["required"].append("source")
    assert incompatibilities(_schema(), new) == ["field source was added as required (stored events lack it)"]


def test_a_field_made_optional_is_incompatible_because_partners_rely_on_it() -> None:
    new = copy.deepcopy(_schema())
    new["required"].remove("value")
    assert incompatibilities(_schema(), new) == ["field value is no longer required (partners rely on it)"]


def test_a_changed_list_of_enum_values_is_incompatible() -> None:
    old: dict[str, Any] = {"type": "object",
                           "properties": {"rag": {"enum": ["green", "amber", "red"], "type": "string"}}}
    new = copy.deepcopy(old)
    new["properties"]["rag"]["enum"].append("blue")
    assert incompatibilities(old, new) != []


def test_no_published_event_schema_changed_incompatibly() -> None:
    """Compares the contracts declared in code with the schemas committed under contracts/events."""
    try:
        check_compatible(COMMITTED)
    except IncompatibleChange as error:
        pytest.fail(str(error))


def test_a_published_event_type_may_not_disappear(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "projects.Vanished.v1.schema.json").write_text("{}")
    with pytest.raises(IncompatibleChange, match="no longer declared"):
        check_compatible(tmp_path)
