"""The tape examples run and print correct numbers.

Each example runs as a script (`python examples/NAME.py`, with this checkout's
adjit first on the path); what it prints is checked against values derived
here by exact formulas (derivatives worked out by hand, the closed-form
iterates of gradient descent on a quadratic, `np.linalg.lstsq`). The spirals
example's gradients are also compared here, compiled path against tape against
central finite differences.
"""

import ast
import functools
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import adjit

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


@functools.cache
def run(name):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, cwd=ROOT, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def printed(out, label):
    """The Python literal printed after `label:` on its line."""
    match = re.search(re.escape(label) + r":? (.+)$", out, re.MULTILINE)
    assert match, f"{label!r} not printed:\n{out}"
    return ast.literal_eval(match.group(1).strip())


def close(a, b, rtol=1e-9, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


# -- tf_basics.py ------------------------------------------------------------------------

def test_tf_basics_derivatives_of_polynomials():
    out = run("tf_basics.py")
    close(printed(out, "d/dx (x**2 - 3*x + 2) at x = 2"), 2 * 2 - 3)
    close(printed(out, "d/dx (x**3 + 2*x**2 + 1) at x = 4"), 3 * 4 ** 2 + 4 * 4)


def test_tf_basics_linear_model():
    out = run("tf_basics.py")
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w, b, t = np.array([[1.0], [2.0]]), 0.5, np.array([[1.0], [2.0], [3.0]])
    r = X @ w + b - t                          # loss = sum(r**2)
    close(printed(out, "linear model loss"), np.sum(r ** 2))
    close(printed(out, "linear model dloss/dw"), (2 * X.T @ r).ravel())
    close(printed(out, "linear model dloss/db"), 2 * np.sum(r))


def test_tf_basics_g_with_persistent_tape_sources_and_constants():
    out = run("tf_basics.py")
    x1, x2 = 2.0, 3.0                          # g = (x1 + 5) * x2**2
    for label in ("persistent tape", "list of sources", "watched constants"):
        line = re.search(re.escape(label) + r": dg/dx1 = (\S+) dg/dx2 = (\S+)", out)
        assert line, f"{label!r} not printed:\n{out}"
        close([float(line.group(1)), float(line.group(2))], [x2 ** 2, 2 * (x1 + 5) * x2])


def test_tf_basics_list_of_targets_and_second_derivatives():
    out = run("tf_basics.py")
    close(printed(out, "list of targets [3*x, x**2] at x = 5"), 3 + 2 * 5)
    hessian = printed(out, "second derivatives of g")
    x1, x2 = 2.0, 3.0
    # d(x2**2)/dx1 does not exist (None); d(x2**2)/dx2 = d(2 (x1 + 5) x2)/dx1 = 2 x2; 2 (x1 + 5).
    assert hessian[0][0] is None
    close([hessian[0][1], hessian[1][0], hessian[1][1]], [2 * x2, 2 * x2, 2 * (x1 + 5)])


def test_tf_basics_unconnected_and_tf_math_names():
    out = run("tf_basics.py")
    line = re.search(r"unconnected: default (\S+) ZERO (\S+)", out)
    assert line and line.group(1) == "None" and float(line.group(2)) == 0.0
    assert printed(out, "rows shape") == [2, 1]
    m = np.array([[1.0, -2.0], [3.0, 0.5]])
    # total = sum over rows of mean over columns of relu(m) * log(m + 3)
    expected = 0.5 * ((m > 0) * np.log(m + 3) + np.maximum(m, 0) / (m + 3))
    close(printed(out, "d total / dm"), expected.ravel())


# -- tf_gradient_descent.py -------------------------------------------------------------

def descent_iterate(x0, lr, steps):
    """x_{k+1} = x_k - lr (6 x_k + 2) has the fixed point -1/3 and ratio (1 - 6 lr)."""
    return -1 / 3 + (x0 + 1 / 3) * (1 - 6 * lr) ** steps


def test_tf_gradient_descent_by_assign_sub_and_keras_sgd():
    out = run("tf_gradient_descent.py")
    x = descent_iterate(2.0, 0.01, 100)
    line = re.search(r"assign_sub: x after 100 steps = (\S+), f\(x\) = (\S+)", out)
    assert line, out
    close(float(line.group(1)), x)
    close(float(line.group(2)), 3 * x ** 2 + 2 * x - 1)
    line = re.search(r"keras SGD: x after 100 steps = (\S+), iterations = (\d+)", out)
    assert line, out
    close(float(line.group(1)), x)
    assert int(line.group(2)) == 100


def test_tf_gradient_descent_linear_regression_matches_least_squares():
    out = run("tf_gradient_descent.py")
    rng = np.random.default_rng(0)                     # the example's data, made the same way
    features = rng.normal(size=(200, 3))
    labels = features @ np.array([[2.0], [-1.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(200, 1))
    A = np.hstack([features, np.ones((200, 1))])
    solution, *_ = np.linalg.lstsq(A, labels, rcond=None)
    close(printed(out, "linear regression w"), solution[:3].ravel(), rtol=1e-8, atol=1e-10)
    close(printed(out, "linear regression b"), solution[3], rtol=1e-8, atol=1e-10)
    best = np.mean((A @ solution - labels) ** 2)
    close(printed(out, "linear regression loss"), best, rtol=1e-8)
    losses = [float(v) for v in re.findall(r"linear regression epoch \d+: loss (\S+)", out)]
    assert len(losses) == 4 and losses == sorted(losses, reverse=True)


# -- spirals_mlp.py ----------------------------------------------------------------------

def test_spirals_training_reaches_high_accuracy_and_the_loss_falls():
    out = run("spirals_mlp.py")
    epochs = re.findall(r"epoch +(\d+)/(\d+) \[[#.]+\] loss (\S+) +accuracy (\S+)%", out)
    total = int(epochs[0][1])
    assert [int(e[0]) for e in epochs] == list(range(1, total + 1))
    losses = [float(e[2]) for e in epochs]
    accuracies = [float(e[3]) for e in epochs]
    assert losses[-1] < 0.25 * losses[0]
    # Mini-batch steps may raise the loss for an epoch, but not for long.
    assert all(min(losses[i:i + 5]) < losses[max(0, i - 5)] for i in range(5, total, 5))
    assert accuracies[-1] >= 95.0
    assert float(re.search(r"final accuracy: (\S+)%", out).group(1)) == accuracies[-1]
    timing = re.search(r"compiled (\S+) ms, tape (\S+) ms per gradient", out)
    assert timing and float(timing.group(1)) > 0 and float(timing.group(2)) > 0


@functools.cache
def spirals_module():
    spec = importlib.util.spec_from_file_location("spirals_mlp", EXAMPLES / "spirals_mlp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def central_differences(f, params, eps=1e-6):
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + eps
            up = f()
            p[i] = saved - eps
            down = f()
            p[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("jit", [None, False])
def test_spirals_gradients_compiled_tape_and_finite_differences_agree(jit):
    ex = spirals_module()
    X, labels = ex.two_spirals()
    targets = np.eye(2)[labels]
    params = list(ex.init_params())
    rng = np.random.default_rng(7)
    for p in params:                              # a point away from the initial zeros of b2
        p += 0.1 * rng.normal(size=p.shape)
    compiled = adjit.grad(ex.loss, wrt=("W1", "b1", "W2", "b2"), jit=jit)(*params, X, targets)
    taped = [np.asarray(g) for g in ex.tape_gradient(params, X, targets)]
    numeric = central_differences(lambda: ex.loss(*params, X, targets), params)
    for c, t, n, p in zip(compiled, taped, numeric, params):
        assert c.shape == t.shape == p.shape
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c, n, rtol=1e-5, atol=1e-7)
