"""The examples run and print correct numbers (checked against exact answers)."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).parent.parent


def run(name):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rosenbrock_example():
    out = run("rosenbrock.py")
    difference = float(re.search(r"exact gradient: (\S+)", out).group(1))
    assert difference < 1e-12
    values = [float(v) for v in re.findall(r"f = (\S+)", out)]
    assert values == sorted(values, reverse=True) and values[-1] < 1e-3
    found = re.search(r"minimiser found: \[([^\]]+)\]", out).group(1)
    assert np.allclose([float(v) for v in found.split()], 1.0, atol=0.05)


def test_fit_oscillator_example():
    pytest.importorskip("scipy")        # the example's dependency: pip install ".[examples]"
    out = run("fit_oscillator.py")
    assert "converged: True" in out
    fitted = re.search(r"fitted A, k, w, phi: \[([^\]]+)\]", out).group(1)
    # The measurements are A=2, k=0.3, w=3, phi=0.5 plus noise of 0.05.
    assert np.allclose([float(v) for v in fitted.split()], [2.0, 0.3, 3.0, 0.5], atol=0.03)
    residual = float(re.search(r"residual: (\S+)", out).group(1))
    assert 0.04 < residual < 0.06
