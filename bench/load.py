"""Load: a mixed workload through every service at a set rate for a set time, on real Kafka and PostgreSQL, with each
service's web and worker as separate processes (``partnership serve`` / ``partnership worker``, as deployed).

The workload is ``bench.workload``'s journeys (objective and target, tasking and its acceptance, project and
progress, rewording, withdrawal: every service's commands, each waiting for the upstream facts it needs) plus
reads (REST views and GraphQL history and connections) at ``--reads`` per command. Commands are issued open-loop
at ``--rate`` per second (a retry of a command refused as not-yet-known counts as one), by a pool of client
threads.

Prints: command latency p50/p99 (HTTP round trip of accepted commands), end-to-end lag p50/p99 (from a command's
acceptance to its event in the reporting read model that GraphQL serves; polled every 10 ms), errors, and the
reconciliation of every store, topic and read model after the run (``partnership audit reconcile``). Exit 1 when
anything accepted is missing or reconciliation finds a difference.

Run: ``python -m bench.load [--rate 50] [--duration 60] [--reads 1.0]``. Uses KAFKA_BOOTSTRAP_SERVERS /
TEST_POSTGRES_URL when set, else starts both on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import cpu, lean_pipeline
from bench.lean_http import LeanClient, LeanResponse
from bench.statements import StatementCounter
from bench.walking_skeleton import real_servers
from bench.workload import Accepted, Workload, percentile
from services.audit.reconcile import Reconciler
from services.runtime import make_tokens
from shared.readstore import ReadStore
from shared.settings import Settings
from tests.harness import Process, free_port, settings_env, settings_for, wait_until

SERVICES = ("priorities", "tasking", "projects")


@dataclass
class Result:
    rate: float
    duration: float
    reads_per_command: float
    commands_attempted: int = 0
    commands_accepted: int = 0
    commands_per_second: float = 0.0
    not_yet_known: int = 0
    concurrent_changes: int = 0
    command_errors: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    reads: int = 0
    read_errors: int = 0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    behind: int = 0
    """Commands issued late because every client thread was busy (the system could not keep the rate)."""
    journeys_done: int = 0
    lost: int = 0
    reconciled: bool = False
    differences: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    redeliveries: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    """One answer of each kind of refusal or error (what it said), for a look."""
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU time of each part of the system (and the load generator) while the load ran."""
    memory_idle_mb: dict[str, float] = field(default_factory=dict)
    """Resident memory of each part once the system is up and its workload prepared, before the load."""
    idle_cpu_ms_per_s: dict[str, float] = field(default_factory=dict)
    """CPU ms per second of each part before the load (``--idle``): at R commands/s, (this / R) of each figure."""
    memory_peak_mb: dict[str, float] = field(default_factory=dict)
    """The highest resident memory of each part while the load ran."""
    memory_after_mb: dict[str, float] = field(default_factory=dict)
    """Resident memory of each part after the load (with the history it left)."""
    machine_cores_busy: float = 0.0
    statements_per_command: float | None = None
    statements_sent_per_command: float | None = None
    """PostgreSQL statements per accepted command while the load ran (``bench.statements``)."""
    top_statements: list[tuple[int, str]] = field(default_factory=list)
    slowest_statements: list[tuple[float, int, str]] = field(default_factory=list)
    """The statements that took PostgreSQL the most time in all while the load ran: (ms, calls, text)."""
    sessions_opened: int = 0
    """PostgreSQL sessions started while the load ran (pools opening overflow connections)."""

    @property
    def ok(self) -> bool:
        return self.reconciled and self.lost == 0


class Routed:
    """One HTTP client per process: ``/priorities/...`` to the priorities web process, ``/graphql`` to the gateway."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = dict(urls)
        self._clients = {name: LeanClient(url, timeout=30.0) for name, url in urls.items()}
        self.pids: dict[str, int] = {}
        """Each process's pid, by part (``web-priorities``, ``worker-tasking``, ...), for profiling."""

    def _client(self, path: str) -> LeanClient:
        first = path.strip("/").split("/", 1)[0]
        return self._clients.get(first) or self._clients["reporting"]

    def post(self, url: str, *, json: Any = None, headers: Any = None) -> LeanResponse:
        return self._client(url).post(url, json=json, headers=headers)

    def get(self, url: str, *, headers: Any = None) -> LeanResponse:
        return self._client(url).get(url, headers=headers)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


