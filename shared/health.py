"""Readiness checks with a deadline: a probe must answer in time even when the database or the broker does not."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping


class Readiness:
    """Runs named checks (each a callable that raises when its dependency is unreachable) in worker threads.

    A check that has not finished by the deadline is reported as timed out and is not started again until it
    returns, so a hung connection cannot pile up threads probe after probe. ``required`` names the checks whose
    failure makes the process not ready; the others are reported only.
    """

    def __init__(self, checks: Mapping[str, Callable[[], object]], required: set[str], timeout: float = 2.0) -> None:
        self.checks = dict(checks)
        self.required = required
        self.timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(len(self.checks), 1),
                                                           thread_name_prefix="readiness")
        self._running: dict[str, concurrent.futures.Future[object]] = {}
        self._lock = threading.Lock()

    def run(self) -> tuple[bool, dict[str, str]]:
        """(ready, {check: "ok" | why not})."""
        with self._lock:
            for name, check in self.checks.items():
                running = self._running.get(name)
                if running is None or running.done():
                    self._running[name] = self._pool.submit(check)
            futures = dict(self._running)
        deadline = time.monotonic() + self.timeout
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                future.result(timeout=max(deadline - time.monotonic(), 0.0))
                results[name] = "ok"
            except concurrent.futures.TimeoutError:
                results[name] = f"no answer within {self.timeout:g}s"
            except Exception as error:
                results[name] = f"unreachable: {str(error)[:200] or type(error).__name__}"
        ready = all(results.get(name) == "ok" for name in self.required if name in results)
        return ready, results

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
