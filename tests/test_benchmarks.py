"""The benchmark workloads (benchmarks/workloads/) are right before they are timed.

At each workload's tiny "test" size, the hand-written Numba adjoint, adjit's
gradient (jit=False, and compiled with jit=None) and every installed peer
(JAX, PyTorch, autograd: optional, skipped when not installed) must agree
with central finite differences of the plain Python function.

Compiling adjit's gradient of the array-heavy workloads costs several seconds
each, so by default the compiled (jit=None) check runs for the loop workloads,
which compile fast, plus one of the others, rotating by day; set
ADJIT_BENCH_TESTS=all to compile all of them. jit=False runs for all.
No timing is asserted.
"""
import functools
import os
import pathlib
import sys
import time
import warnings

import numpy as np
import pytest

import adjit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "benchmarks"))
from workloads import NAMES, load  # noqa: E402
from workloads._fd import as_tuple, disagreement, finite_differences, wrt_positions  # noqa: E402

RTOL = 1e-5
SLOW_TO_COMPILE = ("rosenbrock_vec", "logistic", "mlp", "heat", "lstm")
TODAYS_SLOW = SLOW_TO_COMPILE[int(time.time() // 86400) % len(SLOW_TO_COMPILE)]
COMPILE_ALL = os.environ.get("ADJIT_BENCH_TESTS") == "all"


@functools.lru_cache(maxsize=None)
def case(name):
    """The workload, its test-size arguments and finite differences there."""
    w = load(name)
    args = w.inputs("test")
    return w, args, finite_differences(w.f, args, wrt_positions(w))


def assert_agrees(got, want, what):
    err = disagreement(as_tuple(got), want)
    assert err <= RTOL, f"{what}: max relative error {err:.2e} against finite differences"


def adjit_grad(w, jit):
    # One name alone: adjit returns a 1-tuple wrt's gradient as a bare value.
    return adjit.grad(w.f, wrt=w.WRT[0] if len(w.WRT) == 1 else w.WRT, jit=jit)


def test_every_workload_is_listed_and_complete():
    assert len(NAMES) >= 8
    for name in NAMES:
        w = load(name)
        assert w.NAME == name
        for attr in ("f", "inputs", "primal", "hand_grad", "WRT", "LOOP",
                     "jax_grad", "torch_grad", "autograd_grad"):
            assert hasattr(w, attr), f"{name} has no {attr}"


@pytest.mark.parametrize("name", NAMES)
def test_hand_written_adjoint_and_primal(name):
    w, args, want = case(name)
    assert_agrees(w.hand_grad(*args), want, f"{name}: hand-written adjoint")
    assert np.isclose(w.primal(*args), w.f(*args), rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("name", NAMES)
def test_adjit_python(name):
    w, args, want = case(name)
    got = adjit_grad(w, jit=False)(*args)
    assert_agrees((got,) if len(w.WRT) == 1 else got, want, f"{name}: adjit jit=False")


@pytest.mark.parametrize("name", NAMES)
def test_adjit_compiled(name):
    if name in SLOW_TO_COMPILE and name != TODAYS_SLOW and not COMPILE_ALL:
        pytest.skip(f"slow to compile: today only {TODAYS_SLOW} is compiled "
                    "(ADJIT_BENCH_TESTS=all for every one)")
    w, args, want = case(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a fallback to Python fails the test
        got = adjit_grad(w, jit=None)(*args)
    assert_agrees((got,) if len(w.WRT) == 1 else got, want, f"{name}: adjit jit=None")


@pytest.mark.parametrize("peer", ("jax", "torch", "autograd"))
@pytest.mark.parametrize("name", NAMES)
def test_peer(name, peer):
    pytest.importorskip(peer)
    w, args, want = case(name)
    assert_agrees(getattr(w, f"{peer}_grad")(args)(), want, f"{name}: {peer}")


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(load(n), "shrink")])
def test_shrink_shortens_the_loop(name):
    """A peer timed on shrink(args, k) computes the same workload k times shorter."""
    w = load(name)
    args = w.inputs("quick")
    short = w.shrink(args, 10)
    assert len(short) == len(args)
    assert [a for a in short if isinstance(a, int)] == [a // 10 for a in args if isinstance(a, int)]
