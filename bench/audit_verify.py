"""Benchmark of ``audit verify``: its rate over 100,000 stored events beside a plain hashing loop.

Baseline: read every stored event of the same store page by page and ``hashlib.sha256`` its stored bytes.
Verification: read the same pages, recompute every event's chain hash and link, authenticate the signed checkpoint's
entries (its Merkle tree rebuilt, its root against the signed note) and compare each event with its signed entry.
Prints both rates (events/s), the ratio and whether the aim (at least half the baseline) is met; then the rates of
generating and of checking inclusion proofs (against the latest tree head) and consistency proofs.

Run: ``python -m bench.audit_verify [--events 100000] [--sqlite]``. Uses TEST_POSTGRES_URL when set, else starts
PostgreSQL on loopback (``--sqlite``: an embedded SQLite store instead).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from services.audit.auditor import Auditor
from services.priorities.application import PrioritiesApplication
from services.priorities.domain import Objective
from services.runtime import service_specs
from shared.audit.checkpoint import origin_of, trusted_public_key, verifier_key
from shared.audit.standalone import verify_consistency, verify_inclusion
from shared.audit.tlog import MerkleTree
from shared.audit.verify import verify_log
from shared.contracts import Actor, Decision
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.settings import Settings
from tests.harness import settings_for

PAGE = 5000
KEY = "5e" * 32


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield url
        return
    from tools.realservers import PostgresServer

    with PostgresServer() as server:
        yield server.url


def seed(settings: Settings, events: int) -> None:
    """Objectives added and reworded (two events each), a thousand events per transaction, then a checkpoint."""
    app = PrioritiesApplication(settings)
    context = CommandContext(Actor("bench", "worcestershire-cc", "partnership_officer"), "bench")
    decision = Decision(body="pstg", decided_on=date(2011, 4, 12), reason="Reworded for the benchmark")
    for start in range(0, events // 2, 500):
        batch = []
        for n in range(start, min(start + 500, events // 2)):
            objective = Objective.add(context, title=f"objective {n}", level=StrategyLevel.SCS, strategy="scs",
                                      parent=None, decision=None)
            objective.reword(context, title=f"objective {n}, reworded", decision=decision)
            batch.append(objective)
        app.save(*batch)
    app.checkpointer.checkpoint()
    app.close()


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        count = work()
        best = min(best, time.perf_counter() - started)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs of each")
    parser.add_argument("--sqlite", action="store_true", help="an embedded SQLite store instead of PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = None if args.sqlite else stack.enter_context(postgres())
        settings = settings_for(data_dir=Path(tmp), postgres_url=url, audit_signing_key=KEY, audit_checkpoint_every=0)
        started = time.perf_counter()
        seed(settings, args.events)
        print(f"seeded {args.events} events in {time.perf_counter() - started:.1f}s "
              f"({'SQLite' if args.sqlite else 'PostgreSQL'})")
        auditor = Auditor(settings, service_specs(), services=("priorities",))
        recorder = auditor.log_of("priorities").recorder
        checkpoints = auditor.checkpoints("priorities")
        public = trusted_public_key(settings)
        assert public is not None
        key = verifier_key(public, origin_of(settings, "priorities"))

        def baseline() -> int:
            count, position = 0, 0
            while page := recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
                for notification in page:
                    hashlib.sha256(notification.state).digest()
                count += len(page)
                position = page[-1].id
            return count

        def verify() -> int:
            report = verify_log("priorities", recorder, checkpoints, key, page=PAGE)
            assert report.ok and report.events_under_checkpoint == report.events, report.problems[:3]
            return report.events

        base_seconds, base_count = best_of(args.runs, baseline)
        verify_seconds, verify_count = best_of(args.runs, verify)
        tree = auditor.log_of("priorities").checkpoint_log.tree()
        auditor.close()
    base_rate, verify_rate = base_count / base_seconds, verify_count / verify_seconds
    ratio = verify_rate / base_rate
    print(f"baseline (read + sha256 of stored bytes): {base_rate:,.0f} events/s ({base_count} events)")
    print(f"audit verify (chains + signed Merkle checkpoint): {verify_rate:,.0f} events/s ({verify_count} events)")
    print(f"ratio {ratio:.2f}: aim (at least 0.5 of the baseline) {'met' if ratio >= 0.5 else 'NOT met'}")
    proof_rates(tree)


def proof_rates(tree: MerkleTree, samples: int = 20_000) -> None:
    """Inclusion proofs of evenly spread leaves, and consistency proofs from evenly spread sizes, to the whole tree."""
    size, root = tree.size, tree.root()
    indexes = [i * size // samples for i in range(samples)]
    started = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in indexes]
    generated = time.perf_counter() - started
    started = time.perf_counter()
    assert all(verify_inclusion(i, size, tree.leaf(i), p, root) for i, p in zip(indexes, proofs, strict=True))
    checked = time.perf_counter() - started
    print(f"inclusion proofs (tree of {size}, {len(proofs[0])} hashes each): generated {samples / generated:,.0f}/s, "
          f"checked {samples / checked:,.0f}/s")
    firsts = [1 + i * (size - 1) // samples for i in range(samples)]
    started = time.perf_counter()
    consistency = [tree.consistency_proof(m) for m in firsts]
    generated = time.perf_counter() - started
    roots = [tree.root(m) for m in firsts]
    started = time.perf_counter()
    assert all(verify_consistency(m, size, r, root, p) for m, r, p in zip(firsts, roots, consistency, strict=True))
    checked = time.perf_counter() - started
    print(f"consistency proofs (to a tree of {size}): generated {samples / generated:,.0f}/s, "
          f"checked {samples / checked:,.0f}/s")


if __name__ == "__main__":
    main()
