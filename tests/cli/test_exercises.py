import csv
import os
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from mnist_mlops.artifacts.processed import processed_hash, save_splits
from mnist_mlops.cli.main import main
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.training.exercises import exercise_configs
from mnist_mlops.training.grid import EXERCISE_NAMES, EXERCISES


def test_the_grid_is_the_courses():
    assert EXERCISE_NAMES == (
        "course",
        "epochs-1",
        "epochs-20",
        "neurons-128",
        "neurons-1024",
        "two-layers",
        "sgd",
        "rmsprop",
        "sigmoid",
        "augment",
        "epochs-20-augment",
        "cnn",
    )
    by_name = {e.name: e for e in EXERCISES}
    model, train = exercise_configs(by_name["two-layers"], ModelConfig(), TrainConfig())
    assert model.hidden_layers == [512, 256] and train.epochs == 5
    model, train = exercise_configs(by_name["sgd"], ModelConfig(), TrainConfig(), max_epochs=2)
    assert train.optimizer.name == "sgd" and train.optimizer.learning_rate == 0.01
    assert train.epochs == 2 and model == ModelConfig()
    _, train = exercise_configs(by_name["epochs-20"], ModelConfig(), TrainConfig(), max_epochs=3)
    assert train.epochs == 3
    # augmentation rows keep the strengths of params.yaml and only turn it on
    params_train = TrainConfig.model_validate({"augment": {"shift": 0.2}})
    _, train = exercise_configs(by_name["epochs-20-augment"], ModelConfig(), params_train)
    assert (train.epochs, train.augment.enabled, train.augment.shift) == (20, True, 0.2)
    _, train = exercise_configs(by_name["epochs-20"], ModelConfig(), params_train)
    assert not train.augment.enabled
    model, _ = exercise_configs(by_name["cnn"], ModelConfig(), TrainConfig())
    assert (model.kind, model.hidden_layers, model.cnn.filters) == ("cnn", [128], [32, 64])


@pytest.mark.slow
def test_exercises_command_runs_tracked_and_writes_the_comparison(
    tmp_path, tiny_splits, capsys, monkeypatch
):
    elsewhere = ProjectPaths(tmp_path / "elsewhere")  # the cwd, with splits of its own
    elsewhere.processed_dir.mkdir(parents=True)
    save_splits({"train": tiny_splits["val"]}, elsewhere.processed_dir)
    monkeypatch.chdir(elsewhere.root)
    (tmp_path / "processed").mkdir()
    save_splits(tiny_splits, tmp_path / "processed")
    (tmp_path / "params.yaml").write_text(
        "model: {hidden_layers: [16]}\nmlflow: {experiment: ex}\n"
    )
    out = tmp_path / "out"
    code = main(
        [
            "--params",
            str(tmp_path / "params.yaml"),
            "exercises",
            "--only",
            "epochs-1",
            "--only",
            "sigmoid",
            "--max-epochs",
            "2",
            "--data",
            str(tmp_path / "processed"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "[1/2] epochs-1" in captured.err and "[2/2] sigmoid" in captured.err
    table = captured.out.splitlines()  # aligned: a table in a terminal, and valid Markdown
    assert len({len(line) for line in table}) == 1, captured.out
    assert len({tuple(i for i, c in enumerate(line) if c == "|") for line in table}) == 1
    assert [cell.strip() for cell in table[3].split("|")[1:5]] == [
        "sigmoid",
        "16",
        "sigmoid",
        "adam",
    ]
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    assert [row["exercise"] for row in rows] == ["epochs-1", "sigmoid"]
    assert [row["epochs"] for row in rows] == ["1", "2"]
    assert (out / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "comparison.md").read_text().count("\n") == 4

    client = MlflowClient()
    run = client.get_run(rows[1]["run_id"])
    assert run.info.run_name == "exercise-sigmoid" and run.data.tags["exercise"] == "sigmoid"
    assert run.data.params["model.activation"] == "sigmoid"
    assert run.data.tags["data.processed_sha256"] == processed_hash(tmp_path / "processed")
    assert run.data.metrics["test_accuracy"] == pytest.approx(
        float(rows[1]["test_accuracy"]), abs=1e-4
    )
    gap = run.data.metrics["accuracy"] - run.data.metrics["val_accuracy"]
    assert float(rows[1]["train_val_gap"]) == pytest.approx(gap, abs=1e-4)


def test_data_and_out_default_to_the_params_files_project(tmp_path, tiny_splits, monkeypatch):
    paths = ProjectPaths(tmp_path / "project")
    paths.processed_dir.mkdir(parents=True)
    save_splits(tiny_splits, paths.processed_dir)
    paths.params_file.write_text("model: {hidden_layers: [8]}\nmlflow: {experiment: ex}\n")
    monkeypatch.chdir(tmp_path)  # not the project: the defaults follow --params
    argv = ["--params", str(paths.params_file), "exercises", "--only", "epochs-1"]
    assert main(argv) == 0
    rows = list(csv.DictReader((paths.exercises_dir / "comparison.csv").open()))
    assert [row["exercise"] for row in rows] == ["epochs-1"]
    run = MlflowClient().get_run(rows[0]["run_id"])
    assert run.data.tags["data.processed_sha256"] == processed_hash(paths.processed_dir)


def test_unknown_exercise_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["exercises", "--only", "dropout"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'dropout'" in capsys.readouterr().err


NOISE = (b"oneDNN", b"absl::InitializeLog", b"node_def_util", b"\x1b[", b"WARNING mlflow")


@pytest.mark.slow
def test_exercises_are_quiet_by_default_and_verbose_brings_everything_back(tmp_path, tiny_splits):
    """No TensorFlow native lines, colour codes or MLflow warnings unless --verbose."""
    (tmp_path / "processed").mkdir()
    save_splits(tiny_splits, tmp_path / "processed")
    (tmp_path / "params.yaml").write_text("model: {hidden_layers: [16]}\n")
    command = [sys.executable, "-m", "mnist_mlops.cli.main", "--params", "params.yaml"]
    exercise = ["exercises", "--only", "augment", "--max-epochs", "1", "--data", "processed"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/m.db"}
    env.pop("MNIST_MLOPS_VERBOSE", None)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    quiet = subprocess.run(
        [*command, *exercise], cwd=tmp_path, env=env, capture_output=True, timeout=300
    )
    assert quiet.returncode == 0, quiet.stderr.decode()
    output = quiet.stdout + quiet.stderr
    assert [noise for noise in NOISE if noise in output] == [], output.decode()
    assert b"| augment" in quiet.stdout
    loud = subprocess.run(
        [*command, "--verbose", *exercise], cwd=tmp_path, env=env, capture_output=True, timeout=300
    )
    assert loud.returncode == 0, loud.stderr.decode()
    assert b"oneDNN" in loud.stderr or b"absl::InitializeLog" in loud.stderr, loud.stderr.decode()
