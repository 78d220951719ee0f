"""The README as a newcomer uses it: its commands, as written, in a new shell, and the summary.

Every command of the README's ``bash`` blocks runs in its own ``bash -c`` (a new shell: no
virtual environment on PATH, no MLflow variable) from a copy of the reproduced project, after
the quick start's activation line, and must exit 0. The quick start's own ``git clone`` and
``make repro`` are what the ``pipeline`` fixture did. A server command runs until it answers
``/ping`` (on a free port instead of the README's, which a parallel test may hold).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pipelines.prefect_server import free_port

from mnist_mlops.artifacts.metrics import (
    BaselinesMetrics,
    CourseComparison,
    EvaluateMetrics,
    RegisterSummary,
)
from mnist_mlops.artifacts.processed import ProcessedMeta
from mnist_mlops.cli.summary import summary_lines
from tests.helpers.workspace import REPO_ROOT, environment

pytestmark = pytest.mark.slow

README = REPO_ROOT / "README.md"
ACTIVATE = "source .venv/bin/activate"
DONE_BY_THE_FIXTURE = re.compile(r"^(git clone |make repro\s*(#|$))")
SERVER = re.compile(r"^(MLFLOW_TRACKING_URI=\S+ )?mlflow models serve ")
# TensorFlow's native lines and Keras' progress bars (MLflow's own coloured UserWarning about
# a pyfunc model without type hints still shows where the serving model is imported)
NOISE = ("oneDNN custom operations", "absl::InitializeLog", "node_def_util", "━━━")


def readme_commands() -> list[str]:
    """Every command line of the README's ``bash`` blocks (comments and blanks left out)."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            command = re.sub(r"\s+#[^'\"]*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def new_shell_environment(root: Path) -> dict[str, str]:
    """A login-like environment: no venv on PATH, no test store, no PYTHONPATH."""
    env = environment(root)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    for name in ("MLFLOW_TRACKING_URI", "PYTHONPATH", "VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    return env


def run_server(command: str, root: Path, env: dict[str, str]) -> str:
    """Start a server command, wait for ``/ping``, stop it; return what it printed."""
    port = free_port()
    command = re.sub(r"-p \d+", f"-p {port}", command)
    process = subprocess.Popen(
        ["bash", "-c", f"{ACTIVATE} && {command}"],
        cwd=root,
        env=env,
        stdout=(root.parent / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"{command} ended: {read(root.parent / 'server.log')}"
            assert time.monotonic() < deadline, f"{command} did not answer /ping in 120 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return read(root.parent / "server.log")


def read(path: Path) -> str:
    """A log's text."""
    return path.read_text(encoding="utf-8", errors="replace")


def test_the_readme_lists_the_everyday_commands():
    commands = readme_commands()
    assert ACTIVATE in commands
    for wanted in ("dvc metrics show", "dvc plots show", "mnist-mlops summary", "dvc exp run"):
        assert any(command.startswith(wanted) for command in commands), wanted
    assert all("--env-manager local" in c for c in commands if SERVER.search(c)), commands
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.timeout(2400)  # an experiment and a repro among them, on a loaded machine
def test_every_readme_command_works_as_written_in_a_new_shell(project_clone):
    root = project_clone
    (root / ".venv").symlink_to(REPO_ROOT / ".venv")  # what the quick start's make installed
    env = new_shell_environment(root)
    outputs = {}
    for command in readme_commands():
        if DONE_BY_THE_FIXTURE.match(command) or command == ACTIVATE:
            continue
        if SERVER.search(command):
            outputs[command] = run_server(command, root, env)
            continue
        # output to a file, not a pipe: a server a stage starts in the background (the
        # project's Prefect server) may hold the descriptors after the command ended
        log = root.parent / f"command-{len(outputs)}.log"
        with log.open("wb") as out:
            code = subprocess.run(
                ["bash", "-c", f"{ACTIVATE} && {command}"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=900,
            ).returncode
        outputs[command] = log.read_text(encoding="utf-8", errors="replace")
        assert code == 0, f"{command}: rc {code}\n{outputs[command][-3000:]}"
    assert len(outputs) >= 10, list(outputs)
    noisy = {c: n for c, text in outputs.items() for n in NOISE if n in text}
    assert noisy == {}, noisy
    widths = {
        len(line)
        for c, text in outputs.items()
        if "dvc exp show" in c
        for line in text.splitlines()
    }
    assert widths and max(widths) <= 160, widths  # the comparison after a 2-parameter experiment


def test_summary_names_the_data_the_champion_the_course_network_and_what_next(pipeline):
    lines = summary_lines(pipeline.paths, ui_port=5000, serve_port=5001)
    text = "\n".join(lines)
    counts = ProcessedMeta.load(pipeline.paths.processed_dir).counts
    assert lines[0].startswith("data      mnist_5k")
    assert f"{counts['train']:,} train" in lines[0] and f"{counts['test']:,} test" in lines[0]
    register = RegisterSummary.read(pipeline.paths.register_metrics)
    assert register.promoted and f"mnist-classifier v{register.version}: train · " in text
    assert f"test accuracy {register.challenger_accuracy:.2%}" in text
    baselines = BaselinesMetrics.read(pipeline.paths.baselines_record)
    for scores in (baselines.course, baselines.mlp, baselines.perceptron):
        assert f"{scores.test_accuracy:.2%}" in text
    assert "baseline-course" in text
    assert "dvc metrics show" in text and "make serve" in text
    assert "viewStateShareKey=comparison&workflowType=machine_learning" in text
    # this run's model against the course run on the same test images, with its uncertainty
    comparison = CourseComparison.read(pipeline.paths.comparison_record)
    evaluated = EvaluateMetrics.read(pipeline.paths.evaluate_metrics)
    assert comparison.test_images == counts["test"]
    assert comparison.trained_accuracy == pytest.approx(evaluated.test_accuracy, abs=1e-6)
    assert comparison.course_accuracy == pytest.approx(baselines.course.test_accuracy, abs=1e-6)
    assert comparison.margin_low <= comparison.margin <= comparison.margin_high
    margin = next(line for line in lines if line.startswith("margin    "))
    assert f"{100 * comparison.margin:+.2f} points" in margin and "McNemar p" in margin
    assert f"{comparison.test_images:,} test images" in margin
    assert len(lines) <= 9
