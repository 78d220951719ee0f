import optuna
from pipelines.tune import tune_flow

from mnist_mlops.config import parse_params
from mnist_mlops.data.preprocess import save_splits
from mnist_mlops.io import read_json
from mnist_mlops.tuned import apply_best_params
from mnist_mlops.tuning.storage import open_storage
from tests.tuning.conftest import tiny_params_dict


def run_flow(tmp_path, params):
    return tune_flow(
        params.tune,
        params.model,
        params.train,
        params.mlflow,
        processed_dir=tmp_path / "processed",
        best_path=tmp_path / "tuning" / "best_params.json",
        metrics_path=tmp_path / "metrics" / "tune.json",
        return_state=True,
    )


def test_zero_trials_skips_tuning(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = run_flow(tmp_path, parse_params(tiny_params_dict(n_trials=0)))
    assert state.is_completed()
    assert read_json(tmp_path / "tuning" / "best_params.json") == {"skipped": True}
    assert read_json(tmp_path / "metrics" / "tune.json") == {"skipped": True}
    assert not (tmp_path / "optuna.journal").exists()


def test_flow_tunes_and_writes_best_params_and_metrics(
    prefect_harness, tmp_path, monkeypatch, tiny_splits
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "processed").mkdir()
    save_splits(tiny_splits, tmp_path / "processed")
    params = parse_params(tiny_params_dict(n_trials=2))
    assert run_flow(tmp_path, params).is_completed()
    best = read_json(tmp_path / "tuning" / "best_params.json")
    metrics = read_json(tmp_path / "metrics" / "tune.json")
    assert metrics["study"].startswith("tiny-") and metrics["finished"] == 2
    assert best["study"] == metrics["study"] and best["value"] == metrics["best_val_accuracy"]
    model, train = apply_best_params(params.model, params.train, best)
    assert train.epochs in (1, 2) and len(model.hidden_layers) == 1
    # the same params continue the same study; a changed space starts another one
    assert run_flow(tmp_path, params).is_completed()
    storage = open_storage(str(tmp_path / "optuna.journal"))
    assert len(optuna.load_study(study_name=metrics["study"], storage=storage).trials) == 2
    changed = parse_params(tiny_params_dict(n_trials=1, space={"epochs": 1}))
    assert run_flow(tmp_path, changed).is_completed()
    assert read_json(tmp_path / "metrics" / "tune.json")["study"] != metrics["study"]
