"""The stages' stderr filter: TensorFlow's known native lines go, everything else stays."""

import subprocess
import sys

NOISE = (
    b"E0000 00:00:1796183338.888636    4922 node_def_util.cc:682] NodeDef mentions attribute "
    b"use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; ...>\n"
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796183330.686984    4922 port.cc:153] oneDNN custom operations are on.\n"
)
CHILD = f"import os; os.write(2, {NOISE!r} + b'child error\\n')"
SCRIPT = f"""
import os, subprocess, sys
from mnist_mlops.native_stderr import filter_native_stderr
filter_native_stderr()
os.write(2, {NOISE!r})
os.write(2, b"E0000 00:00:1.0 1 op_kernel.cc:1] a real TensorFlow error\\n")
subprocess.run([sys.executable, "-c", {CHILD!r}])
sys.stderr.write("progress\\r")
raise RuntimeError("the stage failed")
"""


def test_noise_is_dropped_and_real_errors_pass_through():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, timeout=60)
    err = result.stderr
    assert result.returncode == 1
    assert b"node_def_util" not in err and b"absl::InitializeLog" not in err
    assert b"oneDNN" not in err
    assert b"a real TensorFlow error" in err and b"child error" in err
    assert b"progress\r" in err
    assert b"RuntimeError: the stage failed" in err  # the traceback, written at exit
