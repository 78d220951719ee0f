"""The default pipeline on a 60k set against one plain Keras fit, side by side in one run.

In a copy of this checkout (tracked and untracked files, its own git, MLflow store, Optuna
journal and Prefect server) with ``data.source: idx`` on --data (Fashion-MNIST of Debian's
dataset-fashion-mnist by default; full MNIST where you have it), every stage of ``dvc.yaml``
runs in order as ``dvc repro --single-item <stage>`` and is timed. Then, in the same run:
  plain    a plain script (:data:`PLAIN`: NumPy + Keras, no MLflow, no Prefect) fits the course
           network (784-512 relu-10, adam 1e-3, 5 epochs, batch 128) on the same processed
           splits: its process time is the floor of one fit; it also times a batch-128 matrix
           product (784x512) for the machine's rate (its time is not counted as the script's);
  plain-tuned  the same script fitting the tuned champion's configuration (what ``train`` fits).
Printed: each stage's time; ratios whole pipeline / plain course process (target <= 20) and
train stage / plain-tuned process (target <= 1.15); the fits' throughput (6 x weights FLOP per
training image, 2 x per validation image) against the matrix-product rate; test accuracy of the
course fit, the tuned champion and the baselines, with the champion's margin over the course fit
and its paired bootstrap standard error on the test set. --n-trials / --timeout-s reduce the
study (say so when quoting the figures). Usage:
  python -m benchmarks.pipeline_scale [--data DIR] [--n-trials N] [--timeout-s S] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
FASHION = "/usr/share/datasets/fashion-mnist"
COURSE = {"layers": [512], "activation": "relu", "dropout": 0.0, "optimizer": "adam",
          "learning_rate": 0.001, "epochs": 5, "batch_size": 128, "seed": 42}  # fmt: skip

# The plain script: argv[1] processed folder, argv[2] config JSON, argv[3] predictions file.
PLAIN = r"""
import json, sys, time
import numpy as np
import keras, tensorflow as tf
folder, config, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
x, y = {}, {}
for name in ("train", "val", "test"):
    x[name], y[name] = np.load(f"{folder}/{name}_x.npy"), np.load(f"{folder}/{name}_y.npy")
keras.utils.set_random_seed(config["seed"])
a, b = tf.random.normal((128, 784)), tf.random.normal((784, 512))
tf.matmul(a, b)
start, n = time.perf_counter(), 2000
for _ in range(n):
    c = tf.matmul(a, b)
c.numpy()
matmul_s = time.perf_counter() - start
matmul_gflops = 2 * 128 * 784 * 512 * n / matmul_s / 1e9
layers = [keras.Input((784,))]
for width in config["layers"]:
    layers.append(keras.layers.Dense(width, activation=config["activation"]))
    if config["dropout"]:
        layers.append(keras.layers.Dropout(config["dropout"]))
layers.append(keras.layers.Dense(10, activation="softmax"))
model = keras.Sequential(layers)
optimizer = keras.optimizers.get({"class_name": config["optimizer"],
                                  "config": {"learning_rate": config["learning_rate"]}})
model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(x["train"], y["train"], validation_data=(x["val"], y["val"]),
          epochs=config["epochs"], batch_size=config["batch_size"], verbose=0)
fit_s = time.perf_counter() - start
predicted = model.predict_on_batch(x["test"]).argmax(axis=1)
np.save(out, predicted)
print(json.dumps({"fit_s": fit_s, "weights": model.count_params(), "matmul_s": matmul_s,
                  "matmul_gflops": matmul_gflops, "n_train": len(y["train"]),
                  "n_val": len(y["val"]), "test_accuracy": float((predicted == y["test"]).mean())}))
