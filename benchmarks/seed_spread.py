"""How much the training seed moves the course network's and the tuned network's test accuracy.

The pipeline's comparison (``records/comparison.json``) holds the uncertainty of sampling test
images for two trained models; this measures the other one, the training seed. In a project
folder that has run the pipeline (``data/processed``, ``tuning/best_params.json``), the plain
script of :mod:`benchmarks.pipeline_scale` fits the course network and the tuned champion's
configuration with seeds 0..N-1 and prints each test accuracy, their mean and standard
deviation, and the margin tuned - course per seed. Usage:
  python -m benchmarks.seed_spread --project DIR [--seeds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.pipeline_scale import COURSE, plain_fit, tuned_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=".", help="a project that has run the pipeline")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    project = Path(args.project).resolve()
    processed = project / "data" / "processed"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    configs = {"course": COURSE, "tuned": tuned_config(project)}
    print(f"{project}: tuned {configs['tuned']}; load average {os.getloadavg()}", flush=True)
    accuracy: dict[str, list[float]] = {name: [] for name in configs}
    for seed in range(args.seeds):
        for name, config in configs.items():
            out = Path(tempfile.gettempdir()) / f"seed_spread_{name}.npy"  # (not read back)
            fit = plain_fit(processed, {**config, "seed": seed}, out, env)
            accuracy[name].append(fit["test_accuracy"])
        print(f"  seed {seed}: course {accuracy['course'][-1]:.4f}, tuned "
              f"{accuracy['tuned'][-1]:.4f}", flush=True)  # fmt: skip
    margins = [t - c for t, c in zip(accuracy["tuned"], accuracy["course"], strict=True)]
    for name, values in [*accuracy.items(), ("margin tuned - course", margins)]:
        spread = statistics.stdev(values) if len(values) > 1 else float("nan")
        print(f"{name:22s} mean {statistics.mean(values):+.4f}  sd {spread:.4f}  "
              f"min {min(values):+.4f}  max {max(values):+.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
