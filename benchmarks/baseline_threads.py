"""scikit-learn's MLPClassifier baseline, quiet vs loaded, with and without the thread limit.

Side by side in one run, alternating, --repeats times each: the baselines stage's fit
(:func:`mnist_mlops.evaluation.baselines.limited_fit`) of MLPClassifier(100) with the machine's
default BLAS threads and with ``THREADS`` (the stage's limit), each on the machine as it is
("quiet") and with --load busy processes started beside it (the other stages' load: one
spinning process per tuning worker). Printed: the median fit time of each of the four and the
ratios loaded / quiet (target for the limited fit: <= 2 against the default fit on the quiet
machine), plus the early-stopping variant's time and test accuracy. The load average at the
start is printed: other work on the machine counts as part of "quiet".
Data: the first --n training and 10,000 test images of an idx folder (Fashion-MNIST of Debian's
dataset-fashion-mnist by default). Usage:
  python -m benchmarks.baseline_threads [--n 20000] [--max-iter 15] [--repeats 2] [--load 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
from pathlib import Path

from threadpoolctl import threadpool_info

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.params import BaselinesConfig
from mnist_mlops.data.idx import read_idx
from mnist_mlops.data.preprocess import to_features
from mnist_mlops.data.raw import find_idx
from mnist_mlops.evaluation.baselines import limited_fit, make_baseline

THREADS = BaselinesConfig().threads  # the stage's default limit (params.yaml baselines.threads)

FASHION = "/usr/share/datasets/fashion-mnist"


def spin() -> None:
    while True:
        pass


def load_split(folder: Path, stem: str, n: int) -> Split:
    images = read_idx(find_idx(folder, f"{stem}-images-idx3-ubyte"))[:n]
    labels = read_idx(find_idx(folder, f"{stem}-labels-idx1-ubyte"))[:n]
    return Split(to_features(images), labels.astype("int32"))


def timed(train: Split, threads: int | None, max_iter: int, loaded: int) -> float:
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(loaded)]
    for process in busy:
        process.start()
    try:
        estimator = make_baseline("mlp", 0, max_iter)
        return limited_fit(estimator, train, threads or os.cpu_count() or 1)
    finally:
        for process in busy:
            process.terminate()
            process.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=FASHION, help="folder of the four idx files")
    parser.add_argument("--n", type=int, default=20000, help="training images used")
    parser.add_argument("--max-iter", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--load", type=int, default=2, help="busy processes of the loaded runs")
    args = parser.parse_args()
    train = load_split(Path(args.data), "train", args.n)
    test = load_split(Path(args.data), "t10k", 10000)
    print(f"load average at start: {os.getloadavg()}; cpus {os.cpu_count()}")
    print(f"BLAS pools: {[(p['internal_api'], p['num_threads']) for p in threadpool_info()]}")
    cases = {
        "default threads, quiet": (None, 0),
        "default threads, loaded": (None, args.load),
        f"{THREADS} thread(s), quiet": (THREADS, 0),
        f"{THREADS} thread(s), loaded": (THREADS, args.load),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for repeat in range(args.repeats):
        order = list(cases) if repeat % 2 == 0 else list(reversed(cases))
        for name in order:
            threads, busy = cases[name]
            times[name].append(timed(train, threads, args.max_iter, busy))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"MLPClassifier(100), {args.n} images, max_iter {args.max_iter}, +{args.load} busy")
    for name, value in medians.items():
        print(f"  {name:28s} median {value:7.2f} s  {[round(t, 2) for t in times[name]]}")
    quiet, limited = medians["default threads, quiet"], f"{THREADS} thread(s)"
    print(f"  default: loaded / quiet  {medians['default threads, loaded'] / quiet:6.2f}")
    print(f"  limited loaded / default quiet  {medians[limited + ', loaded'] / quiet:6.2f} (<= 2)")
    print(f"  limited quiet / default quiet   {medians[limited + ', quiet'] / quiet:6.2f}")
    for early in (False, True):
        estimator = make_baseline("mlp", 0, None, early_stopping=early)
        seconds = limited_fit(estimator, train, THREADS)
        accuracy = float(estimator.score(test.x, test.y))
        print(
            f"  max_iter default (200), early_stopping={early}: {seconds:.1f} s, "
            f"{estimator.n_iter_} iterations, test accuracy {accuracy:.4f}"
        )


if __name__ == "__main__":
    main()
