"""`seed_like(result, cotangent)` of two arrays, written as code into the calling function
(helpers_numba._seed_array_code) instead of the loops `_seed_array_of` compiled on their
own: bit for bit `np.ones(result.shape) * cotangent` (float64, C order, their broadcast
shape) over ranks 1-3, broadcast on either side, C/F/strided operands, float64/float32/
int64/bool cotangents; shapes that do not broadcast raise; nothing leaks; no function of
helpers_numba's is compiled."""

import numba
import numpy as np
import pytest
from numba.core import event
from numba.core.runtime import _nrt_python, rtsys

from adjit.runtime.helpers import seed_like


@numba.njit
def _seed(result, cotangent):
    return seed_like(result, cotangent)


SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 1), (3, 4)),
          ((1, 4), (5, 1)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (2, 1, 4)), ((5,), (5,)),
          ((1,), (6,)), ((0, 3), (3,)), ((2, 3, 4), (4,))]


def _strided(a):
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    view = big[tuple(slice(None, None, 2) for _ in a.shape)]
    view[...] = a
    return view


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("rshape, cshape", SHAPES)
def test_seed_as_numpy(rshape, cshape, dtype):
    rng = np.random.default_rng(len(rshape) * 10 + len(cshape))
    for layout in ("C", "F", "strided"):
        c = rng.standard_normal(cshape) * 5
        c = (c > 0) if dtype == np.bool_ else c.astype(dtype)
        r = np.zeros(rshape)
        if layout == "F":
            c, r = np.asfortranarray(c), np.asfortranarray(r)
        elif layout == "strided":
            c, r = _strided(c), _strided(r)
        got = _seed(r, c)
        expected = np.ones(r.shape) * c
        assert got.dtype == np.float64 and got.flags.c_contiguous
        assert got.shape == expected.shape
        assert got.tobytes() == np.ascontiguousarray(expected).tobytes()


def test_shapes_that_do_not_broadcast_raise():
    with pytest.raises(ValueError, match="broadcast"):
        _seed(np.zeros((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="broadcast"):
        _seed(np.zeros((2, 3, 4)), np.ones((2, 4)))


def test_nothing_leaks():
    r, c = np.zeros((3, 4)), np.arange(4.0)
    _seed(r, c)
    was_on = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        before = rtsys.get_allocation_stats()
        for _ in range(5):
            got = _seed(r, c)
        del got
        after = rtsys.get_allocation_stats()
    finally:
        if not was_on:
            _nrt_python.memsys_disable_stats()
    assert after.alloc - before.alloc >= 5
    assert after.alloc - before.alloc == after.free - before.free


def test_no_helper_is_compiled_on_its_own():
    compiled = []

    class Listener(event.Listener):
        def on_start(self, ev):
            fn = getattr(ev.data["dispatcher"], "py_func", None)
            compiled.append(getattr(fn, "__qualname__", "") + "@" + (
                getattr(fn, "__module__", "") or ""))

        def on_end(self, ev):
            pass

    @numba.njit
    def uses(r, c):
        return seed_like(r[:, 1:], c)

    with event.install_listener("numba:compile", Listener()):
        got = uses(np.zeros((3, 5)), np.arange(4, dtype=np.int64))
    np.testing.assert_array_equal(got, np.ones((3, 4)) * np.arange(4))
    assert compiled and not [c for c in compiled if "helpers_numba" in c or c.startswith("seed@")], compiled
