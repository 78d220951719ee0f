"""docs/reproducibility.md's promise: bit for bit on one machine, within a tolerance elsewhere.

"Another machine" is simulated by what makes machines differ: oneDNN picks its float32 kernels
by the CPU's instruction set (capped with ``ONEDNN_MAX_CPU_ISA``), and without oneDNN (or on
some instruction sets) the thread count changes how sums are split. Each variant fits the same
seeded model in a process of its own (``tests/helpers/fit_once.py``).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_mlops.artifacts.trained import keras_bytes
from mnist_mlops.config.constants import CROSS_MACHINE_LOSS_RTOL
from mnist_mlops.training.fit import fit
from tests.helpers.fit_once import MODEL, TRAIN
from tests.helpers.workspace import REPO_ROOT

OTHER_MACHINES = {  # what differs between machines: kernels (instruction set) and threads
    "avx2 kernels, 1 thread": ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, 1),
    "no oneDNN, 1 thread": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, 1),
}
KERNEL_SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA")
LOSSES = ("loss", "val_loss")


def test_two_fits_on_one_machine_give_the_same_history_and_model_bytes(tiny_splits):
    first, second = (fit(MODEL, TRAIN, tiny_splits["train"], tiny_splits["val"]) for _ in "ab")
    assert first.history == second.history
    assert keras_bytes(first.model) == keras_bytes(second.model)


def fit_elsewhere(splits_file, out, environment, threads):
    env = {key: value for key, value in os.environ.items() if key not in KERNEL_SETTINGS}
    env |= {"TF_CPP_MIN_LOG_LEVEL": "2", **environment}
    command = [sys.executable, "-m", "tests.helpers.fit_once", str(splits_file), str(out)]
    subprocess.run([*command, "--threads", str(threads)], cwd=REPO_ROOT, env=env, check=True)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_other_kernels_and_thread_counts_agree_within_the_stated_tolerance(tiny_splits, tmp_path):
    splits_file = tmp_path / "splits.npz"
    np.savez(
        splits_file,
        **{f"{n}_{a}": getattr(tiny_splits[n], a) for n in ("train", "val") for a in "xy"},
    )
    here = fit(MODEL, TRAIN, tiny_splits["train"], tiny_splits["val"]).history
    for index, (name, (environment, threads)) in enumerate(OTHER_MACHINES.items()):
        there = fit_elsewhere(splits_file, tmp_path / f"{index}.json", environment, threads)
        for key in LOSSES:
            assert len(there["history"][key]) == TRAIN.epochs, name
            np.testing.assert_allclose(
                there["history"][key], here[key], rtol=CROSS_MACHINE_LOSS_RTOL, err_msg=name
            )
