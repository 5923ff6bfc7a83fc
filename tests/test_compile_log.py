"""The undo-log helpers written as code into the calling function (helpers_numba: the
log of a C-contiguous array, an element given by integers, whole arrays): random
programs of logged writes and undos, compiled, give back every state the array had, as
the Python helpers do; the log grows as the overloads grew it; nothing leaks; and none
of them is compiled as a function of its own."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core import event
from numba.core.runtime import _nrt_python, rtsys

from adjit.runtime import helpers
from adjit.runtime.helpers import log_all, log_height, log_write, undo_log, undo_to, undo_write

# A program is rows (op, i, j, r): op 0 logs the element (i, j) and writes it, 1 logs the
# whole array (log_all, room omitted) and writes every element, 2 the same with room r,
# 3 undoes the last entry (undo_write), 4 undoes back to height r % (height + 1)
# (undo_to). `states[h]` is the array when the log last had height h (every write is
# logged): after an undo back to height h the array must be it again.


def _interpret_1d(a, program, values, states):
    log = undo_log(a)
    states[0] = a
    good = 0
    checks = 0
    for k in range(program.shape[0]):
        op, i, j, r = program[k, 0], program[k, 1], program[k, 2], program[k, 3]
        height = log_height(log)
        states[height] = a      # (every write is logged: the state at this height)
        if op == 0 or op == 1 or op == 2:
            if op == 0:
                log = log_write(log, a, i)
                a[i] = values[k]
            else:
                if op == 1:
                    log = log_all(log, a)
                else:
                    log = log_all(log, a, r)
                for p in range(a.shape[0]):
                    a[p] = values[(k + p) % values.shape[0]]
        elif height > 0:
            if op == 3:
                undo_write(log, a, i)
                back = height - 1
            else:
                back = r % (height + 1)
                undo_to(log, a, back)
            checks += 1
            if log_height(log) == back and np.all(a == states[back]):
                good += 1
    back = 0
    undo_to(log, a, back)
    checks += 1
    if log_height(log) == 0 and np.all(a == states[0]):
        good += 1
    return good, checks


def _interpret_2d(a, program, values, states):
    log = undo_log(a)
    states[0] = a
    good = 0
    checks = 0
    for k in range(program.shape[0]):
        op, i, j, r = program[k, 0], program[k, 1], program[k, 2], program[k, 3]
        height = log_height(log)
        states[height] = a      # (every write is logged: the state at this height)
        if op == 0 or op == 1 or op == 2:
            if op == 0:
                log = log_write(log, a, (i, j))
                a[i, j] = values[k]
            else:
                if op == 1:
                    log = log_all(log, a)
                else:
                    log = log_all(log, a, r)
                for p in range(a.shape[0]):
                    for q in range(a.shape[1]):
                        a[p, q] = values[(k + p * a.shape[1] + q) % values.shape[0]]
        elif height > 0:
            if op == 3:
                undo_write(log, a, (i, j))
                back = height - 1
            else:
                back = r % (height + 1)
                undo_to(log, a, back)
            checks += 1
            if log_height(log) == back and np.all(a == states[back]):
                good += 1
    undo_to(log, a, 0)
    checks += 1
    if log_height(log) == 0 and np.all(a == states[0]):
        good += 1
    return good, checks


_compiled_1d = numba.njit(_interpret_1d)
_compiled_2d = numba.njit(_interpret_2d)

_SHAPES = {1: (6,), 2: (3, 4)}
_CASES = [(np.float64, 1), (np.float64, 2), (np.float32, 2), (np.int64, 1), (np.bool_, 1)]


def _program(draw_ops, shape):
    """Rows (op, i, j, r) with in-range indices, negative ones counted from the end."""
    rows = []
    for op, i, j, r in draw_ops:
        rows.append((op, i % (2 * shape[0]) - shape[0],
                     (j % (2 * shape[-1]) - shape[-1]) if len(shape) == 2 else 0, r))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _run(dtype, ndim, ops, seed, compiled):
    shape = _SHAPES[ndim]
    rng = np.random.default_rng(seed)
    a = rng.integers(-9, 9, size=shape).astype(dtype)
    start = a.copy()
    program = _program(ops, shape)
    values = rng.integers(-9, 9, size=max(len(program), 1) + 7).astype(dtype)
    states = np.zeros((len(program) + 1,) + shape, dtype=dtype)
    run = {(1, True): _compiled_1d, (2, True): _compiled_2d,
           (1, False): _interpret_1d, (2, False): _interpret_2d}[ndim, compiled]
    good, checks = run(a, program, values, states)
    return good, checks, a, start


_ops = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 99), st.integers(0, 99),
                          st.integers(0, 40)), max_size=60)


@pytest.mark.parametrize("dtype,ndim", _CASES, ids=[f"{d.__name__}-{n}d" for d, n in _CASES])
@settings(max_examples=40, deadline=None)
@given(ops=_ops, seed=st.integers(0, 2**16))
def test_random_programs_give_back_every_state(dtype, ndim, ops, seed):
    good, checks, a, start = _run(dtype, ndim, ops, seed, compiled=True)
    assert good == checks
    np.testing.assert_array_equal(a, start)
    # the Python helpers (a list of (index, copy)) agree on what came back
    p_good, p_checks, p_a, _ = _run(dtype, ndim, ops, seed, compiled=False)
    assert (p_good, p_checks) == (good, checks)
    np.testing.assert_array_equal(p_a, a)


def test_a_long_program_grows_the_log_many_times_and_leaks_nothing():
    rng = np.random.default_rng(7)
    ops = [(int(o), int(i), int(j), int(r)) for o, i, j, r in zip(
        rng.choice([0, 0, 0, 0, 1, 2, 4], 3000), rng.integers(0, 99, 3000),
        rng.integers(0, 99, 3000), rng.integers(0, 40, 3000))]
    _run(np.float64, 2, ops[:5], 1, compiled=True)        # compiled before counting
    was_on = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        before = rtsys.get_allocation_stats()
        good, checks, a, start = _run(np.float64, 2, ops, 3, compiled=True)
        after = rtsys.get_allocation_stats()
    finally:
        if not was_on:
            _nrt_python.memsys_disable_stats()
    assert checks > 100 and good == checks
    np.testing.assert_array_equal(a, start)
    # every array allocated while running (the log's, grown, and NumPy's) was freed
    assert after.alloc - before.alloc == after.free - before.free
    assert after.alloc - before.alloc > 10


@numba.njit
def _capacities(a, room, times):
    """The log's (entries, values) capacities after `times` log_all of `a` with `room`."""
    log = undo_log(a)
    for _ in range(times):
        log = log_all(log, a, room)
    return log[0].shape[0], log[1].shape[0], log_height(log)


