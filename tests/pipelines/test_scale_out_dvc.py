"""docs/scaling-out.md, end to end: two clones (two machines) sharing real servers.

One PostgreSQL 15 (Debian) holds three databases: MLflow's tracking store, a shared Prefect
server's and the Optuna studies. Debian's OpenStack Swift (its S3 API) is the object store
of MLflow's artifacts and of the DVC remote. Clone ``a`` and clone ``b`` (another commit:
3 epochs) point at them with the variables docs/scaling-out.md names, then, in order:

1. ``dvc repro`` in both at once: stages, trials and models land in the one MLflow server,
   the flow runs in the one Prefect server (named and tagged with each clone's commit);
2. both re-register at once: the promotion lock serializes them (one champion, every model
   card naming the champion it really was compared with);
3. ``dvc push`` in ``a``; ``b`` checks out ``a``'s commit, ``dvc pull`` and ``dvc repro`` is a
   no-op;
4. ``mnist-mlops tune --workers 2`` in both at once on one PostgreSQL study: exactly the
   budget, unique trial numbers, one nested MLflow run per trial, the same best trial;
5. ``mnist-mlops serve`` serves the champion from the tracking server (artifacts from S3).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient
from pipelines.prefect_server import free_port

from mnist_mlops.artifacts.runs import BaselinesRunInfo, TrainedRunInfo, TuneRunInfo
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.registry.lock import lock_name
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR
from tests.helpers.mlflow_server import mlflow_server
from tests.helpers.object_store import S3Store, s3_server
from tests.helpers.pipeline import ALWAYS_RUN, TINY_PIPELINE, UNCACHED, stages_run, up_to_date
from tests.helpers.postgres import create_database, postgres_server
from tests.helpers.prefect import api
from tests.helpers.prefect_pg_server import prefect_server_on
from tests.helpers.servers import guarded_command, running_server
from tests.helpers.workspace import commit, copy_repository, run, run_at_once

# (the first test also sets up the two clones' simultaneous repro: more than the default 600 s)
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.s3, pytest.mark.timeout(1500)]

STAGES = tuple(yaml.safe_load((Path(__file__).parents[2] / "dvc.yaml").read_text())["stages"])
MODEL = "mnist-classifier"
EXPERIMENT = "mnist-mlops"
ARTIFACT_BUCKET, DVC_BUCKET = "mlflow-artifacts", "dvc-cache"
TUNE_STUDY, TUNE_TRIALS = "shared-study", 4


@dataclass(frozen=True)
class Servers:
    """The shared servers: what every clone's environment points at."""

    mlflow: str
    prefect: str
    optuna: str
    store: S3Store

    def environment(self) -> dict[str, str]:
        """The variables of docs/scaling-out.md (no S3 keys for MLflow: artifacts are proxied)."""
        return {
            "MLFLOW_TRACKING_URI": self.mlflow,
            "PREFECT_API_URL": self.prefect,
            "MNIST_MLOPS_OPTUNA_STORAGE": self.optuna,
        }


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("servers")
    with postgres_server() as postgres, s3_server(folder / "s3") as store:
        store.create_bucket(ARTIFACT_BUCKET)
        store.create_bucket(DVC_BUCKET)
        tracking = create_database(postgres, "mlflow")
        artifacts = f"s3://{ARTIFACT_BUCKET}/mlflow"
        with (
            mlflow_server(folder, tracking, artifacts, store.environment()) as mlflow_url,
            prefect_server_on(create_database(postgres, "prefect"), folder) as prefect_url,
        ):
            yield Servers(mlflow_url, prefect_url, create_database(postgres, "optuna"), store)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def add_remote(repo: Path, store: S3Store, *, local: bool) -> None:
    """docs/scaling-out.md's DVC remote commands (keys in ``.dvc/config.local``, never in git)."""
    if not local:
        run(repo, "dvc", "remote", "add", "-d", "shared", f"s3://{DVC_BUCKET}/store")
        run(repo, "dvc", "remote", "modify", "shared", "endpointurl", store.endpoint_url)
        run(repo, "dvc", "remote", "modify", "shared", "region", store.region)
        return
    run(repo, "dvc", "remote", "modify", "--local", "shared", "access_key_id", store.access_key)
    run(repo, "dvc", "remote", "modify", "--local", "shared", "secret_access_key", store.secret_key)


@dataclass(frozen=True)
class Clones:
    """The two clones after their simultaneous ``dvc repro``, and what each printed."""

    a: Path
    b: Path
    outputs: tuple[str, str]