class LagProbe:
    """Polls the reporting read model for accepted commands' events; lag = first seen - accepted."""

    def __init__(self, settings: Settings, accepted: list[Accepted]) -> None:
        self.store = ReadStore(settings, "reporting")
        self.accepted = accepted
        self.lags: list[float] = []
        self._next = 0
        self._pending: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.poll()
            except Exception:
                continue  # the table may not exist yet

    def poll(self) -> None:
        new = self.accepted[self._next:]
        self._next += len(new)
        for item in new:
            self._pending[(item.aggregate_id, item.version)] = item.at
        if not self._pending:
            return
        subjects = sorted({subject for subject, _ in self._pending})
        now = time.time()
        for start in range(0, len(subjects), 500):
            chunk = subjects[start:start + 500]
            rows = self.store.query(
                f"SELECT subject, version FROM event_log WHERE subject IN ({', '.join('?' for _ in chunk)})", chunk)
            for row in rows:
                at = self._pending.pop((row["subject"], int(row["version"])), None)
                if at is not None:
                    self.lags.append(max(now - at, 0.0))

    def stop(self, drain: float = 30.0) -> int:
        deadline = time.monotonic() + drain
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(5)
        self.store.close()
        return len(self._pending)


@contextmanager
def deployed(settings: Settings, work: Path) -> Iterator[Routed]:
    """Each service's web process and worker process, plus the GraphQL gateway, as ``partnership`` processes."""
    # Eight processes with a few stores each: small pools keep them within the server's connection limit.
    env = {**settings_env(settings), "PARTNERSHIP_LOG_LEVEL": "WARNING", "PARTNERSHIP_POSTGRES_POOL_SIZE": "2",
           "PARTNERSHIP_POSTGRES_MAX_OVERFLOW": "6"}
    ports = {name: free_port() for name in (*SERVICES, "reporting")}
    processes: list[Process] = []
    try:
        for name, port in ports.items():
            processes.append(Process(["serve", name, "--port", str(port), "--host", "127.0.0.1"], env,
                                     work / f"web-{name}.log"))
            processes.append(Process(["worker", name], env, work / f"worker-{name}.log"))
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}/readyz"
            wait_until(lambda u=url: _ready(u), 120, f"{name}'s web process")  # type: ignore[misc]
        routed = Routed({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        routed.pids = {f"{'web' if p.args[0] == 'serve' else 'worker'}-{p.args[1]}": p.popen.pid for p in processes}
        try:
            yield routed
        finally:
            routed.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            if process.popen.returncode not in (0, None, -15):
                print(f"{process.args} exited {process.popen.returncode}:\n{process.log_tail()}", file=sys.stderr)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def profiled(pids: dict[str, int], out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy (PyPI) records each process for ``seconds`` while the load runs, sampling only threads that hold the GIL
    (Python's CPU, not its waits): collapsed stacks per process under ``out`` (``bench.profile_summary`` reads them),
    to find where a command's CPU goes."""
    if out is None:
        yield
        return
    import shutil
    import subprocess

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.mkdir(parents=True, exist_ok=True)
    recorders = [subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
                                   "--nonblocking", "--gil", "--format", fmt, "--output", str(out / f"{name}.{ext}")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name, pid in pids.items() for fmt, ext in (("raw", "txt"),)]
    try:
        yield
    finally:
        for recorder in recorders:
            try:
                recorder.wait(seconds + 30)
            except subprocess.TimeoutExpired:
                recorder.kill()


def run(kafka: str, postgres: str, *, rate: float, duration: float, reads: float = 1.0, threads: int = 32,
        work: Path | None = None, quiet: bool = False, profile: Path | None = None, idle: float = 0.0) -> Result:
    """Drive the deployed system; return the figures (and whether everything reconciled)."""
    with ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="partnership-load-")))
        settings = settings_for(data_dir=work, postgres_url=postgres, kafka=kafka)
        tokens = make_tokens(settings)
        result = Result(rate=rate, duration=duration, reads_per_command=reads)

        minted: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

        def mint(who: dict[str, str]) -> dict[str, str]:
            # Like a real client, each user keeps its token for the run instead of signing in per request.
            key = tuple(sorted(who.items()))
            if key not in minted:
                token = tokens.mint(f"load-{who['role']}", who["org"], [who["role"]], district=who.get("district"),
                                    theme_group=who.get("theme_group"), ttl_seconds=int(duration) + 3600)
                minted[key] = {"authorization": f"Bearer {token}"}
            return minted[key]

        client = stack.enter_context(deployed(settings, work))
        workload = Workload(client, mint, concurrency=max(16, int(rate * 3)))
        workload.prepare()
        if idle > 0:
            time.sleep(3.0)  # what the preparation stored reaches every reader first
            result.idle_cpu_ms_per_s = cpu.idle_ms_per_second(idle)
        probe = LagProbe(settings, workload.stats.accepted)
        probe.start()
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads, thread_name_prefix="client"))
        busy = threading.Semaphore(threads)
        attempted = 0
        read_credit = 0.0

        def issue(kind: str) -> None:
            try:
                if kind == "command":
                    workload.command()
                else:
                    workload.read()
            finally:
                busy.release()

        result.memory_idle_mb = {part: round(mb) for part, mb in cpu.resident_mb().items()}
        peak = stack.enter_context(cpu.PeakMemory())
        counter = stack.enter_context(StatementCounter(postgres))
        cpu_before = cpu.snapshot()
        started = time.monotonic()
        tick = 1.0 / rate
        next_at = started
        window = Window(workload.stats.latencies, probe.lags)
        spying = stack.enter_context(ExitStack())
        spying.enter_context(profiled(client.pids, profile, duration))
        while (now := time.monotonic()) < started + duration:
            if now < next_at:
                time.sleep(min(next_at - now, 0.005))
                continue
            next_at += tick
            kinds = ["command"]
            read_credit += reads
            while read_credit >= 1.0:
                kinds.append("read")
                read_credit -= 1.0
            for kind in kinds:
                if not busy.acquire(blocking=False):
                    result.behind += 1
                    busy.acquire()
                if kind == "command":
                    attempted += 1
                pool.submit(issue, kind)
            if not quiet and attempted % max(int(rate * 10), 1) == 0:
                stats = workload.stats
                print(f"  {now - started:5.0f}s: {stats.accepted_commands} accepted, {stats.not_yet_known} "
                      f"not yet known, {sum(stats.failed.values())} errors, {stats.reads} reads; "
                      f"{window.since(result.behind)}", flush=True)
        elapsed = time.monotonic() - started
        spying.close()
        result.memory_peak_mb = {part: round(mb) for part, mb in peak.peak.items()}
        result.memory_after_mb = {part: round(mb) for part, mb in cpu.resident_mb().items()}
        result.cpu_seconds = {part: round(seconds, 1) for part, seconds in
                              cpu.cpu_seconds(cpu_before, cpu.snapshot()).items()}
        result.machine_cores_busy = round(sum(result.cpu_seconds.values()) / elapsed, 2)
        pool.shutdown(wait=True)
        counter.__exit__(None, None, None)
        if counter.result is not None:
            result.statements_per_command = round(counter.result.per_command(workload.stats.accepted_commands), 1)
            result.statements_sent_per_command = round(
                counter.result.sent_per_command(workload.stats.accepted_commands), 1)
            result.top_statements = counter.result.top
            result.sessions_opened = counter.result.sessions
            result.slowest_statements = counter.result.slowest
        unseen = probe.stop()

        stats = workload.stats
        result.commands_attempted = attempted
        result.commands_accepted = stats.accepted_commands
        result.commands_per_second = round(stats.accepted_commands / elapsed, 1)
        result.not_yet_known = stats.not_yet_known
        result.concurrent_changes = stats.concurrent_changes
        result.command_errors = sum(stats.failed.values())
        result.refused = dict(stats.refused)
        result.reads, result.read_errors = stats.reads, stats.read_errors
        result.journeys_done = stats.journeys_done
        failing = {*stats.refused, *stats.failed} | {kind for kind in stats.examples if kind.startswith("read:")}
        result.examples = {kind: text[:300] for kind, text in stats.examples.items() if kind in failing}
        ms = 1000.0
        result.latency_p50_ms = round(percentile(stats.latencies, 50) * ms, 1)
        result.latency_p99_ms = round(percentile(stats.latencies, 99) * ms, 1)
        if probe.lags:
            result.lag_p50_ms = round(percentile(probe.lags, 50) * ms, 1)
            result.lag_p99_ms = round(percentile(probe.lags, 99) * ms, 1)
            result.lag_max_ms = round(max(probe.lags) * ms, 1)

        reconciler = Reconciler(settings)
        try:
            report = reconciler.run()
            deadline = time.monotonic() + 60
            while not report.ok and time.monotonic() < deadline:
                time.sleep(1.0)
                report = reconciler.run()
            stored = {key for facts in reconciler.store_facts().values() for key in facts.events}
        finally:
            reconciler.close()
        result.lost = sum(1 for a in stats.accepted if (a.aggregate_id, a.version) not in stored)
        result.reconciled = report.ok
        result.differences = [str(d) for d in report.differences]
        result.events = report.counts.get("events", {})
        result.redeliveries = report.counts.get("topic_redeliveries", {})
        if unseen and report.ok:
            result.differences.append(f"{unseen} accepted event(s) not seen by the lag probe in time")
        return result


