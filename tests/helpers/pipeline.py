"""The tiny configuration of the session's real `dvc repro` (tests/pipelines/conftest.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mnist_mlops.config.paths import RELATIVE, ProjectPaths

TINY_SPACE = {
    "epochs": 2,
    "n_layers": 1,
    "neurons": {"low": 16, "high": 64, "log": True},
    "activation": ["relu", "tanh"],
    "optimizer": "adam",
    "learning_rate": {"low": 0.003, "high": 0.01, "log": True},
    "batch_size": [128],
    "dropout": 0.0,
}
# the embedded 5,000 digits, one hidden layer of 32, 2 epochs, 2 trials of the tiny space,
# baselines capped at 20 iterations
TINY_PIPELINE = {
    "baselines": {"max_iter": 20},
    "data": {"source": "mnist_5k"},
    "model": {"hidden_layers": [32]},
    "train": {"epochs": 2},
    "tune": {"n_trials": 2, "workers": 1, "space": TINY_SPACE},
}
REPRO = ("dvc", "repro")  # what `make repro` runs
# cache: false outputs and dvc.lock belong in git (the checkout's .gitignore skips them)
UNCACHED = (
    "dvc.lock",
    Path(RELATIVE["evaluate_metrics"]).parent.as_posix(),
    RELATIVE["plots_dir"],
)


# The feedback stage reads the prediction store, a database DVC cannot hash: it is
# `always_changed`, runs on every `dvc repro` and writes the same snapshot for the same labels.
ALWAYS_RUN = ["feedback"]


def stages_run(output: str) -> list[str]:
    """The stages a ``dvc repro`` output says it ran, in order."""
    return re.findall(r"Running stage '([\w-]+)'", output)


def up_to_date(status_json: str) -> bool:
    """Whether ``dvc status --json`` output (its last line) lists only the always-run stages."""
    status = json.loads(status_json.strip().splitlines()[-1])
    return status == {stage: ["always changed"] for stage in ALWAYS_RUN}


@dataclass(frozen=True)
class Repro:
    """A project after its first ``dvc repro``: the folder and what the command printed."""

    root: Path
    output: str

    @property
    def paths(self) -> ProjectPaths:
        """The project's locations."""
        return ProjectPaths(self.root)


# The modules that use the expensive session fixtures (the Prefect test server, this repro):
# with pytest-xdist they run in one worker (tests/conftest.py), the flow tests first.
SHARED_SETUP_FIXTURES = {"prefect_harness", "prefect_api", "pipeline", "project_clone"}
SHARED_SETUP_MODULES = re.compile(r"^tests/pipelines/test_\w+_(flows?|dvc)\.py$")


def shared_setup_module(nodeid: str) -> str | None:
    """Return ``"flow"`` or ``"dvc"`` for a test of a shared-setup module, else ``None``."""
    found = SHARED_SETUP_MODULES.match(nodeid.split("::", 1)[0])
    return None if found is None else ("dvc" if found.group(1) == "dvc" else "flow")