"""


def copy_checkout(target: Path) -> None:
    """Copy the checkout's tracked and untracked (not ignored) files; git-init the copy."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "copy", "--no-verify"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *command],
                       cwd=target, check=True)  # fmt: skip


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def plain_fit(processed: Path, config: dict, out: Path, env: dict[str, str]) -> dict:
    seconds, stdout = timed([sys.executable, "-c", PLAIN, str(processed), json.dumps(config),
                             str(out)], processed, env)  # fmt: skip
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "process_s": seconds - result["matmul_s"]}  # the script without the rate


def stage_order(stages: dict) -> list[str]:
    """dvc.yaml's stages, each after the stages whose outputs it depends on (else file order)."""

    def paths(entries: list) -> list[str]:
        return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]

    made = {out: name for name, stage in stages.items() for out in paths(stage.get("outs", []))}
    made |= {out: name for name, stage in stages.items() for out in paths(stage.get("metrics", []))}
    needs = {
        name: {maker for dep in paths(stage.get("deps", [])) for out, maker in made.items()
               if dep == out or dep.startswith(out + "/")} - {name}
        for name, stage in stages.items()
    }  # fmt: skip
    order: list[str] = []
    while len(order) < len(stages):
        order.append(next(n for n in stages if n not in order and needs[n] <= set(order)))
    return order


def gflops(fit: dict, epochs: int) -> float:
    flop = fit["weights"] * epochs * (6 * fit["n_train"] + 2 * fit["n_val"])
    return flop / fit["fit_s"] / 1e9


