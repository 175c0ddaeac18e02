"""The hash chain and the signed checkpoints, as docs/audit.md specifies them (pure: no store)."""

from __future__ import annotations

import hashlib
from uuid import UUID

from shared.audit.chain import GENESIS, HEADER_LENGTH, link_of, payload_of, seal

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
