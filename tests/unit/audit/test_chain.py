"""The hash chain and the signed checkpoints, as docs/audit.md specifies them (pure: no store)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from uuid import UUID

from shared.audit.chain import GENESIS, HEADER_LENGTH, link_of, payload_of, seal
from shared.audit.checkpoint import Checkpoint, canonical_json, fold, private_key, public_key_hex

AGGREGATE = UUID("6f1c2e0a-8a55-4a1e-9a3e-2b1f0c9d8e7a")
TOPIC = "services.priorities.domain:Objective.Added"
PAYLOAD = b'{"title":"a skilled and prosperous economy","timestamp":{"_type_":"datetime_iso","_data_":"2011-04-12"}}'


def test_a_stored_state_carries_its_predecessors_hash_and_its_own_in_a_fixed_header() -> None:
    state, own = seal(GENESIS, AGGREGATE, 1, TOPIC, PAYLOAD)
    assert len(state) == HEADER_LENGTH + len(PAYLOAD)
    assert state.startswith(b"#audit1 " + b"0" * 64 + b" " + own.hex().encode() + b"\n")
    link = link_of(state)
    assert link is not None and link.prev_hex == b"0" * 64 and link.own_hex == own.hex().encode()
    assert payload_of(state) == PAYLOAD


def test_an_outside_auditor_recomputes_the_hash_from_the_documented_bytes() -> None:
    _, first = seal(GENESIS, AGGREGATE, 1, TOPIC, PAYLOAD)
    second_state, second = seal(first, AGGREGATE, 2, TOPIC, b'{"x":1}')
    # docs/audit.md: SHA-256(prev (32 raw bytes) || id LF version LF topic LF payload)
    expected = hashlib.sha256(first + f"{AGGREGATE}\n2\n{TOPIC}\n".encode() + b'{"x":1}').hexdigest()
    assert second.hex() == expected
    assert second_state[8:72] == first.hex().encode()


def test_the_hash_changes_with_the_predecessor_the_version_the_topic_and_every_byte_of_the_payload() -> None:
    _, base = seal(GENESIS, AGGREGATE, 2, TOPIC, PAYLOAD)
    assert seal(b"\x01" * 32, AGGREGATE, 2, TOPIC, PAYLOAD)[1] != base
    assert seal(GENESIS, AGGREGATE, 3, TOPIC, PAYLOAD)[1] != base
    assert seal(GENESIS, AGGREGATE, 2, TOPIC + "x", PAYLOAD)[1] != base
    assert seal(GENESIS, AGGREGATE, 2, TOPIC, PAYLOAD[:-1] + b"!")[1] != base


def test_a_state_without_a_header_reads_as_unchained() -> None:
    assert link_of(PAYLOAD) is None
    assert payload_of(PAYLOAD) == PAYLOAD


def _checkpoint() -> tuple[Checkpoint, str]:
    key = private_key(bytes(range(32)))
    hashes = hashlib.sha256(b"a").digest() + hashlib.sha256(b"b").digest()
    values = {"sequence": 1, "service": "priorities", "from_position": 0, "position": 2, "from_events": 0,
              "events": 2, "from_digest": GENESIS.hex(), "log_digest": fold(GENESIS, hashes).hex(),
              "created_at": "2011-05-18T10:00:00.000000+00:00"}
    unsigned = Checkpoint(**values, public_key=public_key_hex(key), signature="", hashes=hashes.hex())
    return replace(unsigned, signature=key.sign(unsigned.signed_bytes()).hex()), public_key_hex(key)


def test_a_checkpoint_signs_the_canonical_json_of_its_fields() -> None:
    checkpoint, public = _checkpoint()
    assert checkpoint.signature_valid(public)
    assert checkpoint.signed_bytes() == canonical_json(
        {k: v for k, v in checkpoint.summary().items() if k not in {"public_key", "signature"}})
    assert b" " not in checkpoint.signed_bytes()


def test_a_checkpoint_whose_signed_fields_changed_fails_its_signature() -> None:
    checkpoint, public = _checkpoint()
    assert not replace(checkpoint, log_digest="0" * 64).signature_valid(public)
    assert not replace(checkpoint, events=3).signature_valid(public)
    assert not checkpoint.signature_valid(public_key_hex(private_key(bytes(32))))


def test_the_log_digest_runs_over_every_event_hash_in_order() -> None:
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    step = hashlib.sha256(GENESIS + a).digest()
    assert fold(GENESIS, a + b) == hashlib.sha256(step + b).digest()
    assert fold(GENESIS, a + b) != fold(GENESIS, b + a)
