"""The fault suite: commands keep flowing through every service over real Kafka and PostgreSQL while every worker
is SIGKILLed again and again at random points, the broker restarts once and the database restarts once. Then
``partnership audit reconcile`` must find nothing: every accepted command's events exactly once in its store, on
its topic and in every read model, no consumer stuck, no good event on a dead-letter topic.

Bounded in time: about 75 s of faults, then convergence (the whole test aims under 3 minutes).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench.workload import Workload, percentile
from services.audit.reconcile import Reconciler
from tests.harness import Harness, Process, running_system, settings_env, settings_for

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(480)]

WORKERS = ("priorities", "tasking", "projects", "reporting")
FAULT_SECONDS = 75.0
MIN_KILLS = 20
MIN_COMMANDS = 50


class Drivers:
    """Threads issuing the workload's commands (and reads) until stopped."""

    def __init__(self, workload: Workload, threads: int = 3) -> None:
        self.workload = workload
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._drive, name=f"driver-{n}", daemon=True) for n in range(threads)]

    def _drive(self) -> None:
        count = 0
        while not self.stop.is_set():
            if not self.workload.command():
                self.stop.wait(0.02)
            count += 1
            if count % 2 == 0:
                self.workload.read()
            self.stop.wait(0.01)

    @contextmanager
    def running(self) -> Iterator[None]:
        for thread in self.threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in self.threads:
                thread.join(30)


