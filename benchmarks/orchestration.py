"""Per-stage orchestration overhead: Prefect's ephemeral server vs the project's shared one.

For the download and preprocess stages (embedded 5,000 digits) it times, side by side in one run:
  bare      the stage's library call in a fresh Python process, no Prefect at all;
  ephemeral the stage's flow with no server: Prefect starts its ephemeral server in the
            process (what Prefect does without the project's server);
  shared    `python -m pipelines <stage>` with `PREFECT_API_URL` naming the running server
            (a server of your own);
  project   the same command with no `PREFECT_API_URL`, as under `make repro`, `dvc repro` or
            `dvc exp run`: the stage finds the project's running server (.prefect/server.json)
            and holds it while it runs.
Overhead = stage time - bare time. Both ways start the project's server once (timed here as
"start-up", then reused); the ratio project/shared of a 7-stage pipeline's orchestration is the
figure issue 13 bounds (<= 1.5). It also times a no-op `dvc repro`.
Usage: python -m benchmarks.orchestration [--repeats N]
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
from pipelines.prefect_server import project_server, stop
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
# the stage's flow in Prefect's ephemeral mode (no PREFECT_API_URL, no project server)
EPHEMERAL = (
    "import importlib, sys; from mnist_mlops.config.params import load_params; "
    "from mnist_mlops.config.paths import ProjectPaths; "
    "importlib.import_module('pipelines.' + sys.argv[1]).run("
    "load_params('params.yaml'), ProjectPaths.for_params_file('params.yaml'))"
)
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
        with project_server(root) as api_url:  # started here (cold), kept in use meanwhile
            server_start = time.perf_counter() - start
            assert api_url, "the project's Prefect server did not start"
            shared_env = environment(root, PREFECT_API_URL=api_url)
            ephemeral_env = environment(root, PREFECT_HOME=str(root / ".prefect-ephemeral"))
            for _ in range(args.repeats):
                for stage in ("download", "preprocess"):
                    flow = [sys.executable, "-m", "pipelines", stage]
                    runs = {
                        "bare": ([sys.executable, "-c", BARE[stage]], env),
                        "ephemeral": ([sys.executable, "-c", EPHEMERAL, stage], ephemeral_env),
                        "shared": (flow, shared_env),
                        "project": (flow, env),
                    }
                    for mode, (command, mode_env) in runs.items():
                        times.setdefault((stage, mode), []).append(timed(command, root, mode_env))
        subprocess.run(
            ["dvc", "repro", "preprocess"], cwd=root, env=env, check=True, capture_output=True
        )
        noop = statistics.median(
            timed(["dvc", "repro", "preprocess"], root, env) for _ in range(args.repeats)
        )
        stop(root / ".prefect")
    print(
        f"{'stage':<11} {'bare s':>7} {'ephemeral s':>12} {'shared s':>9} {'project s':>10} "
        f"{'overhead shared':>16} {'overhead project':>17}"
    )
    modes = ("ephemeral", "shared", "project")
    overheads: dict[str, list[float]] = {mode: [] for mode in modes}
    for stage in ("download", "preprocess"):
        median = {mode: statistics.median(times[(stage, mode)]) for mode in ("bare", *modes)}
        for mode in modes:
            overheads[mode].append(median[mode] - median["bare"])
        print(
            f"{stage:<11} {median['bare']:7.2f} {median['ephemeral']:12.2f} "
            f"{median['shared']:9.2f} {median['project']:10.2f} "
            f"{median['shared'] - median['bare']:16.2f} {median['project'] - median['bare']:17.2f}"
        )
    per_stage = {mode: statistics.mean(values) for mode, values in overheads.items()}
    pipeline = {mode: server_start + STAGES_IN_PIPELINE * per_stage[mode] for mode in modes[1:]}
    print(f"project Prefect server start-up (cold, once per idle period): {server_start:.2f} s")
    print(
        f"orchestration overhead per stage: ephemeral {per_stage['ephemeral']:.2f} s, "
        f"shared {per_stage['shared']:.2f} s, project {per_stage['project']:.2f} s"
    )
    print(
        f"for a {STAGES_IN_PIPELINE}-stage pipeline: ephemeral servers "
        f"{STAGES_IN_PIPELINE * per_stage['ephemeral']:.1f} s, the project's server "
        f"{pipeline['project']:.1f} s (start-up included), a server named by PREFECT_API_URL "
        f"{pipeline['shared']:.1f} s; ratio project/shared "
        f"{pipeline['project'] / pipeline['shared']:.2f} (bound: 1.5)"
    )
    print(f"no-op `dvc repro preprocess` (nothing changed): {noop:.2f} s")


if __name__ == "__main__":
    main()
