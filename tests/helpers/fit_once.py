"""One seeded fit in a process of its own, as another machine would run it.

``python -m tests.helpers.fit_once SPLITS.npz OUT.json [--threads N]``: fit the model that
:data:`MODEL` / :data:`TRAIN` describe on the splits with the project's fit loop and write the
per-epoch history and the SHA-256 of the saved model. The caller picks what differs between
machines through the environment (``TF_ENABLE_ONEDNN_OPTS``, ``ONEDNN_MAX_CPU_ISA``: which
float32 kernels run) and ``--threads`` (TensorFlow's intra- and inter-op thread counts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from mnist_mlops.config.params import ModelConfig, TrainConfig

MODEL = ModelConfig(hidden_layers=[64])
TRAIN = TrainConfig(epochs=3, batch_size=32, seed=3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("splits")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=0, help="0: TensorFlow's default")
    args = parser.parse_args()
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from mnist_mlops.artifacts.processed import Split
    from mnist_mlops.artifacts.trained import keras_bytes
    from mnist_mlops.training.fit import fit

    data = np.load(args.splits)
    train, val = (Split(data[f"{name}_x"], data[f"{name}_y"]) for name in ("train", "val"))
    result = fit(MODEL, TRAIN, train, val)
    digest = hashlib.sha256(keras_bytes(result.model)).hexdigest()
    Path(args.out).write_text(json.dumps({"history": result.history, "model_sha256": digest}))


if __name__ == "__main__":
    main()
