"""What opening a project costs as a district's projects grow: an opening writes only its own project (the
district's programme is derived from its projects), so the cost should stay flat.

Embedded store (SQLite), so the figure is the application's own cost.

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


def measure(projects: int) -> dict[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = ProjectsApplication(settings_for(data_dir=Path(tmp)))
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
    for n, cost in measure(args.projects).items():
        print(f"with {n} projects in the district: opening one {cost:.2f} ms")


if __name__ == "__main__":
    main()
