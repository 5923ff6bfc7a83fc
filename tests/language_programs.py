"""Functions for tests/test_language.py: the language of SPEC "What a differentiable function may contain".

Plain module-level Python (adjit reads their source). The comment above each
function says what it exercises. tests/test_language.py lists the inputs,
the differentiated arguments and the reference gradients.
"""

import math

import numba
import numpy as np

import adjit
import language_helpers as LH
from language_helpers import smooth


def _custom_vjp_not_there_yet(func):
    # Stand-in while adjit has no custom_vjp, so that this module imports: the
    # cases using it are then differentiated through the primal and fail (xfail).
    func.defvjp = lambda rule: rule
    return func


custom_vjp = getattr(adjit, "custom_vjp", _custom_vjp_not_there_yet)
defvjp = getattr(adjit, "defvjp", lambda func, rule: None)


# ---------------------------------------------------------------- 1. loops and exits

# while with a data-dependent trip count and an `and` condition
def while_and(x):
    s = x
    k = 0
    while s < 6.0 and k < 30:
        s = s * 1.4 + 0.2 * x
        k += 1
    return s * x + k


# while whose condition uses `not`, `or` and `and`
def while_or_not(x, y):
    s = x
    t = y
    k = 0
    while not (s > 3.0) or (t < 2.0 and k < 40):
        s = s + 0.2 + 0.1 * np.sin(t)
        t = t * 1.3 + 0.1 * x
        k = k + 1
    return s * t + x


# `while True` left by `break`
def while_true_break(x):
    s = x
    while True:
        s = s * 1.25 + 0.1 * np.sin(x) + 0.05
        if s > 4.0:
            break
    return s * np.cos(x)


# while reading x[i] in its condition; `and` must short-circuit to keep i in range
def while_scan(x):
    i = 0
    s = 0.0
    while i < x.shape[0] and x[i] > 0.0:
        s = s + x[i] * x[i] * (i + 1)
        i += 1
    return s + i * x[0]


# `continue` inside a while loop
def while_continue(x):
    s = x
    k = 0
    while k < 8:
        k += 1
        if k % 3 == 0:
            continue
        s = s * 0.9 + np.sin(s) * x
    return s