@numba.njit
def _capacities_of_elements(a, times):
    log = undo_log(a)
    for k in range(times):
        log = log_write(log, a, k % a.shape[0])
    return log[0].shape[0], log[1].shape[0], log_height(log)


def test_log_grows_as_the_overloads_grew_it():
    # element writes: each array doubles and grows by one when full (16 -> 33 -> 67)
    assert _capacities_of_elements(np.zeros(5), 16) == (16, 16, 16)
    assert _capacities_of_elements(np.zeros(5), 17) == (33, 33, 17)
    assert _capacities_of_elements(np.zeros(5), 34) == (67, 67, 34)
    # whole arrays of 20: the first does not fit (16 values): room for `room` of them,
    # ahead = max(1, min(room, WHOLE_ROOM // 20)); entries grow only if 0 + ahead > 16
    a = np.zeros(20)
    assert _capacities(a, 1, 1) == (16, 2 * 16 + 20, 1)
    assert _capacities(a, 5, 1) == (16, 2 * 16 + 100, 1)
    assert _capacities(a, 30, 1) == (2 * 16 + 30, 2 * 16 + 600, 1)
    assert _capacities(a, -3, 1) == (16, 2 * 16 + 20, 1)
    # six fit in 132 values; the seventh grows it again by room * 20
    assert _capacities(a, 5, 6) == (16, 132, 6)
    assert _capacities(a, 5, 7) == (16, 2 * 132 + 100, 7)
    # WHOLE_ROOM caps how many are made room for: 2**21 booleans, 32 at most
    big = np.zeros(2**21, dtype=np.bool_)
    ahead = helpers.WHOLE_ROOM // 2**21
    assert ahead == 32
    assert _capacities(big, 1000, 1) == (2 * 16 + ahead, 2 * 16 + ahead * 2**21, 1)


def test_no_log_helper_is_compiled_on_its_own():
    """The C-contiguous cases are lowered into the caller: compiling a function that
    uses every helper compiles no function of helpers_numba's."""
    compiled = []

    class Listener(event.Listener):
        def on_start(self, ev):
            fn = getattr(ev.data["dispatcher"], "py_func", None)
            compiled.append(getattr(fn, "__module__", "") or "")

        def on_end(self, ev):
            pass

    @numba.njit
    def uses_all(a, b):
        log = undo_log(a)
        log = log_write(log, a, 2)
        a[2] = 1.0
        h = log_height(log)
        log = log_all(log, a, 3)
        log = log_all(log, a)
        undo_write(log, a, 1)
        undo_to(log, a, h)
        log2 = undo_log(b)
        log2 = log_write(log2, b, (1, -1))
        undo_to(log2, b, 0)
        return log_height(log) + log_height(log2)

    listener = Listener()
    with event.install_listener("numba:compile", listener):
        a = np.arange(6.0)
        b = np.arange(6.0).reshape(2, 3)
        assert uses_all(a, b) == 1
    np.testing.assert_array_equal(a, [0.0, 1.0, 1.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(b, np.arange(6.0).reshape(2, 3))
    assert not [m for m in compiled if m.endswith("helpers_numba")]
