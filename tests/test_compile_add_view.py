"""`add_at(array, index, value)` into a region (slices, maybe with integers), written as
code into the calling function (helpers_numba._add_view_code) instead of the overload's
`add_view` compiled on its own: the same array as NumPy's `array[index] += value`, bit
for bit, over 1-D/2-D/3-D arrays of C, F and non-contiguous layouts, float64/float32/
int64, number and array values (broadcast too); the array returned is the one given;
nothing leaks; no function of helpers_numba's is compiled."""

import numba
import numpy as np
import pytest
from numba.core import event
from numba.core.runtime import _nrt_python, rtsys

from adjit.runtime.helpers import add_at


@numba.njit
def _add(array, index, value):
    return add_at(array, index, value)


@numba.njit
def _add_twice_literal(array, value):
    # indices written in the code, as generated adjoints write them
    add_at(array, (slice(1, None), 0), value)
    return add_at(array, (slice(None, -1), slice(None, None, 2)), value)


def _layouts(shape, dtype, rng):
    """The same values as a C array, an F array and a strided (non-contiguous) view."""
    base = rng.standard_normal(shape) * 10
    if np.dtype(dtype).kind == "i":
        base = np.round(base)
    c = np.ascontiguousarray(base.astype(dtype))
    f = np.asfortranarray(c)
    big = np.zeros(tuple(2 * n for n in shape), dtype)
    strided = big[tuple(slice(None, None, 2) for _ in shape)]
    strided[...] = c
    return [c, f, strided]


def _fresh(array):
    """A copy of `array` with its layout (a strided view stays a strided view)."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return array.copy(order="K")
    big = np.zeros(tuple(2 * n for n in array.shape), array.dtype)
    view = big[tuple(slice(None, None, 2) for _ in array.shape)]
    view[...] = array
    return view


def _value(view_shape, kind, dtype, rng):
    if kind == "number":
        return dtype(3) if np.dtype(dtype).kind == "i" else dtype(rng.standard_normal())
    if kind == "int":
        return 2
    shape = view_shape if kind == "same" else view_shape[-1:]       # "row": broadcast
    v = rng.standard_normal(shape) * 5
    return np.round(v).astype(dtype) if np.dtype(dtype).kind == "i" else v.astype(dtype)


CASES = [
    ((7,), slice(1, 5)),
    ((7,), slice(None, None, -2)),
    ((5, 4), (slice(1, 4), slice(None))),
    ((5, 4), (slice(None), 2)),
    ((5, 4), (3, slice(1, None))),
    ((5, 4), (slice(None, None, 2), slice(1, -1))),
    ((5, 4), slice(2, 5)),
    ((3, 4, 5), (slice(None), 1, slice(None, None, 2))),
    ((3, 4, 5), (slice(1, 3), slice(None), slice(None, 2))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape, index", CASES)
def test_add_into_region_as_numpy(shape, index, dtype):
    rng = np.random.default_rng(len(shape) * 100 + hash(str(index)) % 97)
    for array in _layouts(shape, dtype, rng):
        view_shape = array[index].shape
        kinds = ["number", "same", "row"] + (["int"] if dtype != np.int64 else [])
        for kind in kinds:
            if kind == "row" and not view_shape:
                continue
            value = _value(view_shape, kind, dtype, rng)
            expected = array.copy()
            expected[index] += value
            got = _fresh(array)
            out = _add(got, index, value)
            assert out.ctypes.data == got.ctypes.data and out.strides == got.strides
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected, strict=True)


def test_literal_indices():
    for dtype in (np.float64, np.float32):
        a = np.arange(20, dtype=dtype).reshape(5, 4)
        expected = a.copy()
        expected[1:, 0] += dtype(0.25)
        expected[:-1, ::2] += dtype(0.25)
        _add_twice_literal(a, dtype(0.25))
        np.testing.assert_array_equal(a, expected, strict=True)


def test_nothing_leaks():
    a = np.zeros((6, 5))
    v = np.ones((3, 5))
    _add(a, (slice(1, 4), slice(None)), v)     # compiled before counting
    was_on = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        before = rtsys.get_allocation_stats()
        for _ in range(50):
            _add(a, (slice(1, 4), slice(None)), v)
        after = rtsys.get_allocation_stats()
    finally:
        if not was_on:
            _nrt_python.memsys_disable_stats()
    assert after.alloc - before.alloc == after.free - before.free
    assert after.mi_alloc - before.mi_alloc == after.mi_free - before.mi_free
    np.testing.assert_array_equal(a[1:4], np.full((3, 5), 51.0))
    assert not a[0].any() and not a[4:].any()


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
    def uses(a, v):
        add_at(a, (slice(0, 2), slice(None)), v)
        return add_at(a, (1, slice(1, None)), 1.5)

    with event.install_listener("numba:compile", Listener()):
        a = np.zeros((3, 4))
        uses(a, np.ones((2, 4)))
    expected = np.zeros((3, 4))
    expected[:2] += 1.0
    expected[1, 1:] += 1.5
    np.testing.assert_array_equal(a, expected)
    assert compiled and not [c for c in compiled if c.endswith("helpers_numba")], compiled


def test_int_array_plus_float_still_refused():
    """NumPy refuses int64 += float64 (same_kind casting); so does Numba's typing, through
    the overload as before (not the code written into the caller)."""
    with pytest.raises(Exception):
        _add(np.zeros((4, 3), np.int64), (slice(1, 3), 0), 1.5)
