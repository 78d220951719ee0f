"""Dispatching a tuning worker: plain `mnist-mlops tune` vs a Prefect deployment and worker.

The same tiny job both ways, side by side in one run on this machine: a fresh study of
``--trials`` trials (1 epoch, one hidden layer of 16-32 neurons) on the embedded 5,000 digits,
a journal file per study, MLflow in a temporary SQLite store.

  (a) plain    ``mnist-mlops tune --workers 1 --n-trials K --study S --storage J`` started as
               a subprocess: what one runs on each extra machine (with a PostgreSQL storage);
  (b) Prefect  a temporary Prefect server (its own PREFECT_HOME, a free 127.0.0.1 port), a
               ``process`` work pool, a deployment of a ``tune-worker`` flow (a temporary
               module whose flow calls the same ``mnist-mlops tune`` entry point in-process,
               deployed with ``flow.from_source(<dir>, "tune_worker.py:tune_worker").deploy``),
               ``prefect worker start --pool P`` as a subprocess, then per job
               ``prefect deployment run tune-worker/bench --param study=S``.

Measured per job (median of ``--repeats``, fresh study each time, plain and Prefect alternating
after one untimed warm-up run): seconds from the start of the command (a) or of the run request
(b) to the first trial's start (the trial's ``datetime_start`` in the study) and to the end (the
process's exit (a), the flow run's Completed state (b)); for (b) also the flow run's Pending and
Running states (the server's state timestamps). Measured once: the Prefect server's cold start,
``work-pool create``, the deploy, the worker's start (until the server lists it), and the CPU an
idle worker (and the server it polls) takes over ``--idle-s`` seconds (utime + stime of each
process group, from /proc/<pid>/stat). The worker's poll interval is read from the settings in
effect for it (``PREFECT_WORKER_QUERY_SECONDS``; the default window of 30 s holds three polls and
one heartbeat). The (a) jobs run while the idle server and worker of (b) are up (what they
cost is measured apart). The setup steps per machine are counted from
the lists below (what each way needs on a machine that joins the study).
Every process started here is stopped at the end, also on failure.
Usage: python -m benchmarks.tune_dispatch [--trials K] [--repeats R] [--idle-s S]
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import yaml
from pipelines.prefect_server import free_port, healthy, stop_process_group
from tests.helpers.prefect import api, wait_for

BIN = Path(sys.executable).parent
POOL = "tune-pool"
DEPLOYMENT = "tune-worker/bench"
TINY_SPACE = {
    "epochs": 1,
    "n_layers": 1,
    "neurons": {"low": 16, "high": 32},
    "activation": "relu",
    "optimizer": "adam",
    "learning_rate": 0.001,
    "batch_size": 128,
    "dropout": 0.0,
    "augment": False,
    "kind": "mlp",
}
# What a machine that joins the study needs, each way (both need the shared PostgreSQL storage).
PLAIN_STEPS = (
    "the project installed (git clone + venv)",
    "the processed data (dvc pull)",
    "`mnist-mlops tune --storage postgresql://... --study S` (ends when the study is full)",
)
PREFECT_STEPS = (
    "the project installed (git clone + venv)",
    "the processed data, at the path the flow reads",
    "the flow's code at the deployment's source path (its pull step), or a git_clone pull step",
    "PREFECT_API_URL pointing at the shared Prefect server, reachable from the machine",
    "`prefect worker start --pool P`, kept running (a service)",
)
PREFECT_ONCE = (
    "a Prefect server reachable by every machine (with its database)",
    "`prefect work-pool create --type process P`",
    "deploy the tune-worker flow",
)
FLOW_MODULE = '''"""The tune-worker flow of benchmarks.tune_dispatch (generated)."""

from prefect import flow

from mnist_mlops.cli.main import main


@flow(name="tune-worker", persist_result=False)
def tune_worker(study: str, n_trials: int = {n_trials}, workers: int = 1) -> None:
    """Run `mnist-mlops tune` in this flow run's process until the study is full."""
    code = main(
        [
            "--params", {params!r}, "tune", "--study", study, "--n-trials", str(n_trials),
            "--workers", str(workers), "--storage", {storage_dir!r} + f"/{{study}}.journal",
            "--no-progress",
        ]
    )
    if code:
        raise RuntimeError(f"mnist-mlops tune exited with {{code}}")
