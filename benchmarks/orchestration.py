"""Per-stage orchestration overhead: ephemeral Prefect server vs one shared server.

For the download and preprocess stages (embedded 5,000 digits) it times, side by side in one run:
  bare       the stage's library call in a fresh Python process, no Prefect at all;
  ephemeral  `python -m pipelines.<stage>` with no server: Prefect starts one per process;
  shared     the same command against one `prefect server start` (what `make repro` uses).
Overhead = stage time - bare time. It also times the shared server's start-up and a no-op
`dvc repro`. Usage: python -m benchmarks.orchestration [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from pipelines.with_prefect_server import prefect_server
from tests.helpers.workspace import copy_repository, environment

BARE = {
    "download": "from mnist_mlops.config.params import load_params as l; "
    "from mnist_mlops.config.paths import ProjectPaths; from mnist_mlops.data.download import "
    "download; paths = ProjectPaths.for_params_file('params.yaml'); "
    "download(l().data, paths.raw_dir)",
    "preprocess": "from mnist_mlops.config.params import load_params as l; "
    "from mnist_mlops.config.paths import ProjectPaths; "
    "from mnist_mlops.data.preprocess import preprocess; "
    "from mnist_mlops.data.report import write_report; p = l().preprocess; "
    "paths = ProjectPaths.for_params_file('params.yaml'); "
    "write_report(preprocess(p, paths.raw_dir, paths.processed_dir), paths.reports_dir)",
}
STAGES_IN_PIPELINE = len(yaml.safe_load(Path("dvc.yaml").read_text())["stages"])


def timed(command: list[str], root: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_repository(Path(tmp), {"data": {"source": "mnist_5k"}})
        env = environment(root)
        times: dict[tuple[str, str], list[float]] = {}
        start = time.perf_counter()
        with prefect_server(root / "server.log") as api_url:
            server_start = time.perf_counter() - start
            shared_env = environment(root, PREFECT_API_URL=api_url or "")
            for _ in range(args.repeats):
                for stage in ("download", "preprocess"):
                    flow = [sys.executable, "-m", f"pipelines.{stage}"]
                    runs = {
                        "bare": ([sys.executable, "-c", BARE[stage]], env),
                        "ephemeral": (flow, env),
                        "shared": (flow, shared_env),
                    }
                    for mode, (command, mode_env) in runs.items():
                        times.setdefault((stage, mode), []).append(timed(command, root, mode_env))
        subprocess.run(
            ["dvc", "repro", "preprocess"], cwd=root, env=env, check=True, capture_output=True
        )
        noop = statistics.median(
            timed(["dvc", "repro", "preprocess"], root, env) for _ in range(args.repeats)
        )
    print(
        f"{'stage':<11} {'bare s':>7} {'ephemeral s':>12} {'shared s':>9} "
        f"{'overhead eph.':>14} {'overhead shared':>16}"
    )
    overheads = {"ephemeral": [], "shared": []}
    for stage in ("download", "preprocess"):
        median = {
            mode: statistics.median(times[(stage, mode)])
            for mode in ("bare", "ephemeral", "shared")
        }
        for mode in overheads:
            overheads[mode].append(median[mode] - median["bare"])
        bare, ephemeral, shared = median["bare"], median["ephemeral"], median["shared"]
        print(
            f"{stage:<11} {bare:7.2f} {ephemeral:12.2f} {shared:9.2f} "
            f"{ephemeral - bare:14.2f} {shared - bare:16.2f}"
        )
    per_stage = {mode: statistics.mean(values) for mode, values in overheads.items()}
    pipeline = {
        "ephemeral": STAGES_IN_PIPELINE * per_stage["ephemeral"],
        "shared": server_start + STAGES_IN_PIPELINE * per_stage["shared"],
    }
    print(f"shared Prefect server start-up: {server_start:.2f} s")
    print(
        f"orchestration overhead per stage: ephemeral {per_stage['ephemeral']:.2f} s, "
        f"shared {per_stage['shared']:.2f} s"
    )
    print(
        f"for a {STAGES_IN_PIPELINE}-stage pipeline: ephemeral {pipeline['ephemeral']:.1f} s, "
        f"shared (incl. start-up) {pipeline['shared']:.1f} s, "
        f"ratio ephemeral/shared {pipeline['ephemeral'] / pipeline['shared']:.2f}"
    )
    print(f"no-op `dvc repro preprocess` (nothing changed): {noop:.2f} s")


if __name__ == "__main__":
    main()
