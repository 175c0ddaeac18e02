"""Where the machine's CPU goes during a benchmark: CPU time per part of the system, from /proc.

Each process is classified by its command line: a service's web or worker process (``partnership serve|worker``),
the Kafka broker, PostgreSQL (the postmaster and every backend), and the benchmark's own process (the load
generator). A process that ends inside the window counts only up to its last snapshot, except PostgreSQL's
backends, which their postmaster's reaped ticks carry (``REAPED``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _part(pid: int) -> str | None:
    try:
        args = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        comm = (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return None
    words = [a.decode(errors="replace") for a in args if a]
    if pid == os.getpid():
        return "load generator"
    if ("bench.lean_pipeline" in words or "services.cli" in words or any(w.endswith("/partnership") for w in words)) \
            and not _mine(pid):
        return None  # another benchmark's or test's processes on the same machine (CI runs beside)
    if "bench.lean_pipeline" in words:
        tail = [w for w in words[words.index("bench.lean_pipeline") + 1:] if not w.startswith("-") and
                not w.replace(".", "").isdigit()]
        return "lean " + " ".join(tail) if tail else None
    if "services.cli" in words or any(w.endswith("/partnership") for w in words):
        for verb in ("serve", "worker"):
            if verb in words and words.index(verb) + 1 < len(words):
                return f"{'web' if verb == 'serve' else 'worker'} {words[words.index(verb) + 1]}"
    if "kafka.Kafka" in words:
        return "kafka" if _ours(pid) else None
    if comm == "postgres" or comm.startswith("postgres"):
        return "postgresql" if _ours(pid) else None
    return None


_SERVERS: set[int] = set()


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _mine(pid: int) -> bool:
    """Whether this benchmark started the process (it is a descendant of this one)."""
    me = os.getpid()
    for _ in range(8):
        pid = _parent(pid)
        if pid == me:
            return True
        if pid <= 1:
            return False
    return False


def watch_servers(pids: set[int]) -> None:
    """Count only these servers (a broker's JVM, a postmaster and its backends), not every broker and PostgreSQL on
    the machine: tests or other benchmarks may run their own beside. Without a call, every one counts."""
    _SERVERS.clear()
    _SERVERS.update(pids)


def _ours(pid: int) -> bool:
    if not _SERVERS or pid in _SERVERS:
        return True
    try:
        parent = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return parent in _SERVERS


def snapshot() -> dict[int, tuple[str, int]]:
    """CPU ticks (user + system) of every process of the system, by pid."""
    seen: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        part = _part(pid)
        if part is None:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        if part in REAPED:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: the children it has reaped
        seen[pid] = (part, ticks)
    return seen


REAPED = frozenset({"postgresql"})
"""Parts whose processes come and go inside a window (PostgreSQL's backends: a pool's overflow connection is a
backend that lives for one burst): their CPU is counted by the part's total, the postmaster's own ticks including
the backends it has reaped. Counted per live process, as before, an ended backend's ticks were lost."""


def cpu_seconds(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]]) -> dict[str, float]:
    """CPU seconds each part used between two snapshots (a process new in ``after`` counts from zero). For a part
    in ``REAPED`` it is the part's total after less its total before: a backend that ended inside the window is in
    its postmaster's reaped ticks after, and its ticks before are taken off with the rest."""
    used: dict[str, float] = {}
    for pid, (part, ticks) in after.items():
        start = before.get(pid, (part, 0))[1]
        used[part] = used.get(part, 0.0) + (ticks - start if part in REAPED else max(ticks - start, 0)) / TICKS
    for pid, (part, ticks) in before.items():
        if part in REAPED and pid not in after:
            used[part] = used.get(part, 0.0) - ticks / TICKS
    return dict(sorted(((part, max(s, 0.0)) for part, s in used.items()), key=lambda item: -item[1]))


def idle_ms_per_second(seconds: float, keep: Callable[[str], bool] = lambda part: True) -> dict[str, float]:
    """CPU ms per second each part (``keep``) uses over ``seconds`` with nothing offered: what a part costs at
    any rate, so that at R commands a second it is (this / R) ms of each command's figure."""
    before = snapshot()
    time.sleep(seconds)
    return {part: round(s * 1000 / seconds, 1) for part, s in cpu_seconds(before, snapshot()).items()
            if keep(part) and part != "load generator"}


def resident_mb() -> dict[str, float]:
    """Resident memory (VmRSS) of each part of the system now, in MB, summed over its processes."""
    found: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        part = _part(int(entry.name))
        if part is None:
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[part] = found.get(part, 0.0) + int(line.split()[1]) / 1024
                break
    return dict(sorted(found.items()))


class PeakMemory:
    """The highest resident memory of each part, sampled every ``interval`` seconds in a thread while it runs."""

    def __init__(self, interval: float = 1.0) -> None:
        import threading

        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for part, mb in resident_mb().items():
                self.peak[part] = max(self.peak.get(part, 0.0), mb)
