"""A probe event declared for the next contract release, for the tests that prove an unreleased contract reaches
neither the topics partners read nor the published contracts.

It is registered only while a test runs (``declared_unreleased``), so the contracts every other test generates are
the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import shared.contracts as contracts
from shared.contracts import CONTRACT_RELEASE, Fact, contract, superseded
from shared.eventstore import AccountableAggregate, CommandContext

PROBE_TYPE = "priorities.ProbeNoted.v1"
PROBE_V1 = "priorities.ProbeCounted.v1"
PROBE_V2 = "priorities.ProbeCounted.v2"


@dataclass(frozen=True, kw_only=True)
class ProbeNoted(Fact):
    """A fact of an event contract added since the last release."""

    note: str


class Probe(AccountableAggregate):
    """Records one unreleased fact (an aggregate of a test, stored in the priorities store)."""

    class Noted(AccountableAggregate.Created, ProbeNoted):
        pass

    @classmethod
    def note(cls, context: CommandContext, note: str) -> Probe:
        return cls._create(cls.Noted, actor=context.actor, correlation_id=context.correlation_id, note=note)


def declared_unreleased(monkeypatch: pytest.MonkeyPatch, release: int = CONTRACT_RELEASE + 1) -> type[Fact]:
    """Declare the probe for the next release (or ``release``) until the test ends (the registry is put back)."""
    contracts.all_contracts()  # load the real contracts first, so the copy below holds them
    monkeypatch.setattr(contracts, "_REGISTRY", dict(contracts._REGISTRY))
    return contract("priorities", release=release)(ProbeNoted)


@dataclass(frozen=True, kw_only=True)
class ProbeCountedV1(Fact):
    """A released fact, as partners have it."""

    note: str
    """What was noted."""


@dataclass(frozen=True, kw_only=True)
class ProbeCounted(Fact):
    """The same fact in a version added since the last release: it also says how many."""

    note: str
    """What was noted."""
    count: int
    """How many."""


def declared_unreleased_version(monkeypatch: pytest.MonkeyPatch) -> tuple[type[Fact], type[Fact]]:
    """Declare ``PROBE_V1`` released (in the release partners have) and its next version ``PROBE_V2`` for the next
    release, until the test ends (the registry and the upcasters are put back)."""
    contracts.all_contracts()
    monkeypatch.setattr(contracts, "_REGISTRY", dict(contracts._REGISTRY))
    monkeypatch.setattr(contracts, "_UPCASTERS", dict(contracts._UPCASTERS))
    released = superseded("priorities", "ProbeCounted", version=1, upcast=lambda data: {**data, "count": 1},
                          release=CONTRACT_RELEASE)(ProbeCountedV1)
    return released, contract("priorities", version=2, release=CONTRACT_RELEASE + 1)(ProbeCounted)
