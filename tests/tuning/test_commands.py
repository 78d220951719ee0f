import yaml

from mnist_mlops.cli import main
from mnist_mlops.config import load_params
from mnist_mlops.tuning.outputs import pipeline_study_name
from tests.tuning.conftest import tiny_params_dict


def test_tune_then_study_show(project, capsys):
    assert main(["tune", "--n-trials", "2", "--study", "cli", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "study cli in" in out and '"finished": 2' in out and "best trial" in out
    assert main(["study", "show", "--study", "cli", "--top", "5"]) == 0
    shown = capsys.readouterr().out
    assert "best trial" in shown
    header = next(line for line in shown.splitlines() if line.startswith("trial "))
    assert header.split()[:3] == ["trial", "val_accuracy", "seconds"]
    assert "activation" in header and "neurons_1" in header


def test_default_study_is_the_pipelines_and_unknown_names_list_the_known(project, capsys):
    params = load_params("params.yaml")
    name = pipeline_study_name(params.tune, params.model, params.train, "data/processed")
    assert main(["tune", "--n-trials", "1", "--no-progress"]) == 0
    assert f"study {name} in" in capsys.readouterr().out
    assert main(["study", "show"]) == 0
    assert f"study {name} in" in capsys.readouterr().out
    assert main(["study", "show", "--study", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no study 'nope'" in err and f"studies there: {name}" in err


def test_bad_space_in_params_exits_2_with_the_key(project, capsys):
    bad = tiny_params_dict()
    bad["tune"]["space"] = {"optimizer": ["adam", "lbfgs"]}
    (project / "params.yaml").write_text(yaml.safe_dump(bad))
    assert main(["tune", "--no-progress"]) == 2
    assert "tune.space.optimizer" in capsys.readouterr().err


def test_tune_without_processed_data_is_a_clear_error(project, capsys):
    for path in (project / "data" / "processed").iterdir():
        path.unlink()
    assert main(["tune", "--no-progress"]) == 1
    assert "run the preprocess stage first" in capsys.readouterr().err


def test_tune_refuses_a_named_study_after_the_space_changed(project, capsys):
    assert main(["tune", "--n-trials", "0", "--study", "mine", "--no-progress"]) == 0
    changed = tiny_params_dict(seed=8)
    (project / "params.yaml").write_text(yaml.safe_dump(changed))
    assert main(["tune", "--n-trials", "0", "--study", "mine", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "study 'mine'" in err and "another tune.seed" in err and "delete-study" in err
    assert main(["tune", "--n-trials", "0", "--no-progress"]) == 0  # the pipeline's: a new name