class Window:
    """The last progress line's window: command latency and lag p99, commands issued late, the machine's busy cores
    and how long runnable tasks waited for a core (``/proc/pressure/cpu``), so that a stall shows when it happens
    (a run's p99 alone cannot say whether the tail is spread out or one bad minute)."""

    def __init__(self, latencies: list[float], lags: list[float]) -> None:
        self.latencies, self.lags = latencies, lags
        self._latency_at = self._lag_at = self._behind = 0
        (self._busy, self._stolen), self._stalled, self._at = _machine_busy(), _cpu_stalled(), time.monotonic()

    def since(self, behind: int) -> str:
        latencies, lags = self.latencies[self._latency_at:], self.lags[self._lag_at:]
        (busy, stolen), stalled, at = _machine_busy(), _cpu_stalled(), time.monotonic()
        seconds = max(at - self._at, 1e-9)
        text = (f"window p99 latency {percentile(latencies, 99) * 1000:.0f} ms, lag {percentile(lags, 99) * 1000:.0f}"
                f" ms; {behind - self._behind} late; {(busy - self._busy) / seconds:.2f} cores busy "
                f"({(stolen - self._stolen) / seconds:.2f} taken by the host), runnable tasks waited "
                f"{(stalled - self._stalled) / seconds / 1e4:.0f}% of the time")
        self._latency_at += len(latencies)
        self._lag_at += len(lags)
        self._behind, self._busy, self._stolen, self._stalled, self._at = behind, busy, stolen, stalled, at
        return text