def paired_margin(tuned: np.ndarray, course: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy difference tuned - course and its paired bootstrap standard error (2,000 draws)."""
    difference = (tuned == labels).astype(float) - (course == labels).astype(float)
    draws = np.random.default_rng(0).integers(0, len(labels), (2000, len(labels)))
    return float(difference.mean()), float(difference[draws].mean(axis=1).std())


def tuned_config(project: Path) -> dict:
    from mnist_mlops.artifacts.best_params import BestParams
    from mnist_mlops.config.params import load_params

    params = load_params(project / "params.yaml")
    model, train = params.model, params.train
    best = project / "tuning" / "best_params.json"
    if params.train.use_tuned and best.is_file():
        model, train = BestParams.read(best).apply(model, train)
    return {"layers": list(model.hidden_layers), "activation": model.activation,
            "dropout": model.dropout, "optimizer": train.optimizer.name,
            "learning_rate": train.optimizer.learning_rate, "epochs": train.epochs,
            "batch_size": train.batch_size, "seed": train.seed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=FASHION, help="folder of the four idx files")
    parser.add_argument("--source", default="idx", help="data.source (idx reads --data)")
    parser.add_argument("--n-trials", type=int, help="tune.n_trials (default: params.yaml's)")
    parser.add_argument("--timeout-s", type=float, help="tune.timeout_s")
    parser.add_argument("--keep", help="run in this (new) folder and keep it")
    parser.add_argument("--stages", help="comma-separated stages to run (default: all)")
    args = parser.parse_args()
    project = Path(args.keep or tempfile.mkdtemp(prefix="pipeline-scale-"))
    project.mkdir(parents=True, exist_ok=True)
    if not (project / "dvc.yaml").is_file():
        copy_checkout(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    if args.source == "idx":
        params["data"].update(source="idx", path=str(Path(args.data).resolve()))
    else:
        params["data"].update(source=args.source, path=None)
    if args.n_trials is not None:
        params["tune"]["n_trials"] = args.n_trials
    if args.timeout_s is not None:
        params["tune"]["timeout_s"] = args.timeout_s
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLFLOW_", "MNIST_MLOPS_", "PREFECT_"))}  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project / "src")  # the copy's code, not the (editable) checkout's
    dvc = str(Path(sys.executable).parent / "dvc")
    stages = stage_order(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])
    stages = args.stages.split(",") if args.stages is not None else stages
    tune = params["tune"]
    print(f"project copy: {project}; data {args.source} {args.data}; tune {tune['n_trials']} "
          f"trials, {tune['workers']} workers; load average {os.getloadavg()}")  # fmt: skip
    times: dict[str, float] = {}
    processed = project / "data" / "processed"
    courses = []
    for stage in stages:
        times[stage], _ = timed([dvc, "repro", "--single-item", stage], project, env)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"  {stage:16s} {times[stage]:8.1f} s   (load average after: {load})", flush=True)
        if stage == "preprocess":  # the plain fit before the other stages, and after them
            courses.append(plain_fit(processed, COURSE, project / "course.npy", env))
    courses.append(plain_fit(processed, COURSE, project / "course.npy", env))
    tuned_cfg = tuned_config(project)
    tuned = [plain_fit(processed, tuned_cfg, project / "plain_tuned.npy", env)]
    train_again, _ = timed([dvc, "repro", "--force", "--single-item", "train"], project, env)
    tuned.append(plain_fit(processed, tuned_cfg, project / "plain_tuned.npy", env))
    stop = "from pipelines.prefect_server import stop; stop(__import__('pathlib').Path('.prefect'))"
    subprocess.run([sys.executable, "-c", stop], cwd=project, env=env)  # the copy's server
    total = sum(times.values())
    course = min(courses, key=lambda fit: fit["process_s"])
    plain_tuned_s = sum(fit["process_s"] for fit in tuned) / len(tuned)
    print(f"load average after: {os.getloadavg()}")
    print(f"whole pipeline {total:.1f} s; plain course script "
          f"{[round(fit['process_s'], 1) for fit in courses]} s (before, after the stages; fit "
          f"{[round(fit['fit_s'], 1) for fit in courses]} s)")  # fmt: skip
    print(f"train stage again {train_again:.1f} s between two plain tuned scripts "
          f"{[round(fit['process_s'], 1) for fit in tuned]} s (fit "
          f"{[round(fit['fit_s'], 1) for fit in tuned]} s; {tuned_cfg})")  # fmt: skip
    print(f"ratio pipeline / plain course script  {total / course['process_s']:6.2f}  (<= 20; "
          f"the faster of the two)")  # fmt: skip
    print(f"ratio train stage / plain tuned script {train_again / plain_tuned_s:6.2f}  (<= 1.15)")
    print(f"batch-128 matmul {course['matmul_gflops']:.1f} GFLOP/s; course fit "
          f"{gflops(course, COURSE['epochs']):.1f}, tuned fit "
          f"{gflops(tuned[0], tuned_cfg['epochs']):.1f} GFLOP/s")  # fmt: skip
    labels = np.load(processed / "test_y.npy")
    from mnist_mlops.artifacts.trained import load_model

    champion = load_model(project / "models" / "trained", compile=False)
    predicted = champion.predict_on_batch(np.load(processed / "test_x.npy")).argmax(axis=1)
    course_pred = np.load(project / "course.npy")
    margin, error = paired_margin(predicted, course_pred, labels)
    print(f"test accuracy ({len(labels)} images): course {course['test_accuracy']:.4f}, "
          f"tuned champion {(predicted == labels).mean():.4f}, plain refit of the tuned config "
          f"{tuned[0]['test_accuracy']:.4f}")  # fmt: skip
    print(f"margin champion - course {margin:+.4f} +- {error:.4f} (paired bootstrap SE): "
          f"{margin / error if error else float('inf'):.1f} SE")  # fmt: skip
    record = project / "records" / "comparison.json"
    if record.is_file():
        print(f"  records/comparison.json (the pipeline's, against its course run): "
              f"{json.loads(record.read_text())}")  # fmt: skip
    for name in ("mlp", "perceptron", "course"):
        path = project / "metrics" / f"{name}.json"
        if path.is_file():
            print(f"  metrics/{name}.json: {json.loads(path.read_text())}")
    for name in ("tune", "evaluate"):
        path = project / "metrics" / f"{name}.json"
        if path.is_file():
            print(f"  metrics/{name}.json: {json.loads(path.read_text())}")
    if not args.keep:
        shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
