import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.processed import Split, load_splits, processed_hash, save_splits
from mnist_mlops.cli.main import main
from mnist_mlops.config.params import load_params
from mnist_mlops.tracking.provenance import PROCESSED_HASH_TAG
from mnist_mlops.tuning.outputs import pipeline_study_name
from mnist_mlops.tuning.storage import open_storage
from tests.helpers.tuning import tiny_params_dict, tiny_trial

CLI = str(Path(sys.executable).with_name("mnist-mlops"))


@pytest.mark.slow
def test_tune_then_study_show(project, capsys):
    assert main(["tune", "--n-trials", "1", "--study", "cli", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "study cli in" in out and '"finished": 1' in out and "best trial" in out
    assert main(["study", "show", "--study", "cli", "--top", "5"]) == 0
    shown = capsys.readouterr().out
    assert "best trial" in shown
    header = next(line for line in shown.splitlines() if line.startswith("trial "))
    assert header.split()[:3] == ["trial", "val_accuracy", "seconds"]
    assert "activation" in header and "neurons_1" in header


def test_default_study_is_the_pipelines_and_unknown_names_list_the_known(project, paths, capsys):
    params = load_params(paths.params_file)
    name = pipeline_study_name(params.tune, params.model, params.train, paths.processed_dir)
    assert main(["tune", "--n-trials", "0", "--no-progress"]) == 0  # creates the study
    assert f"study {name} in" in capsys.readouterr().out
    assert main(["study", "show"]) == 0
    assert f"study {name} in" in capsys.readouterr().out
    assert main(["study", "show", "--study", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no study 'nope'" in err and f"studies there: {name}" in err


def test_bad_space_in_params_exits_2_with_the_key(project, paths, capsys):
    bad = tiny_params_dict()
    bad["tune"]["space"] = {"optimizer": ["adam", "lbfgs"]}
    paths.params_file.write_text(yaml.safe_dump(bad))
    assert main(["tune", "--no-progress"]) == 2
    assert "tune.space.optimizer" in capsys.readouterr().err


def test_tune_without_processed_data_is_a_clear_error(project, paths, capsys):
    for path in paths.processed_dir.iterdir():
        path.unlink()
    assert main(["tune", "--no-progress"]) == 1
    assert "run the preprocess stage first" in capsys.readouterr().err


def test_tune_refuses_a_named_study_after_the_space_changed(project, paths, capsys):
    assert main(["tune", "--n-trials", "0", "--study", "mine", "--no-progress"]) == 0
    changed = tiny_params_dict(seed=8)
    paths.params_file.write_text(yaml.safe_dump(changed))
    assert main(["tune", "--n-trials", "0", "--study", "mine", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "study 'mine'" in err and "another tune.seed" in err and "delete-study" in err
    assert main(["tune", "--n-trials", "0", "--no-progress"]) == 0  # the pipeline's: a new name


def test_the_parent_run_is_tagged_with_the_data_given_by_data(project, paths, tmp_path, capsys):
    # other splits than the project's processed data (which the cwd holds too)
    other = tmp_path / "other-splits"
    other.mkdir()
    splits = load_splits(paths.processed_dir, ("train", "val"))
    save_splits({name: Split(s.x[:40], s.y[:40]) for name, s in splits.items()}, other)
    assert processed_hash(other) != processed_hash(paths.processed_dir)

    # a launch that starts no trial (its deadline is past) still records its parent run
    command = ["tune", "--n-trials", "1", "--timeout", "0.001", "--study", "x", "--data"]
    command += [str(other), "--no-progress"]
    assert main(command) == 0
    run_id = re.search(r"MLflow parent run: (\w+)", capsys.readouterr().out).group(1)
    tags = MlflowClient().get_run(run_id).data.tags
    assert tags[PROCESSED_HASH_TAG] == processed_hash(other)


def test_tune_on_a_finished_study_says_so_and_starts_no_worker(project, paths):
    assert main(["tune", "--n-trials", "0", "--study", "full", "--no-progress"]) == 0
    study = optuna.load_study(study_name="full", storage=open_storage(str(paths.optuna_journal)))
    study.add_trial(tiny_trial(0.5))
    study.add_trial(tiny_trial(0.6))
    command = [CLI, "tune", "--study", "full", "--n-trials", "2", "--workers", "2"]
    done = subprocess.run(
        [*command, "--no-progress"], capture_output=True, text=True, timeout=300, cwd=project
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "already holds 2 finished trials (--n-trials 2): nothing to run" in done.stdout
    assert "best trial 1: val_accuracy 0.6000" in done.stdout
    assert "worker-0" not in done.stderr and "worker-1" not in done.stderr  # none spawned
    assert "MLflow parent run" not in done.stdout  # nor a run that records nothing