def _machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine has run something (not idle, not waiting for I/O) since it started, and
    of those, the seconds the host gave to others while this machine's cores wanted to run (steal)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / cpu.TICKS, fields[7] / cpu.TICKS


def _cpu_stalled() -> float:
    """Microseconds in which some runnable task waited for a core (0 where the kernel does not say)."""
    try:
        return float(Path("/proc/pressure/cpu").read_text().split("total=", 1)[1].split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0


def report_text(result: Result) -> str:
    lines = [
        f"load: {result.rate:g} commands/s offered for {result.duration:g}s, {result.reads_per_command:g} reads per "
        f"command",
        f"  commands: {result.commands_attempted} issued, {result.commands_accepted} accepted "
        f"({result.commands_per_second}/s), {result.not_yet_known} refused as not yet known and retried, "
        f"{result.concurrent_changes} retried after a concurrent change, {result.command_errors} errors, "
        f"refused {result.refused or 'none'}; {result.journeys_done} journeys done",
        f"  reads: {result.reads} ({result.read_errors} errors); issued late (clients all busy): {result.behind}",
        f"  command latency: p50 {result.latency_p50_ms} ms, p99 {result.latency_p99_ms} ms",
        f"  PostgreSQL statements per accepted command (with its reads): {result.statements_sent_per_command} sent, "
        f"{result.statements_per_command} run (with those inside functions); "
        f"sessions opened while it ran: {result.sessions_opened}",
        *(f"    {calls:6d} x {' '.join(text.split())[:110]}" for calls, text in result.top_statements[:8]),
        "  the most server time (ms in all, calls, mean):",
        *(f"    {ms:8.0f} ms {calls:6d} x {ms / max(calls, 1):6.3f} {' '.join(text.split())[:90]}"
          for ms, calls, text in result.slowest_statements[:8]),
        f"  end-to-end lag (accepted -> reporting read model): p50 {result.lag_p50_ms} ms, p99 {result.lag_p99_ms} ms, "
        f"max {result.lag_max_ms} ms",
        f"  reconciliation: {'no difference' if result.reconciled else 'DIFFERENCES'}; events {result.events}; "
        f"topic redeliveries {result.redeliveries}; accepted but missing: {result.lost}",
        *(f"  DIFFERENCE {d}" for d in result.differences),
        *(f"  example of {kind}: {text}" for kind, text in result.examples.items()),
    ]
    if result.cpu_seconds and result.commands_accepted:
        per_command = ", ".join(f"{part} {seconds * 1000 / result.commands_accepted:.1f}"
                                for part, seconds in result.cpu_seconds.items())
        lines.append(f"  CPU: {result.machine_cores_busy} of the machine's {os.cpu_count()} cores busy; CPU ms per "
                     f"accepted command (with its share of reads): {per_command}")
    if result.memory_idle_mb:
        parts = sorted({*result.memory_idle_mb, *result.memory_peak_mb})
        lines.append("  resident memory MB (idle / peak under load / after): " + ", ".join(
            f"{part} {result.memory_idle_mb.get(part, 0):g}/{result.memory_peak_mb.get(part, 0):g}/"
            f"{result.memory_after_mb.get(part, 0):g}" for part in parts))
    return "\n".join(lines)


def _per_command(cpu_seconds: dict[str, float], commands: int) -> dict[str, float]:
    return {part: seconds * 1000 / max(commands, 1) for part, seconds in cpu_seconds.items()}


def _system_total(per: dict[str, float]) -> float:
    """CPU ms per command of the pipeline itself: every part but the load generator (which shares the cores)."""
    return sum(ms for part, ms in per.items() if part != "load generator")


def compare_text(lean: lean_pipeline.LeanResult, system: Result) -> str:
    """Both columns, part by part (the system's parts beside the lean part that does the same I/O), and the ratio."""
    lean_per = _per_command(lean.cpu_seconds, lean.commands_accepted)
    system_per = _per_command(system.cpu_seconds, system.commands_accepted)
    pairs = [("HTTP (web processes + gateway)", [p for p in system_per if p.startswith("web ")], ["lean web"]),
             ("relay + consumers (workers)", [p for p in system_per if p.startswith("worker ")],
              [p for p in lean_per if p.startswith(("lean relay", "lean consumer"))]),
             ("postgresql", ["postgresql"], ["postgresql"]), ("kafka", ["kafka"], ["kafka"]),
             ("load generator", ["load generator"], ["load generator"])]
    lines = [f"side by side at {system.rate:g} commands/s for {system.duration:g}s (CPU ms per accepted command, "
             f"with its reads):", f"  {'part':34} {'system':>8} {'lean':>8} {'ratio':>7}"]
    for label, mine, theirs in pairs:
        a, b = sum(system_per.get(p, 0.0) for p in mine), sum(lean_per.get(p, 0.0) for p in theirs)
        lines.append(f"  {label:34} {a:8.2f} {b:8.2f} {a / b if b else float('nan'):7.2f}")
    total_system, total_lean = _system_total(system_per), _system_total(lean_per)
    lines.append(f"  {'total (without the load generator)':34} {total_system:8.2f} {total_lean:8.2f} "
                 f"{total_system / total_lean if total_lean else float('nan'):7.2f}")
    if system.idle_cpu_ms_per_s and lean.idle_cpu_ms_per_s:
        rate = system.rate
        idle_system, idle_lean = sum(system.idle_cpu_ms_per_s.values()), sum(lean.idle_cpu_ms_per_s.values())
        busy_system, busy_lean = total_system - idle_system / rate, total_lean - idle_lean / rate
        lines.append(f"  idle CPU ms per second: system {idle_system:.0f}, lean {idle_lean:.0f}; at {rate:g}/s "
                     f"that is {idle_system / rate:.2f} and {idle_lean / rate:.2f} ms of each command's total; "
                     f"without it: system {busy_system:.2f}, lean {busy_lean:.2f}, ratio "
                     f"{busy_system / busy_lean if busy_lean else float('nan'):.2f}")
        lines.append("    idle by part: system " + ", ".join(f"{p} {v:g}" for p, v in system.idle_cpu_ms_per_s.items())
                     + "; lean " + ", ".join(f"{p} {v:g}" for p, v in lean.idle_cpu_ms_per_s.items()))
    lines.append(f"  PostgreSQL statements per command, sent (run, with those inside functions): system "
                 f"{system.statements_sent_per_command} ({system.statements_per_command}), lean "
                 f"{lean.statements_sent_per_command} ({lean.statements_per_command})")
    lines.append(f"  lag p99: system {system.lag_p99_ms} ms, lean {lean.lag_p99_ms} ms; accepted: system "
                 f"{system.commands_accepted}/{system.commands_attempted}, lean {lean.commands_accepted}/"
                 f"{lean.commands_attempted}")
    return "\n".join(lines)


def sustains(result: Result | lean_pipeline.LeanResult, limit_ms: float = 100.0) -> bool:
    """Accepted equals offered, no command issued late, lag p99 within the limit, and (the system) reconciled.

    Offered counts commands, not attempts: a command refused as not yet known (its upstream fact not projected
    yet: a 503 with Retry-After) or for a concurrent change of its aggregate (a 409, nothing stored) is sent again
    in a later slot of the rate, so it takes two slots and is accepted once. Every command must be accepted in the
    end; one refused and not accepted again before the run ended is not."""
    retried = getattr(result, "not_yet_known", 0) + getattr(result, "concurrent_changes", 0)
    accepted_all = result.commands_accepted >= result.commands_attempted - retried
    reconciled = result.ok
    return accepted_all and result.behind == 0 and result.lag_p99_ms <= limit_ms and reconciled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second offered")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--reads", type=float, default=1.0, help="reads per command")
    parser.add_argument("--threads", type=int, default=32, help="client threads")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record each process with py-spy during the load: collapsed stacks into this folder")
    parser.add_argument("--baseline", action="store_true",
                        help="first run the lean pipeline (bench.lean_pipeline) on the same broker and database at "
                             "the same rate, then the system, and print both side by side with the ratio")
    parser.add_argument("--sustained", default="",
                        help="comma-separated rates: run each (lean pipeline and system) for --duration, upwards "
                             "until one is not sustained (accepted = offered, none late, lag p99 <= 100 ms, "
                             "reconciled); print each one's highest sustained rate")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="first measure each part's CPU for this many seconds with no load (after the warm-up "
                             "or the preparation) and print what it is of each command's figure at the rate")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --baseline: run N pairs (lean and system, the order alternating from pair to "
                             "pair) and print each pair's totals and the median ratio")
    args = parser.parse_args(argv)
    if args.repeat < 1 or (args.repeat > 1 and not args.baseline):
        parser.error("--repeat N needs --baseline and N >= 1")
    if args.sustained:
        return _sustained([float(r) for r in args.sustained.split(",") if r], args)
    if args.repeat > 1:
        return _repeated(args)
    with real_servers() as (kafka, postgres):
        lean = _lean_run(args, kafka, postgres, args.rate) if args.baseline else None
        result = _system_run(args, kafka, postgres, args.rate, quiet=False, profile=args.profile)
    if lean is not None:
        print(lean_pipeline.report_text(lean))
    print(report_text(result))
    if lean is not None:
        print(compare_text(lean, result))
    if args.json:
        print(json.dumps({"system": asdict(result), **({"lean": asdict(lean)} if lean else {})}, sort_keys=True))
    return 0 if result.ok and (lean is None or lean.ok) else 1