def blocked(url: str) -> list[tuple[Any, ...]]:
    """Sessions waiting for a lock, with the sessions blocking them (to say why a worker hangs)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, pg_blocking_pids(pid), wait_event_type, wait_event, state, left(query, 200),"
            " now() - xact_start FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%'"
            " OR cardinality(pg_blocking_pids(pid)) > 0)"
        ).fetchall()


def mint_for(h: Harness) -> Any:
    def mint(who: dict[str, str]) -> dict[str, str]:
        claims = {k: v for k, v in who.items() if k not in ("role", "org")}
        return h.headers(who["role"], who["org"], **claims)
    return mint


def test_nothing_accepted_is_lost_or_doubled_when_workers_brokers_and_databases_die(
        tmp_path: Path, kafka_broker: Any, postgres_server: Any, kafka_bootstrap: str, postgres_url: str,
        say: Callable[[str], None]) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap,
                            consumer_batch_size=50, relay_batch_size=50, postgres_pool_size=2,
                            postgres_max_overflow=8)  # small pools: five processes and a reconciler share 200
    env = {**settings_env(settings), "PARTNERSHIP_CONSUMER_BATCH_SIZE": "50", "PARTNERSHIP_RELAY_BATCH_SIZE": "50",
           "PARTNERSHIP_POSTGRES_POOL_SIZE": "2", "PARTNERSHIP_POSTGRES_MAX_OVERFLOW": "6",
           "PARTNERSHIP_LOG_LEVEL": "INFO"}  # a first line soon after start tells the killer the worker is up
    chance = random.Random()
    seed = chance.randrange(1 << 30)
    chance.seed(seed)
    workers: dict[str, Process] = {}
    starts: dict[str, int] = dict.fromkeys(WORKERS, 0)

    up: dict[str, float] = {}
    lifetime: dict[str, float] = {}

    born: dict[str, float] = {}

    def start(name: str) -> None:
        starts[name] += 1
        up.pop(name, None)
        born[name] = time.monotonic()
        lifetime[name] = chance.uniform(0.2, 8.0)
        workers[name] = Process(["worker", name], env, tmp_path / f"worker-{name}-{starts[name]}.log")

    kills: dict[str, int] = dict.fromkeys(WORKERS, 0)
    restarts: list[str] = []
    began = time.monotonic()
    with running_system(settings, services=(*WORKERS,), workers=False) as h:  # the web side, in this process
        for name in WORKERS:
            start(name)
        try:
            workload = Workload(h.client, mint_for(h), seed=seed, concurrency=12)
            workload.prepare()
            with Drivers(workload).running():
                deadline = time.monotonic() + FAULT_SECONDS
                # Faults go on until the workload, too, has gone far enough: on a slow machine the later steps
                # (which wait for upstream facts through the workers being killed) take longer. Bounded all the same.
                hard_stop = time.monotonic() + 3 * FAULT_SECONDS
                kafka_at, postgres_at = FAULT_SECONDS / 3, 2 * FAULT_SECONDS / 3

                def enough() -> bool:
                    done = workload.stats
                    return done.accepted_commands > MIN_COMMANDS and all(done.commands[s.name] for s in workload.steps)

                def faults_done() -> bool:
                    return (time.monotonic() >= deadline and sum(kills.values()) >= MIN_KILLS
                            and min(kills.values()) >= 3 and len(restarts) == 2)

                while time.monotonic() < hard_stop and not (faults_done() and enough()):
                    time.sleep(chance.uniform(0.1, 0.5))
                    if faults_done():
                        # The faults are over; the workload is driven on until every step has been done. Killing on
                        # would livelock a busy machine: a worker that needs longer than its random lifetime to
                        # catch up never lets the later steps (which wait for its facts) happen.
                        continue
                    # A worker is killed a random while after it came up (it has written its first log line, after
                    # its imports): while it builds its stores, mid-batch or idle.
                    for n in WORKERS:
                        if n not in up and (workers[n].log_path.stat().st_size > 0 or time.monotonic() - born[n] > 15):
                            up[n] = time.monotonic()
                    ripe = [n for n in up if time.monotonic() - up[n] > lifetime[n]]
                    late = [n for n in WORKERS if workers[n].log_path.stat().st_size == 0
                            and time.monotonic() - born[n] > 90]
                    assert not late, f"worker(s) {late} not up after 90 s; database: {blocked(postgres_url)}"
                    if not ripe:
                        continue
                    fewest = min(kills[n] for n in ripe)
                    name = chance.choice([n for n in ripe if kills[n] == fewest])
                    workers[name].kill()  # SIGKILL
                    kills[name] += 1
                    start(name)
                    elapsed = FAULT_SECONDS - (deadline - time.monotonic())
                    if "kafka" not in restarts and elapsed > kafka_at:
                        kafka_broker.restart()
                        restarts.append("kafka")
                    if "postgres" not in restarts and elapsed > postgres_at:
                        postgres_server.restart()
                        restarts.append("postgres")
            faults_over = time.monotonic()
            stats = workload.stats
            for name, process in workers.items():
                assert process.popen.poll() is None, f"worker {name} died by itself:\n{process.log_tail()}"

            reconciler = Reconciler(settings)
            try:
                report = reconciler.run()
                converge_by = time.monotonic() + 120
                while not report.ok and time.monotonic() < converge_by:
                    time.sleep(1.0)
                    report = reconciler.run()
                converged_in = time.monotonic() - faults_over
                stored = {key for facts in reconciler.store_facts().values() for key in facts.events}
            finally:
                reconciler.close()
        finally:
            for process in workers.values():
                process.terminate()

    lost = [a for a in stats.accepted if (a.aggregate_id, a.version) not in stored]
    say(f"fault suite (seed {seed}): {sum(kills.values())} SIGKILLs of workers {kills}, "
          f"restarts {restarts}, {stats.accepted_commands} commands accepted {dict(stats.commands)}, "
          f"{stats.journeys_done} journeys done, {stats.not_yet_known} retried as not yet known, "
          f"{sum(stats.failed.values())} failed during outages {dict(stats.failed)}, "
          f"{stats.reads} reads ({stats.read_errors} failed), command latency p50 "
          f"{percentile(stats.latencies, 50) * 1000:.0f} ms p99 {percentile(stats.latencies, 99) * 1000:.0f} ms; "
          f"converged {converged_in:.1f}s after the faults ({time.monotonic() - began:.0f}s in all); "
          f"reconciled: {report.counts}; why some were refused or failed: {stats.examples}")
    assert report.ok, "\n".join(str(d) for d in report.differences)
    assert not lost, f"{len(lost)} accepted command(s) not in their store, e.g. {lost[:3]}"
    assert sum(kills.values()) >= MIN_KILLS and min(kills.values()) >= 3
    assert restarts == ["kafka", "postgres"]
    assert not stats.refused, stats.examples
    assert not [k for k in stats.failed if not k.endswith(": 503")], stats.examples  # outages answer 503
    assert stats.accepted_commands > MIN_COMMANDS and all(stats.commands[step.name] for step in workload.steps)
