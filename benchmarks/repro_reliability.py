"""Plain `dvc repro` of a cheap stage, many times in a row, while the CPU is saturated.

Before the project's Prefect server, every stage started an ephemeral server whose start timed
out under load (2 of 5 stage starts failed). This runs `dvc repro --force download` (embedded
data) ``--runs`` times in a copy of the checkout with no ``PREFECT_API_URL``, while one busy
process per core (and one more) keeps every core at 100 %. The project's server is stopped
before the first run and again halfway, so two of the runs start it under load; the others
reuse it. It prints each run's exit code and time, then passes/runs.

Usage: python -m benchmarks.repro_reliability [--runs N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import tempfile
import time
from pathlib import Path

from pipelines.prefect_server import stop
from tests.helpers.workspace import commit, copy_repository, environment


def busy() -> None:
    """Spin forever (a saturating load; killed by the caller)."""
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_repository(Path(tmp), {"data": {"source": "mnist_5k"}})
        commit(root, "copy of the checkout")
        env = environment(root, MNIST_MLOPS_PREFECT_IDLE_S="600")
        load = [
            multiprocessing.Process(target=busy, daemon=True) for _ in range(os.cpu_count() or 1)
        ]
        load.append(multiprocessing.Process(target=busy, daemon=True))
        for process in load:
            process.start()
        passed = 0
        try:
            for index in range(args.runs):
                cold = index in (0, args.runs // 2)
                if cold:
                    stop(root / ".prefect")
                start = time.perf_counter()
                result = subprocess.run(
                    ["dvc", "repro", "--force", "download"],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                elapsed = time.perf_counter() - start
                passed += result.returncode == 0
                print(
                    f"run {index + 1:2d}/{args.runs}: exit {result.returncode}, {elapsed:5.1f} s"
                    + (" (server started under load)" if cold else "")
                )
                if result.returncode != 0:
                    print((result.stdout + result.stderr)[-2000:])
        finally:
            for process in load:
                process.kill()
            stop(root / ".prefect")
    print(f"passed {passed}/{args.runs} plain `dvc repro` runs with {len(load)} busy processes")


if __name__ == "__main__":
    main()