def _lean_run(args: argparse.Namespace, kafka: str, postgres: str, rate: float) -> lean_pipeline.LeanResult:
    """The lean pipeline at ``rate`` as the options say (duration, idle measurement)."""
    return lean_pipeline.run(kafka, postgres, rate=rate, duration=args.duration, idle=args.idle)


def _system_run(args: argparse.Namespace, kafka: str, postgres: str, rate: float, *, quiet: bool = True,
                profile: Path | None = None) -> Result:
    """The system at ``rate`` as the options say (duration, reads, client threads, idle measurement)."""
    return run(kafka, postgres, rate=rate, duration=args.duration, reads=args.reads, threads=args.threads,
               quiet=quiet, profile=profile, idle=args.idle)


def _repeated(args: argparse.Namespace) -> int:
    """Pairs of runs, lean first in odd pairs and the system first in even ones: on two shared cores the machine
    drifts from minute to minute (one pair of the same code measured 1.29 and another 1.87), so a single pair's
    ratio says little and the median of several, each pair seeing the same minutes, says more."""
    pairs: list[tuple[lean_pipeline.LeanResult, Result]] = []
    with real_servers() as (kafka, postgres):
        for n in range(args.repeat):
            if n % 2 == 0:
                lean = _lean_run(args, kafka, postgres, args.rate)
                system = _system_run(args, kafka, postgres, args.rate)
            else:
                system = _system_run(args, kafka, postgres, args.rate)
                lean = _lean_run(args, kafka, postgres, args.rate)
            pairs.append((lean, system))
            print(compare_text(lean, system), flush=True)
    print(repeated_text(pairs))
    return 0 if all(system.ok and lean.ok for lean, system in pairs) else 1