@pytest.fixture(scope="module")
def clones(servers, tmp_path_factory) -> Clones:
    folder = tmp_path_factory.mktemp("clones")
    origin = copy_repository(folder / "origin", TINY_PIPELINE)
    add_remote(origin, servers.store, local=False)
    commit(origin, "the project, with a shared DVC remote")
    a, b = folder / "a", folder / "b"
    for clone in (a, b):
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
        add_remote(clone, servers.store, local=True)
    params = yaml.safe_load((b / "params.yaml").read_text())
    params["train"]["epochs"] = 3  # b is another commit: another model to register
    (b / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit(b, "3 epochs")
    repro = ("dvc", "repro")
    outputs = run_at_once([(a, repro), (b, repro)], **servers.environment())
    return Clones(a, b, (outputs[0], outputs[1]))


def own_runs(root: Path) -> set[str]:
    """The MLflow runs the clone's stages opened: train, tune's parent run, the baselines."""
    paths = ProjectPaths(root)
    return {
        TrainedRunInfo.read(paths.train_run).run_id,
        TuneRunInfo.read(paths.tune_runs).parent_run_id,
        *BaselinesRunInfo.read(paths.baselines_runs).run_ids.values(),
    }


def test_both_clones_record_their_stages_trials_and_models_in_one_server(clones, servers):
    for output in clones.outputs:
        assert all(f"Running stage '{stage}'" in output for stage in STAGES), output[-3000:]
    client = MlflowClient(servers.mlflow)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = {r.info.run_id: r for r in client.search_runs([experiment.experiment_id])}
    ours = {clone: own_runs(clone) for clone in (clones.a, clones.b)}
    assert not ours[clones.a] & ours[clones.b]
    for clone, run_ids in ours.items():
        head = git(clone, "rev-parse", "HEAD")
        assert {runs[i].data.tags["git.commit"] for i in run_ids} == {head}
        assert {runs[i].info.status for i in run_ids} == {"FINISHED"}
    # one study for both (the same space, params and data on one storage): its first
    # n_trials trials, run by the workers of either clone, nested under that clone's launch
    tunes = [TuneRunInfo.read(ProjectPaths(c).tune_runs) for c in (clones.a, clones.b)]
    assert tunes[0].study == tunes[1].study and tunes[0].trial_run_ids == tunes[1].trial_run_ids
    trials = set((tunes[0].trial_run_ids or {}).values())
    assert len(trials) == TINY_PIPELINE["tune"]["n_trials"]
    parents = {tune.parent_run_id for tune in tunes}
    assert {runs[i].data.tags["mlflow.parentRunId"] for i in trials} <= parents
    assert set(runs) == ours[clones.a] | ours[clones.b] | trials  # nothing else
    children = [r for r in runs.values() if r.data.tags.get("mlflow.parentRunId") in parents]
    assert sorted(r.info.run_id for r in children) == sorted(trials)  # each trial once

    versions = client.search_model_versions(f"name='{MODEL}'")
    trained = {TrainedRunInfo.read(ProjectPaths(c).train_run).run_id for c in (clones.a, clones.b)}
    assert {v.run_id for v in versions} == trained and len(versions) == 2
    # (search_model_versions leaves aliases out: the registered model has them)
    assert client.get_registered_model(MODEL).aliases[CHAMPION] in {v.version for v in versions}
    assert lock_name(MODEL) not in {m.name for m in client.search_registered_models()}

    keys = [
        item["Key"]
        for page in servers.store.client()
        .get_paginator("list_objects_v2")
        .paginate(Bucket=ARTIFACT_BUCKET)
        for item in page.get("Contents", [])
    ]
    assert sum(key.endswith("/network.onnx") for key in keys) == 2, keys  # in the object store


def test_flow_runs_of_both_clones_land_in_the_shared_prefect_server(clones, servers):
    flow_runs = api(servers.prefect, "/flow_runs/filter", {"limit": 200})
    assert len(flow_runs) == 2 * len(STAGES)
    for clone in (clones.a, clones.b):
        short = git(clone, "rev-parse", "--short=7", "HEAD")
        mine = [r for r in flow_runs if f"commit:{short}" in r["tags"]]
        assert sorted(r["name"].split(" · ")[0] for r in mine) == sorted(STAGES)
        for flow_run in mine:
            assert f"@{short}" in flow_run["name"]
            assert f"mlflow-experiment:{EXPERIMENT}" in flow_run["tags"]
            assert flow_run["state_type"] == "COMPLETED"


@pytest.fixture(scope="module")
def registered_at_once(clones, servers) -> tuple[str, list[str]]:
    """Both clones re-register at once; return the champion before and their outputs."""
    client = MlflowClient(servers.mlflow)
    before = client.get_model_version_by_alias(MODEL, CHAMPION).version
    register = ("dvc", "repro", "--force", "--single-item", "register")
    outputs = run_at_once([(clones.a, register), (clones.b, register)], **servers.environment())
    return str(before), outputs


def test_two_registers_at_once_take_turns_and_leave_one_truthful_champion(
    registered_at_once, servers
):
    champion_before, outputs = registered_at_once
    assert any(f"waiting for {lock_name(MODEL)}" in output for output in outputs), (
        "the two registers did not overlap"
    )
    client = MlflowClient(servers.mlflow)
    versions = sorted(client.search_model_versions(f"name='{MODEL}'"), key=lambda v: int(v.version))
    first, second = versions[-2:]  # (registered under the lock: numbered in turn order)
    assert first.tags["register.champion_version"] == champion_before
    promoted_first = first.tags["register.decision"] == CHAMPION
    after_first = first.version if promoted_first else champion_before
    # the second compared with the champion the first left, not the one both started with
    assert second.tags["register.champion_version"] == after_first
    assert f"v{after_first}" in second.description
    promoted_second = second.tags["register.decision"] == CHAMPION
    expected = second.version if promoted_second else after_first
    assert client.get_registered_model(MODEL).aliases[CHAMPION] == expected
    assert lock_name(MODEL) not in {m.name for m in client.search_registered_models()}


@pytest.fixture(scope="module")
def pulled(registered_at_once, clones, servers) -> str:
    """``a`` pushes; ``b`` checks out ``a``'s commit and pulls; return ``b``'s ``dvc repro``."""
    commit(clones.a, "reproduced and registered", *UNCACHED)
    run(clones.a, "dvc", "push", **servers.environment())
    git(clones.b, "fetch", "-q", str(clones.a), "HEAD")
    git(clones.b, "checkout", "-q", "--force", "FETCH_HEAD")
    run(clones.b, "dvc", "pull", **servers.environment())
    return run(clones.b, "dvc", "repro", **servers.environment())


def test_dvc_push_then_pull_in_the_other_clone_makes_repro_a_no_op(pulled, clones):
    assert stages_run(pulled) == ALWAYS_RUN, pulled[-3000:]
    assert up_to_date(run(clones.b, "dvc", "status", "--json"))
    for name in ("train_run", "register_run", "tune_runs"):  # a's outputs, from the remote
        path = getattr(ProjectPaths(clones.a), name)
        assert getattr(ProjectPaths(clones.b), name).read_bytes() == path.read_bytes()
    model_a = sorted(p for p in ProjectPaths(clones.a).trained_dir.rglob("*") if p.is_file())
    for file in model_a:
        twin = ProjectPaths(clones.b).trained_dir / file.relative_to(
            ProjectPaths(clones.a).trained_dir
        )
        assert twin.read_bytes() == file.read_bytes()


def test_two_clones_tune_one_postgresql_study_at_once(pulled, clones, servers):
    import optuna

    tune = (sys.executable, "-m", "mnist_mlops.cli", "tune", "--no-progress", "--workers", "2")
    tune += ("--study", TUNE_STUDY, "--n-trials", str(TUNE_TRIALS))
    outputs = run_at_once([(clones.a, tune), (clones.b, tune)], **servers.environment())

    study = optuna.load_study(study_name=TUNE_STUDY, storage=servers.optuna)
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state.is_finished() and t.state.name != "FAIL"]
    assert len(finished) == TUNE_TRIALS  # the total budget, not one trial more
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    for output in outputs:  # both report the best of the whole study
        assert f"best trial {study.best_trial.number}: " in output, output[-2000:]

    parents = [re.search(r"MLflow parent run: (\w+)", out).group(1) for out in outputs]
    client = MlflowClient(servers.mlflow)
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    children = [
        child
        for parent in parents
        for child in client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent}'")
    ]
    child_ids = [r.info.run_id for r in children]
    assert len(child_ids) == len(set(child_ids))
    assert sorted(child_ids) == sorted(t.user_attrs[RUN_ID_ATTR] for t in trials)


def test_serve_answers_with_the_champion_of_the_tracking_server(
    registered_at_once, servers, tmp_path, monkeypatch
):
    import mlflow.pyfunc

    monkeypatch.setenv("MLFLOW_TRACKING_URI", servers.mlflow)  # for the server process
    mlflow.set_tracking_uri(servers.mlflow)
    port = free_port()
    digits = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    with running_server(guarded_command(port), port, tmp_path / "serve.log") as url:
        request = urllib.request.Request(
            f"{url}/invocations",
            data=json.dumps({"inputs": digits.tolist()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            served = json.load(response)["predictions"]
    local = mlflow.pyfunc.load_model(f"models:/{MODEL}@{CHAMPION}").predict(digits)
    assert [row["digit"] for row in served] == local["digit"].tolist()
    probabilities = [[row[f"probability_{k}"] for k in range(10)] for row in served]
    assert np.allclose(probabilities, local.filter(like="probability_").to_numpy(), atol=1e-6)