# `break` in an inner loop leaves only the inner loop
def break_inner(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            s = s * 1.1 + 0.1
            if s > 2.0 + i:
                break
        s = s * 0.7
    return s


# `continue` in the outer loop and in the inner loop
def continue_nested(x, n):
    s = x
    for i in range(n):
        if i == 1:
            continue
        for j in range(n):
            if (i + j) % 3 == 0:
                continue
            s = s + np.sin(s * j) * 0.3
        s = s * 0.9
    return s


# `break` three loops deep under a data-dependent `if`
def break_deep(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            for k in range(n):
                s = s + 0.3 * np.cos(s + k)
                if np.sin(s * (k + 1)) > 0.5:
                    break
            s = s * 0.98
    return s


# `return` inside a loop, under a branch, and at the end
def return_in_loop(x, n):
    s = x
    for i in range(n):
        s = s * 1.3 + np.sin(s)
        if s > 3.0:
            return s * x
    return s - x


# `return` from an if arm before any loop, and from inside nested loops
def return_nested(x, y, n):
    if x < 0.0:
        return y * x * x
    s = y
    for i in range(n):
        for j in range(i):
            s = s + x * np.cos(s + j)
            if s > 2.5:
                return s * y
    return s + x


# `return` inside a while loop
def return_in_while(x):
    s = x
    while s < 100.0:
        s = s * s + 0.5
        if s > 2.0:
            return np.log(s) * x
    return s


# `for` over the elements of a 1-D array
def for_elements(x):
    s = 0.0
    for v in x:
        s = s * 0.8 + np.sin(v) * v
    return s


# `for` over the elements of a 1-D array, left by `break`
def for_elements_break(x):
    s = 0.0
    for v in x:
        if v < -0.5:
            break
        s = s * 0.9 + v * v
    return s


# `for` over the rows of a 2-D array (each row a 1-D array)
def for_rows(m, w):
    s = 0.0
    for row in m:
        s = s * 0.5 + np.sum(np.tanh(row * w))
    return s


# `range` with zero trips: empty, reversed bounds, and a negative step that never starts
def range_zero_trips(x, n):
    s = x * x
    for i in range(n, n):
        s = s * 100.0
    for i in range(5, 2):
        s = s * 100.0
    for i in range(0, n, -1):
        s = s * 100.0
    for i in range(n):
        s = s + np.sin(s) * 0.5
    return s


# `range` with negative steps (-1 down to 0, and -3)
def range_negative_step(x, n):
    s = x
    for i in range(n - 1, -1, -1):
        s = s * 0.9 + np.sin(s) * (i + 1) * 0.1
    for i in range(10, 0, -3):
        s = s + np.cos(s * i) * 0.05
    return s


# bounds from the outer loop variable: range(i), range(i, n, 2), range(i, 0, -1)
def range_outer_bound(x, n):
    s = x
    for i in range(n):
        for j in range(i):
            s = s + np.sin(s * j) * 0.2
        for k in range(i, n, 2):
            s = s * 0.95
        for m in range(i, 0, -1):
            s = s + 0.01 * m * s
    return s


# ---------------------------------------------------------------- 2. arrays written in place

# a[i] = v into a local np.zeros array, read afterwards
def setitem_loop(x):
    n = x.shape[0]
    a = np.zeros(n)
    for i in range(n):
        a[i] = x[i] * x[i] + np.sin(x[i])
    return np.sum(a * x)


# a[i] += v and a[i] -= v, several writes into the same element
def augassign_add_sub(x, y):
    a = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        a[i] += x[i] * y
        a[i] -= 0.5 * x[i] ** 3
        a[0] += x[i]
    return np.sum(a * a)


# a[i] *= v and a[i] /= v, and a[i] *= a[i]
def augassign_mul_div(x, y):
    a = np.ones(x.shape[0])
    for i in range(x.shape[0]):
        a[i] *= x[i] + 2.0
        a[i] /= y + x[i] * x[i]
        a[i] *= a[i]
    return np.sum(a)


# a[i, j] = v and a[i, j] += v in a 2-D array from np.zeros((n, n))
def setitem_2d(x):
    n = x.shape[0]
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            m[i, j] = x[i] * np.cos(x[j]) + i - j
            m[i, i] += x[j] * 0.1
    return np.sum(m @ x)


# slice writes: a[1:] *= 2 and a[::2] -= v
def slice_augmented(x):
    a = x.copy()
    a[1:] *= 2.0
    a[::2] -= x[0] * 0.5
    a[:2] += a[3:5]
    return np.sum(a * a * a)


# column and row writes: m[:, 0] = col, m[1, :] += row
def slice_column_assign(x, m):
    b = m.copy()
    b[:, 0] = x[1:4]
    b[1, :] += x[:3] * b[0, 0]
    return np.sum(b * b * b) + np.sum(b @ x[:3])


# negative indices, read and written
def negative_index(x):
    a = x.copy()
    a[-1] = a[-1] * a[0]
    a[-2] += a[-1]
    a[0] = a[-3] - 1.0
    return np.sum(a * np.sin(a))


# element swaps by tuple assignment (bubble sort): the gradient follows the permutation
def bubble_sort_swap(x, w):
    a = x.copy()
    n = a.shape[0]
    for i in range(n):
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
    return np.sum(a * w)


# element swaps through a temporary (reverse the array): t = a[i]; a[i] = a[j]; a[j] = t
def swap_temp(x, w):
    a = x.copy()
    n = a.shape[0]
    for i in range(n // 2):
        j = n - 1 - i
        t = a[i]
        a[i] = a[j]
        a[j] = t
    return np.sum(a * w) + a[0] * a[1]


# a[i] = a[i] * a[i] in a loop: each write overwrites a value the adjoint needs
def overwrite_square(x, n):
    a = x.copy()
    for k in range(n):
        for i in range(a.shape[0]):
            a[i] = a[i] * a[i] * 0.5 + np.sin(a[i])
    return np.sum(a)


# 1-D heat equation, explicit: each time step writes a fresh copy
def heat_explicit(u0, r, w, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        new = u.copy()
        for i in range(1, n - 1):
            new[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = new
    return np.sum(u * u * w)


# 1-D heat equation updated in place (u[i - 1] is already the new value), nonlinear source
def heat_in_place(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        for i in range(1, n - 1):
            u[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]) + 0.05 * u[i] * u[i]
    return np.sum(u * u)


# 1-D heat equation written with a slice assignment over time steps
def heat_slices(u0, r, steps):
    u = u0.copy()
    for t in range(steps):
        u[1:-1] = u[1:-1] + r * (u[:-2] - 2.0 * u[1:-1] + u[2:])
    return np.sum(np.sin(u) * u)


# loops that write an array but never read it (adjit logs the whole array once
# when a loop writes at least half of it, each element otherwise)

# the heat equation as the benchmark writes it: read a copy, write u
def heat_copy_old(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(1, n - 1):
            u[i] = old[i] + r * (old[i - 1] - 2.0 * old[i] + old[i + 1]) + 0.05 * old[i] ** 2
    return np.sum(u * u)


# an inner loop writes u without reading it; the outer body reads u after it
def write_then_read_outer(x, steps):
    n = x.shape[0]
    u = x.copy()
    s = 0.0
    for t in range(steps):
        for i in range(n):
            u[i] = np.sin(x[i] * (t + 1)) + s * 0.1
        s = s + u[0] * u[n - 1] + u[1]
    return s * np.sum(u)


# few writes into a long array (logged element by element), read between loops
def sparse_writes(x):
    a = np.zeros(20)
    s = 0.0
    for t in range(3):
        for j in range(2):
            a[2 * t + j] = x[t] * x[j] + s
        s = s + np.sum(a * a) * 0.1
    return s + np.sum(a)


# writes in both branches of an if, read only after the loop
def write_both_branches(x):
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        if x[i] > 0.0:
            y[i] = x[i] ** 2
        else:
            y[i] = -x[i] * 3.0
    return np.sum(y * x)


# rows written from a copy, time step after time step
def write_rows(m0, x, steps):
    m = m0.copy()
    for t in range(steps):
        old = m.copy()
        for i in range(m.shape[0]):
            m[i] = old[i] * x + np.sin(old[m.shape[0] - 1 - i])
    return np.sum(m * m)


# the array is read before a loop that only writes it, and after it
def read_before_write_only(x):
    n = x.shape[0]
    y = x * 2.0
    s = np.sum(y * y * x)
    for i in range(n):
        y[i] = x[i] ** 3
    return s + np.sum(y * y)


# an array written directly in a loop body and in a loop inside it
def write_direct_and_nested(x):
    n = x.shape[0]
    y = x * 1.5
    s = np.sum(np.sin(y))
    for t in range(2):
        y[0] = x[t] * s
        for i in range(1, n):
            y[i] = x[i] * (t + 1.0)
    return s + np.sum(y * x)


# a while loop that writes an array and never reads it
def write_while(x):
    n = x.shape[0]
    y = np.zeros(n)
    i = 0
    while i < n:
        y[i] = x[i] * x[i] * (i + 1)
        i = i + 1
    return np.sum(y * y)


# a loop that may break, writing an array it never reads, read after
def write_break(x, limit):
    n = x.shape[0]
    y = np.ones(n)
    for i in range(n):
        if x[i] > limit:
            break
        y[i] = np.exp(x[i])
    return np.sum(y * x)


# writes that kill a gradient: a[2] = 0.0 and a[3:5] = 1.0
def kill_gradient(x):
    a = x * 2.0
    a[2] = 0.0
    a[3:5] = 1.0
    return np.sum(a * a)


# local arrays from np.zeros, np.ones and np.empty (fully written before it is read)
def local_zeros_ones_empty(x):
    n = x.shape[0]
    z = np.zeros(n)
    o = np.ones(n)
    e = np.empty(n)
    for i in range(n):
        z[i] = x[i] * 2.0
        e[i] = np.sin(x[i])
        o[i] += z[i] * e[i]
    return np.sum(z * e) + np.sum(o * o) + np.sum(o * x)


# local arrays from np.zeros_like, np.ones_like and .copy()
def local_like_copy(x):
    zl = np.zeros_like(x)
    ol = np.ones_like(x)
    c = x.copy()
    for i in range(x.shape[0]):
        zl[i] = c[i] * c[i]
        ol[i] += x[i] * zl[i]
        c[i] = c[i] * 3.0
    return np.sum(zl) + np.sum(ol * c)


# an array result built in place (differentiated as the sum of its elements)
def array_result_in_place(x):
    a = np.zeros_like(x)
    for i in range(1, x.shape[0]):
        a[i] = a[i - 1] * 0.5 + x[i] * x[i - 1]
    return a


# a reassigned array argument (x = x * 2.0), then written into
def reassigned_array_argument(x):
    x = x * 2.0
    x[0] = x[1] * x[0]
    x = x + 1.0
    return np.sum(x * x)


# writes into the differentiated argument itself (the caller's array must not change)
def write_into_argument(x):
    x[0] = x[0] * x[1]
    x[1:] += x[0]
    for i in range(x.shape[0]):
        x[i] = np.sin(x[i])
    return np.sum(x * x)


# whole-array augmented assignment on arguments (x *= 2.0 is in place in NumPy)
def argument_augassign_whole(x, y):
    x *= 2.0
    x += y
    return np.sum(x * x * y)


# ---- writes through views and aliases: refused or right, never silently wrong

# a write through a slice view: b = a[1:]; b[0] = ... changes a[1]
def view_slice_write(x):
    a = x.copy()
    b = a[1:]
    b[0] = b[0] * 3.0
    return np.sum(a * a)


# a write through a plain alias: b = a; b[0] = ... changes a[0]
def alias_write(x):
    a = x * 1.0
    b = a
    b[0] = x[1] * x[2]
    return np.sum(a * x)


# a write into a row of a 2-D array, which is a view: r = a[0]; r[1] = ...
def row_view_write(m):
    a = m.copy()
    r = a[0]
    r[1] = r[1] * r[2]
    return np.sum(a * a)


# a row "swap" through a temporary that is a view (NumPy leaves two copies of row 1)
def row_swap_view(m):
    a = m.copy()
    t = a[0]
    a[0] = a[1]
    a[1] = t
    return np.sum(a * m)


# a write through a reshaped view: b = a.reshape(2, 3); b[0, 0] = ...
def reshape_view_write(x):
    a = x.copy()
    b = a.reshape(2, 3)
    b[0, 0] = b[1, 2] * b[0, 1]
    return np.sum(a * a)


# an in-place write through a view of the argument (b = x[::2]; b *= 2.0)
def argument_view_write(x):
    b = x[::2]
    b *= 2.0
    return np.sum(x * x)


# a helper that writes into the caller's local array and returns nothing
def call_mutating_helper(x):
    a = x.copy()
    LH.scale_first(a, 3.0)
    return np.sum(a * a)


# ---------------------------------------------------------------- 3. calls to user functions

# a helper in this module
def _cube_plus(a, b):
    return a * a * a + b


# calls a helper in this module, once with a constant argument
def call_local_helper(x, y):
    return _cube_plus(x, y) * _cube_plus(y, 0.5)


# helpers imported from another module, by name and through the module
def call_imported(x, y):
    return smooth(x) + LH.inner(x, y)


# the middle of call_chain
def _chain_middle(x, y):
    return LH.inner(x * 2.0, y) + np.sin(y) * x


# a chain of calls four deep: call_chain -> _chain_middle -> LH.inner -> LH.smooth
def call_chain(x, y):
    return _chain_middle(x, y) * x


# helpers called inside a loop (one with an early return), carrying a value
def call_in_loop(x, n):
    s = x
    for i in range(n):
        s = LH.step(s, x, i)
        s = LH.soft_clip(s * 1.5)
    return s


# a helper returning a tuple that the caller unpacks
def call_tuple_return(x, y):
    r, theta = LH.polar(x, y)
    return r * np.sin(theta) + theta * x


# LH.shared, differentiated from this function ...
def shared_user_a(x, n):
    return LH.shared(x * 2.0, n) + x


# ... and from this one too
def shared_user_b(x, y, n):
    return LH.shared(y, n) * LH.shared(x, n + 1)


# helpers taking and returning arrays
def call_array_helper(x, w):
    v = LH.normalize(x)
    return LH.weighted_norm(v * w, w) + np.sum(v * w)


# a helper with a default argument, called with and without a keyword
def call_keyword(x):
    return LH.scaled(x) + LH.scaled(x, k=3.0)


# adjit.custom_vjp: the rule (a clipped derivative, not 2 x) is what is used
@custom_vjp
def clipped_square(x):
    return x * x


@clipped_square.defvjp
def clipped_square_vjp(x, result, g):
    return g * 2.0 * min(max(x, -1.0), 1.0)


# calls the custom_vjp function inside a loop
def uses_clipped_square(x, n):
    s = 0.0
    for i in range(n):
        s = s + clipped_square(x * (i + 1) * 0.5)
    return s + np.sin(x)


# a custom_vjp function of two arguments whose rule returns (2 g, None)
@custom_vjp
def product_st(x, y):
    return x * y


@product_st.defvjp
def product_st_vjp(x, y, result, g):
    return g * 2.0, None


# calls product_st: its rule gives x the gradient 2 and y none
def uses_product_st(x, y):
    return product_st(x, y) + x * y


# a custom_vjp function on arrays: a straight-through floor
@custom_vjp
def ste_floor(v):
    return np.floor(v)


@ste_floor.defvjp
def ste_floor_vjp(v, result, g):
    return g


# calls ste_floor on an array: the gradient passes straight through
def uses_ste_floor(x, w):
    return np.sum(ste_floor(x * 3.0) * w) + np.sum(x * w)


# a Numba-compiled function adjit cannot read, given a rule by adjit.defvjp
@numba.njit
def nb_floor(x):
    return math.floor(x) * 1.0


def nb_floor_vjp(x, result, g):
    return g * 0.5


defvjp(nb_floor, nb_floor_vjp)


# calls the Numba function with the rule from adjit.defvjp
def uses_nb_floor(x):
    return nb_floor(x * 4.0) * x + x


# direct recursion (refused)
def recursive(x, n):
    if n == 0:
        return x
    return x * recursive(x, n - 1)


# mutual recursion, first half (refused)
def ping(x, n):
    if n <= 0:
        return x
    return pong(x * 2.0, n - 1)


# mutual recursion, second half
def pong(x, n):
    if n <= 0:
        return x
    return ping(x + 1.0, n - 1)


# calls into a mutual recursion (refused)
def calls_mutual_recursion(x):
    return ping(x, 3) * x


# ---------------------------------------------------------------- 4. attributes, methods, builtins

# x.shape, x.size, x.ndim and len(x) of a 2-D array, as bounds and factors
def shape_attributes(m):
    rows = m.shape[0]
    cols = m.shape[1]
    s = 0.0
    for i in range(len(m)):
        for j in range(cols):
            s = s + m[i, j] * (i + 1) / m.size
    return s * m.ndim + rows * np.sum(m)


# x.T, x.dot(y) and x.copy()
def transpose_dot_copy(m, v):
    c = m.copy()
    w = c.T.dot(v)
    return np.sum(w * w) + v.dot(v) + np.sum(m.T * m)


# x.sum(), x.mean(), x.max(), x.min() (also on a 2-D array)
def reduction_methods(x, m):
    return x.sum() * x.mean() + x.max() * 2.0 - x.min() ** 2 + m.max() * m.min() + m.sum()


# x.reshape(...) with separate sizes, a tuple, and -1
def reshape_method(x):
    m = x.reshape(2, 3)
    n = x.reshape((3, 2))
    f = m.reshape(-1)
    return np.sum(m @ n) + np.sum(f * np.sin(x))


# abs, min and max on scalars, with two and three arguments
def builtin_abs_min_max(x, y):
    a = abs(x - y) + abs(np.sin(x))
    b = max(x, y) * min(x * y, 0.3)
    c = max(x, y, 0.5) + min(x, -y, 0.2)
    return a + b + c


# int(x * 3) as a loop bound and float(n): no gradient through the integer path
def float_int(x, n):
    k = int(x * 3.0)
    s = 0.0
    for i in range(k):
        s = s + x * (i + 1)
    return s + float(n) * x + float(k) * x


# math.atan2 and math.hypot
def atan2_hypot(x, y):
    return math.atan2(y, x) * math.hypot(x, y) + math.hypot(x * 2.0, 1.0)


# range(len(x)) and len(x) in an index
def range_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[len(x) - 1 - i] * (i + 1)
    return s


# an in-place augmented assignment through a plain alias: b = a; b += ... changes a
def alias_augassign(x):
    a = x * 1.0
    b = a
    b += x * x
    return np.sum(a * x)


# an in-place augmented assignment through a slice view of a local array
def view_augassign(x):
    a = x.copy()
    b = a[1:]
    b *= 3.0
    return np.sum(a * a)


# an in-place augmented assignment on an argument that another name still refers to
def argument_alias_augassign(x):
    y = x
    x *= 2.0
    return np.sum(x * y)


# an in-place augmented assignment on the loop variable of a loop over rows (a view)
def row_loop_view_write(m):
    a = m.copy()
    for row in a:
        row *= 2.0
    return np.sum(a * m)


# overlapping slice writes: a[1:] = a[:-1] and a[:-1] += a[1:] (NumPy reads the right side first)
def slice_shift_overlap(x, w):
    a = x * 1.0
    a[1:] = a[:-1]
    a[:-1] += a[1:]
    return np.sum(a * a * w)


# a slice copied before the array is written into keeps the old values
def copy_then_write(x):
    a = x * 1.0
    b = a[1:4].copy()
    a[1] = 0.0
    a[2] *= b[0]
    return np.sum(a * x) + np.sum(b * b)


# a[idx] += v with a repeated index: NumPy applies only the last write to a repeated element
def fancy_index_augassign(x, idx):
    a = np.zeros(3)
    a[idx] += x
    return np.sum(a * a)
