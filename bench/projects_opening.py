"""What opening a project costs as a district's programme grows (every opening reads and extends the programme).

Baseline in the same process: the same application with its aggregate cache off, so the programme is replayed from
its events on every read. Embedded store (SQLite), so the figure is the application's own cost.

Run: ``python -m bench.projects_opening [--projects 2000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from services.projects.application import ProjectsApplication
from tests.harness import settings_for
from tests.unit.projects.test_delivery_index import known, opened


def measure(projects: int, cached: bool) -> dict[int, float]:
    class Uncached(ProjectsApplication):
        aggregate_cache_size = 0

    with tempfile.TemporaryDirectory() as tmp:
        app = (ProjectsApplication if cached else Uncached)(settings_for(data_dir=Path(tmp)))
        try:
            tasking = known(app)
            marks = {m for m in (100, 1000, projects) if m <= projects}
            costs: dict[int, float] = {}
            for n in range(1, projects + 1):
                opened(app, tasking.id)
                if n in marks:
                    started = time.perf_counter()
                    for _ in range(20):
                        opened(app, tasking.id)
                    costs[n] = (time.perf_counter() - started) / 20 * 1000
            return costs
        finally:
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    args = parser.parse_args()
    replayed, cached = measure(args.projects, cached=False), measure(args.projects, cached=True)
    for n in cached:
        print(f"with {n} projects in the programme: opening one {cached[n]:.2f} ms "
              f"(replaying the programme: {replayed[n]:.2f} ms, ratio {replayed[n] / cached[n]:.0f}x)")


if __name__ == "__main__":
    main()