'''
DEPLOY = (
    "from prefect import flow; "
    "flow.from_source(source={source!r}, entrypoint='tune_worker.py:tune_worker')"
    ".deploy(name='bench', work_pool_name={pool!r})"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def prepare(root: Path, trials: int) -> Path:
    """Write a tiny-space params.yaml and the processed mnist_5k splits; return params.yaml."""
    from mnist_mlops.config.params import load_params
    from mnist_mlops.data.download import download
    from mnist_mlops.data.preprocess import preprocess

    params_file = root / "params.yaml"
    params = {
        "data": {"source": "mnist_5k"},
        "tune": {"study": "bench", "n_trials": trials, "pruner": "none", "space": TINY_SPACE},
    }
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    params = load_params(params_file)
    download(params.data, root / "data" / "raw")
    preprocess(params.preprocess, root / "data" / "raw", root / "data" / "processed")
    return params_file


def base_env(root: Path) -> dict[str, str]:
    """This environment without any PREFECT_* setting, this venv first, a temporary MLflow."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    return env


def first_trial_start(root: Path, study: str) -> float:
    """Return the epoch time at which trial 0 of ``study`` (journal ``<study>.journal``) began."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(root / f"{study}.journal")))
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    started = min(t.datetime_start for t in trials if t.datetime_start is not None)
    return started.timestamp()  # a naive local datetime (Optuna's datetime.now())


def plain_job(root: Path, params_file: Path, study: str, trials: int, env: dict) -> dict:
    """Run (a) once; return seconds to the first trial and to the end."""
    command = [str(BIN / "mnist-mlops"), "--params", str(params_file), "tune", "--workers", "1"]
    command += ["--n-trials", str(trials), "--study", study, "--no-progress"]
    command += ["--storage", str(root / f"{study}.journal")]
    with open(root / "logs" / f"{study}.log", "wb") as log:
        start = time.time()
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait(timeout=600)
        finally:
            stop_process_group(process)
    done = time.time()
    if code:
        raise RuntimeError(f"{' '.join(command)} exited {code} (see {log.name})")
    return {"first": first_trial_start(root, study) - start, "done": done - start}


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system, reaped children included) of process group ``pgid`` so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[2]) == pgid:  # fields[0] is field 3 of proc(5): state; pgrp is field 5
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def group_rss_mb(pgid: int) -> float:
    """Resident memory (MiB) of the processes of group ``pgid``."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def descendants(pid: int) -> list[int]:
    """Return the ids of every living descendant of ``pid`` (flow runs may start new sessions)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


@contextmanager
def stopped_at_end() -> Iterator[list[subprocess.Popen]]:
    """Yield a list to put processes in (each in its own session); stop them all at the end."""
    processes: list[subprocess.Popen] = []
    try:
        yield processes
    finally:
        for process in reversed(processes):
            for pid in descendants(process.pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            stop_process_group(process)


def timed_run(command: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    """Run a one-shot command; return its seconds and output (fail with the output)."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{output[-3000:]}")
    return time.perf_counter() - start, output


def epoch(timestamp: str) -> float:
    """The epoch time of an ISO 8601 timestamp of the Prefect API."""
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def prefect_job(root: Path, api_url: str, study: str, env: dict) -> dict:
    """Run (b) once: request a flow run, wait for its end; return its timings."""
    start = time.time()
    request_s, output = timed_run(
        ["prefect", "deployment", "run", DEPLOYMENT, "--param", f"study={study}"], env, root
    )
    run_id = UUID.findall(output)[-1]
    deadline = time.monotonic() + 600
    while (state := api(api_url, f"/flow_runs/{run_id}")["state_type"]) not in TERMINAL:
        if time.monotonic() > deadline:
            raise RuntimeError(f"flow run {run_id} still {state} after 600 s")
        time.sleep(0.5)
    if state != "COMPLETED":
        raise RuntimeError(f"flow run {run_id} ended {state} (see {root / 'logs'})")
    states = api(api_url, "/flow_run_states/?flow_run_id=" + run_id)
    seen: dict[str, float] = {}
    for entry in sorted(states, key=lambda entry: entry["timestamp"]):
        seen.setdefault(entry["type"], epoch(entry["timestamp"]) - start)  # first of each type
    return {
        "request": request_s,
        "scheduled": seen["SCHEDULED"],
        "pending": seen["PENDING"],
        "running": seen["RUNNING"],
        "first": first_trial_start(root, study) - start,
        "done": seen["COMPLETED"],
    }


def start_prefect(
    root: Path, env: dict, processes: list, trials: int, idle_s: float
) -> tuple[str, dict]:
    """Start the server, create the pool, deploy, start a worker; measure each and idle CPU."""
    figures: dict[str, float] = {}
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env.update(PREFECT_API_URL=api_url)
    start = time.perf_counter()
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    with open(root / "logs" / "prefect-server.log", "ab") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env | {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"},
            start_new_session=True,
        )
    processes.append(server)
    deadline = time.monotonic() + 180
    while not healthy(api_url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Prefect server did not start (see {root / 'logs'})")
        time.sleep(0.2)
    figures["server"] = time.perf_counter() - start
    figures["pool"], _ = timed_run(
        ["prefect", "work-pool", "create", "--type", "process", POOL], env, root
    )
    flows = root / "flows"
    flows.mkdir()
    (flows / "tune_worker.py").write_text(
        FLOW_MODULE.format(n_trials=trials, params=str(root / "params.yaml"), storage_dir=str(root))
    )
    deploy = DEPLOY.format(source=str(flows), pool=POOL)
    figures["deploy"], _ = timed_run([sys.executable, "-c", deploy], env, root)
    start = time.perf_counter()
    with open(root / "logs" / "prefect-worker.log", "wb") as log:
        worker = subprocess.Popen(
            ["prefect", "worker", "start", "--pool", POOL, "--name", "bench-worker"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes.append(worker)

    def listed() -> bool:
        assert worker.poll() is None, f"the worker exited (see {root / 'logs'})"
        return bool(api(api_url, f"/work_pools/{POOL}/workers/filter", {}))

    wait_for(listed, 120, "the worker to appear in its pool")
    figures["worker"] = time.perf_counter() - start
    time.sleep(3)  # let it settle into its polling loop
    before = {pid: group_cpu_s(pid) for pid in (worker.pid, server.pid)}
    time.sleep(idle_s)
    after = {pid: group_cpu_s(pid) for pid in (worker.pid, server.pid)}
    figures["idle_worker"] = 100 * (after[worker.pid] - before[worker.pid]) / idle_s
    figures["idle_server"] = 100 * (after[server.pid] - before[server.pid]) / idle_s
    figures["worker_rss"] = group_rss_mb(worker.pid)
    figures["server_rss"] = group_rss_mb(server.pid)
    figures["worker_start_cpu"] = before[worker.pid]
    deployment = api(api_url, f"/deployments/name/{DEPLOYMENT}")
    figures["pull_steps"] = deployment.get("pull_steps")
    return api_url, figures


def worker_settings(env: dict, root: Path) -> tuple[float, float]:
    """The worker's query and prefetch seconds in effect in ``env``."""
    code = (
        "from prefect.settings import get_current_settings as s; "
        "print(s().worker.query_seconds, s().worker.prefetch_seconds)"
    )
    _, output = timed_run([sys.executable, "-c", code], env, root)
    query, prefetch = output.split()[-2:]
    return float(query), float(prefetch)


def format_job(job: dict) -> str:
    """One job's seconds, for the progress lines."""
    return ", ".join(f"{key} {value:.1f} s" for key, value in job.items())


def spread(values: list[float]) -> str:
    """``median (min-max)`` of ``values``."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def report(args, plain: list[dict], prefect: list[dict], figures: dict, settings) -> None:
    """Print the table and the breakdowns."""

    def median(jobs: list[dict], key: str) -> float:
        return statistics.median(job[key] for job in jobs)

    print(
        f"cores: {os.cpu_count()}, trials per job: {args.trials}, jobs per way: {args.repeats}, "
        f"load average at start {args.load[0]:.2f}, at end {os.getloadavg()[0]:.2f}"
    )
    print("| measure | (a) plain | (b) Prefect | (b)/(a) |")
    print("| --- | --- | --- | --- |")
    a_steps, b_steps = len(PLAIN_STEPS), len(PREFECT_STEPS)
    print(f"| setup steps per extra machine | {a_steps} | {b_steps} | {b_steps / a_steps:.2f} |")
    print(f"| one-time setup steps (besides PostgreSQL) | 0 | {len(PREFECT_ONCE)} | — |")
    for key, name in (("first", "s to first trial"), ("done", "s to done")):
        a = [job[key] for job in plain]
        b = [job[key] for job in prefect]
        ratio = median(prefect, key) / median(plain, key)
        print(f"| {name}, median (range) | {spread(a)} | {spread(b)} | {ratio:.2f} |")
    idle = figures["idle_worker"]
    print(f"| idle CPU between jobs (% of one core) | 0 (nothing runs) | {idle:.2f} | — |")
    print(f"| + the Prefect server, idle with one worker | 0 | {figures['idle_server']:.2f} | — |")
    print(f"| idle worker's memory (RSS MiB) | 0 | {figures['worker_rss']:.0f} | — |")
    print()
    print(
        f"(b) one-time, this machine: server cold start {figures['server']:.1f} s, "
        f"work-pool create {figures['pool']:.1f} s, deploy {figures['deploy']:.1f} s, "
        f"worker start (until listed) {figures['worker']:.1f} s "
        f"({figures['worker_start_cpu']:.1f} CPU s), server RSS {figures['server_rss']:.0f} MiB"
    )
    print(
        f"(b) worker poll: PREFECT_WORKER_QUERY_SECONDS = {settings[0]:g} s, "
        f"PREFECT_WORKER_PREFETCH_SECONDS = {settings[1]:g} s"
    )
    print(
        "(b) per job, from the run request, median (range): "
        f"`prefect deployment run` itself {spread([j['request'] for j in prefect])} s, "
        f"Pending (worker picked it up) {spread([j['pending'] for j in prefect])} s, "
        f"Running (flow run process up, flow loaded) {spread([j['running'] for j in prefect])} s"
    )
    waits = [job["pending"] - job["scheduled"] for job in prefect]
    print(
        f"(b) poll wait (flow run Scheduled -> Pending) {spread(waits)} s: the worker polls every "
        f"{settings[0]:g} s on average (random intervals of at most {1.3 * settings[0]:.0f} s), "
        "so a request waits from 0 to that"
    )
    print(
        "(b) Running -> first trial "
        f"{spread([j['first'] - j['running'] for j in prefect])} s against (a) start -> first "
        f"trial {spread([j['first'] for j in plain])} s"
    )
    print(f"(b) the deployment's pull steps: {figures['pull_steps']}")
    print("setup per extra machine, (a):")
    for step in PLAIN_STEPS:
        print(f"  - {step}")
    print("setup per extra machine, (b):")
    for step in PREFECT_STEPS:
        print(f"  - {step}")
    print(f"(b) once: {'; '.join(PREFECT_ONCE)}; then one `prefect deployment run` per worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2, help="trials per job (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="jobs per way (default 5)")
    parser.add_argument("--idle-s", type=float, default=30.0, help="idle CPU window (30 s)")
    args = parser.parse_args()
    args.load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tune-dispatch-") as tmp:
        root = Path(tmp)
        (root / "logs").mkdir()
        params_file = prepare(root, args.trials)
        env = base_env(root)
        prefect_env = env | {"PREFECT_HOME": str(root / "prefect-home")}
        prefect_env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        plain: list[dict] = []
        prefect: list[dict] = []
        try:
            plain_job(root, params_file, "warm-up", args.trials, env)  # MLflow store, disk caches
            with stopped_at_end() as processes:
                api_url, figures = start_prefect(
                    root, prefect_env, processes, args.trials, args.idle_s
                )
                settings = worker_settings(prefect_env, root)
                for index in range(args.repeats):
                    plain.append(plain_job(root, params_file, f"plain-{index}", args.trials, env))
                    print(f"  (a) job {index}: {format_job(plain[-1])}", flush=True)
                    prefect.append(prefect_job(root, api_url, f"prefect-{index}", prefect_env))
                    print(f"  (b) job {index}: {format_job(prefect[-1])}", flush=True)
        except Exception:
            for log in sorted((root / "logs").glob("*.log")):  # the folder goes with the error
                print(f"--- {log.name} (end) ---\n{log.read_text(errors='replace')[-3000:]}")
            raise
    report(args, plain, prefect, figures, settings)


if __name__ == "__main__":
    main()
