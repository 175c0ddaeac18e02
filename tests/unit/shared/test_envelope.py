"""The wire format: every event travels as a CloudEvent whose data is exactly its contract's fields."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from shared.contracts import Actor, Decision, all_contracts, from_data, json_schema
from shared.contracts.priorities import ObjectiveAdded, StrategyLevel
from shared.envelope import Envelope, MalformedMessage, decode, encode

ACTOR = Actor(user_id="u-1", organisation="worcestershire-cc", role="partnership_officer")


def _envelope(**overrides: object) -> Envelope:
    fact = ObjectiveAdded(actor=ACTOR, correlation_id="c-1", title="A skilled and prosperous economy",
                          level=StrategyLevel.SCS, strategy="Sustainable Community Strategy",
                          decision=Decision(body="board", decided_on=date(2011, 3, 1), reason="agreed"))
    from shared.contracts import to_data

    type_name, data = to_data(fact)
    values: dict[str, object] = dict(
        id="x:1", source="/services/priorities", type=type_name, subject=str(uuid4()),
        time=datetime(2011, 3, 1, 10, tzinfo=UTC), sequence=1, data=data, actor="u-1",
        actororganisation="worcestershire-cc", actorrole="partnership_officer", correlationid="c-1",
        decisionref="board@2011-03-01",
    )
    values.update(overrides)
    return Envelope(**values)  # type: ignore[arg-type]


def test_an_encoded_event_decodes_to_the_same_fact() -> None:
    envelope = _envelope()
    decoded = decode(encode(envelope))
    assert decoded == envelope
    fact = decoded.fact()
    assert isinstance(fact, ObjectiveAdded)
    assert fact.actor == ACTOR
    assert fact.decision is not None and fact.decision.decided_on == date(2011, 3, 1)


def test_the_cloud_event_carries_spec_attributes_and_the_actor() -> None:
    body = json.loads(encode(_envelope()))
    assert body["specversion"] == "1.0"
    assert body["type"] == "priorities.ObjectiveAdded.v1"
    assert body["actororganisation"] == "worcestershire-cc"
    assert body["data"]["title"] == "A skilled and prosperous economy"


@pytest.mark.parametrize("raw", [
    b"\xff\xfe not utf-8", b"not json", b"[1, 2]", b'{"specversion": "0.3"}',
    b'{"specversion": "1.0", "id": "1"}',
])
def test_garbage_is_refused_as_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode(raw)


def test_data_that_breaks_its_contract_is_malformed() -> None:
    envelope = _envelope(data={"title": 7})
    with pytest.raises(MalformedMessage, match="invalid field"):
        decode(encode(envelope))


def test_an_unknown_event_type_is_malformed() -> None:
    with pytest.raises(MalformedMessage, match="unknown event type"):
        decode(encode(_envelope(type="priorities.NoSuchThing.v1")))


def test_every_contract_has_a_json_schema_with_its_fields() -> None:
    contracts = dict(all_contracts())
    assert "priorities.ObjectiveAdded.v1" in contracts
    for type_name, cls in contracts.items():
        schema = json_schema(cls)
        assert schema["$id"].endswith(type_name)
        assert {"actor", "correlation_id"} <= set(schema["properties"])


def test_from_data_validates_types() -> None:
    with pytest.raises(ValueError):
        from_data("priorities.ObjectiveAdded.v1", {"title": "x"})
