"""Cold-process latency of `mnist-mlops predict one.png` against `python -c "import numpy"`.

Side by side, alternating, --repeats times each, every one a fresh process:
  floor   python -c "import numpy": the least any Python command that touches an array costs;
  predict mnist-mlops predict one.png with the champion of a temporary SQLite registry (the
          course model's size: 784 -> 512 -> 10, logged by log_classifier and registered);
          it resolves models:/mnist-classifier@champion without MLflow and runs the ONNX
          graph with ONNX Runtime (mnist_mlops.serving.runtime.fast_model);
  pyfunc  the same prediction the way predict made it before: read_digits, then
          mlflow.pyfunc.load_model(models:/mnist-classifier@champion).predict.
one.png is a seeded "photo" (180x140-ish, dark ink on light paper) of a UCI digit. Printed:
median and fastest wall time of each, the ratios predict / floor and pyfunc / predict, the
digit each answered (they must agree), and where the predict process spends its import time
(python -X importtime, self time summed per top-level package). Target: predict under 3 s.
Usage: python -m benchmarks.predict_latency [--repeats N]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0
NAME = "mnist-classifier"
URI = f"models:/{NAME}@champion"
PYFUNC_SCRIPT = (
    "import sys, mlflow.pyfunc; from mnist_mlops.serving.files.reading import read_digits; "
    "rows = read_digits(sys.argv[1]); model = mlflow.pyfunc.load_model(sys.argv[2]); "
    "print(model.predict(rows)['digit'][0])"
)
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| (\s*)(\S+)")


def register_course_model(folder: Path) -> str:
    """Register an (untrained: latency does not depend on the weights) course-size model."""
    import mlflow

    from mnist_mlops.config.params import MlflowConfig, ModelConfig, OptimizerConfig
    from mnist_mlops.serving.runtime.pyfunc import log_classifier
    from mnist_mlops.tracking.setup import setup_tracking
    from mnist_mlops.training.model import build_model, set_determinism

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    setup_tracking(MlflowConfig(experiment="predict-latency", tracking_uri=uri), folder)
    set_determinism(0)
    model = build_model(ModelConfig(), OptimizerConfig())
    with mlflow.start_run():
        info = log_classifier(model, registered_model_name=NAME)
    mlflow.MlflowClient().set_registered_model_alias(
        NAME, "champion", info.registered_model_version
    )
    return uri


def write_photo(path: Path) -> None:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    from mnist_mlops.evaluation.photos import PhotoSettings, make_photos, uci_digits

    digit = uci_digits(load_digits().images[3:4])
    settings = PhotoSettings(canvas=(140, 180), dark_on_light=1.0)
    Image.fromarray(make_photos(digit, seed=1, settings=settings)[0]).save(path)
    assert np.asarray(Image.open(path)).ndim == 2


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip()


def import_breakdown(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            totals[match.group(3).split(".")[0]] += int(match.group(1))
    top = ", ".join(f"{name} {micro / 1e6:.2f} s" for name, micro in totals.most_common(6))
    return f"{sum(totals.values()) / 1e6:.2f} s in all; {top}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mnist-predict-latency-") as tmp:
        folder = Path(tmp)
        env = os.environ | {"MLFLOW_TRACKING_URI": register_course_model(folder)}
        env.pop("MLFLOW_REGISTRY_URI", None)
        photo = folder / "one.png"
        write_photo(photo)
        cli = str(Path(sys.executable).with_name("mnist-mlops"))
        commands = {
            "floor": [sys.executable, "-c", "import numpy"],
            "predict": [cli, "predict", str(photo)],
            "pyfunc": [sys.executable, "-c", PYFUNC_SCRIPT, str(photo), URI],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        answers: dict[str, str] = {}
        for _ in range(args.repeats):
            for name, command in commands.items():
                seconds, out = timed(command, env, folder)
                times[name].append(seconds)
                answers[name] = out
        breakdown = import_breakdown(
            ["-m", "mnist_mlops.cli.main", "predict", str(photo)], env, folder
        )
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{args.repeats} cold processes each, alternating (wall seconds)\n")
    print("| command | median | fastest |")
    print("| --- | --- | --- |")
    for name, values in times.items():
        print(f"| {name} | {median[name]:.2f} | {min(values):.2f} |")
    print(
        f"\npredict / floor: {median['predict'] / median['floor']:.1f}x; "
        f"pyfunc / predict: {median['pyfunc'] / median['predict']:.1f}x"
    )
    digit = answers["predict"].split("\t")[1] if "\t" in answers["predict"] else answers["predict"]
    print(f"answers: predict {digit}, pyfunc {answers['pyfunc']} (must agree)")
    verdict = "met" if median["predict"] < TARGET_S else "NOT met"
    print(f"target: predict under {TARGET_S:.0f} s: {verdict}")
    print(f"predict's imports (self time per package): {breakdown}")


if __name__ == "__main__":
    main()
