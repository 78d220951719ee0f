"""The Makefile's contract: an up-to-date .venv is not reinstalled; repro is dvc repro."""

import subprocess

from tests.helpers.workspace import REPO_ROOT


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_up_to_date_venv_is_not_reinstalled():
    # `make test` brought .venv up to date before pytest started: nothing is left to do.
    assert make("-q", "install").returncode == 0
    assert "uv pip sync" not in make("-n", "install").stdout


def test_repro_is_plain_dvc_repro():
    plan = make("-n", "repro").stdout
    assert ".venv/bin/dvc repro" in plan
    assert "uv pip sync" not in plan


def test_repro_ends_with_the_summary_on_the_ui_and_serve_ports():
    plan = make("-n", "repro", "UI_PORT=5050", "SERVE_PORT=5051").stdout.splitlines()
    at = next(i for i, line in enumerate(plan) if ".venv/bin/dvc repro" in line)
    assert "mnist-mlops summary --ui-port 5050 --serve-port 5051" in "\n".join(plan[at + 1 :])


def test_test_target_runs_pytest():
    assert "-m pytest" in make("-n", "test").stdout


def test_lint_runs_ruff_deptry_and_mypy():
    plan = make("-n", "lint").stdout
    for check in ("ruff check .", "ruff format --check .", "deptry src pipelines", '"mypy"'):
        assert check in plan
    assert "deptry" in next(line for line in make("help").stdout.splitlines() if "lint" in line)


def test_help_shows_the_real_defaults():
    text = make("help").stdout
    assert "$(" not in text
    assert "127.0.0.1:5000" in next(line for line in text.splitlines() if line.startswith("ui"))
    assert "127.0.0.1:5050" in make("help", "UI_PORT=5050").stdout


def test_ui_runs_one_worker_without_job_consumers():
    plan = make("-n", "ui").stdout
    assert "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false" in plan and "--workers 1" in plan
    assert "workflowType=machine_learning" in plan  # the link to the runs view
