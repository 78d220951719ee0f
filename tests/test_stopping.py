"""Stop handling of long-running processes, with real processes and real signals."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from mnist_mlops.processes import process_started, running_processes
from mnist_mlops.stopping import Stopped, exit_code

STOP_S = 10  # what the project promises: a stopped process is gone within 10 s


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def wait_for_line(process: subprocess.Popen, expected: str) -> None:
    line = process.stdout.readline()
    assert line.strip() == expected, line


def gone_within(pid: int, started: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while process_started(pid) == started:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


CLEANS_UP = """
    import sys, time
    from mnist_mlops import stopping
    stopping.install(grace_s={grace})
    try:
        print("ready", flush=True)  # (inside: the test's signal may come right after it)
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt as stop:
        print("cleanup", stop, flush=True)
        {after}
        sys.exit(stopping.exit_code(stop))
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_runs_the_cleanup_and_exits_with_128_plus_the_signal(signum, code):
    process = subprocess.Popen(
        python(CLEANS_UP.format(grace=8, after="pass")), stdout=subprocess.PIPE, text=True
    )
    wait_for_line(process, "ready")
    process.send_signal(signum)
    out, _ = process.communicate(timeout=STOP_S)
    assert process.returncode == code
    assert out.startswith(f"cleanup stopped by {signal.Signals(signum).name}")


def test_a_cleanup_that_hangs_is_cut_short_after_the_grace_period():
    hangs = "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    code = CLEANS_UP.format(grace=1, after=f"import signal; {hangs}")
    process = subprocess.Popen(python(code), stdout=subprocess.PIPE, text=True)
    wait_for_line(process, "ready")
    process.terminate()
    process.communicate(timeout=STOP_S)
    assert process.returncode == 143


CHILD = textwrap.dedent(CLEANS_UP.format(grace=8, after="pass"))


@pytest.mark.parametrize("between", [(), ("/bin/sh", "-c")], ids=["child", "through-sh"])
def test_a_process_whose_parent_dies_stops_itself(between):
    # through-sh: as DVC runs a stage with SHELL=/bin/sh (dash stays between, it does not exec)
    parent = subprocess.Popen(
        python(
            f"""
            import shlex, subprocess, sys, time
            command = [sys.executable, "-c", {CHILD!r}]
            between = {list(between)!r}
            if between:
                command = [*between, shlex.join(command)]
            child = subprocess.Popen(command, stdout=subprocess.PIPE)
            child.stdout.readline()  # ready: it watches its parent
            print(child.pid, flush=True)
            time.sleep(600)
            """
        ),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    child_pid = int(parent.stdout.readline())
    stage = running_processes(parent=child_pid) if between else [child_pid]
    assert len(stage) == 1, "the shell should stay in between"
    watched = {pid: process_started(pid) for pid in (child_pid, *stage)}
    parent.kill()  # as a SIGKILL of `dvc repro` under a running stage
    parent.wait()
    try:
        assert all(gone_within(pid, started, STOP_S) for pid, started in watched.items())
    finally:
        for pid, started in watched.items():
            if process_started(pid) == started:
                os.kill(pid, signal.SIGKILL)


def test_exit_code_reads_the_signal_of_any_stop():
    class TerminationSignal(BaseException):  # Prefect's, which has a ``signal`` attribute
        signal = signal.SIGTERM

    assert exit_code(Stopped(signal.SIGHUP)) == 129
    assert exit_code(TerminationSignal()) == 143
    assert exit_code(KeyboardInterrupt()) == 130


def test_a_stopped_process_stops_its_children_and_exits_at_once():
    code = """
        import subprocess, sys, time
        from mnist_mlops import stopping
        stopping.install()
        try:  # (the test's signal may come right after the print)
            server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            print(server.pid, flush=True)
            while True:
                time.sleep(0.05)
        except KeyboardInterrupt as stop:
            stopping.stop_children()
            stopping.exit_now(stopping.exit_code(stop))
    """
    process = subprocess.Popen(python(code), stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    started = process_started(child)
    process.terminate()
    process.communicate(timeout=STOP_S)
    try:
        assert process.returncode == 143
        assert started is not None and gone_within(child, started, 1.0)
    finally:
        if process_started(child) == started:
            os.kill(child, signal.SIGKILL)