def repeated_text(pairs: list[tuple[lean_pipeline.LeanResult, Result]]) -> str:
    """One line per pair (both totals, their ratio, the system's lag p99) and the median ratio with its range."""
    lines = [f"{len(pairs)} pairs at {pairs[0][1].rate:g} commands/s, {pairs[0][1].duration:g}s each "
             "(CPU ms per accepted command, without the load generator):"]
    ratios = []
    for n, (lean, system) in enumerate(pairs, 1):
        mine = _system_total(_per_command(system.cpu_seconds, system.commands_accepted))
        theirs = _system_total(_per_command(lean.cpu_seconds, lean.commands_accepted))
        ratio = mine / theirs if theirs else float("nan")
        ratios.append(ratio)
        first = "lean first" if n % 2 else "system first"
        lines.append(f"  pair {n} ({first}): system {mine:.2f}, lean {theirs:.2f}, ratio {ratio:.2f}; "
                     f"lag p99 system {system.lag_p99_ms} ms, lean {lean.lag_p99_ms} ms; accepted system "
                     f"{system.commands_accepted}/{system.commands_attempted}")
    lines.append(f"  median ratio {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
    return "\n".join(lines)


def _sustained(rates: list[float], args: argparse.Namespace) -> int:
    best: dict[str, float] = {"lean": 0.0, "system": 0.0}
    with real_servers() as (kafka, postgres):
        for name in ("lean", "system"):
            for rate in sorted(rates):
                if name == "lean":
                    lean = _lean_run(args, kafka, postgres, rate)
                    held, text = sustains(lean), lean_pipeline.report_text(lean)
                else:
                    system = _system_run(args, kafka, postgres, rate)
                    held, text = sustains(system), report_text(system)
                print(f"{name} at {rate:g}/s: {'sustained' if held else 'NOT sustained'}\n{text}", flush=True)
                if not held:
                    break
                best[name] = rate
    ratio = best["system"] / best["lean"] if best["lean"] else float("nan")
    print(f"highest sustained rate (of {', '.join(f'{r:g}' for r in sorted(rates))}; {args.duration:g}s each): "
          f"lean {best['lean']:g}/s, system {best['system']:g}/s, ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
