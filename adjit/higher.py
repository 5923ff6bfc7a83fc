"""Forward mode and higher derivatives: `jvp`, `hvp`, `hessian`, `jacobian`, `grad(grad(f))`.

All of them run generated code, compiled with Numba like `grad`'s adjoint:

- `jvp(f, primals, tangents)`: the tangent transform (`transform.forward`) of `f`'s
  primal: value and directional derivative in one forward sweep.
- `hvp(f)(*args, v)`: forward over reverse: the tangent of `f`'s generated adjoint,
  along `v`. Stacks, undo logs and helpers of the adjoint are differentiated too.
- `hessian(f)(*args)`: one Hessian-vector product per column (per element of the
  arguments differentiated, and per element of the result when it is an array).
- `jacobian(f)(*args)`: forward columns (jvp) or reverse rows (the adjoint with a
  one-hot seed), whichever takes fewer sweeps for the shapes.
- `grad(grad(f))`, and deeper: forward over ... over reverse, each level seeded with
  ones (`d/dx sum(grad f) = H @ ones`, the Hessian being symmetric).
- `jvp_of_vjp`: value, gradient and both their tangents in one sweep, for the tape.

A tower of `k` tangent levels over one adjoint is generated once per function, `wrt`
and levels, and reused.
"""

import inspect

import numpy as np

from . import api
from .api import GradFunction, _check_differentiable, _like, _wrt_names
from .runtime import compile as compiling
from .runtime import helpers, resolve, rules
from .runtime.custom import custom_vjp
from .transform import pipeline

PREFIXES = ("d", "t", "u", "v", "w")     # tangent names at each level: dx, tx, ...
SEED = object()     # in a tower's level: the adjoint's seed (its cotangent parameter)


class _Runner(GradFunction):
    """Runs one generated tangent module: compiled, or as Python where Numba cannot
    (warning once), with errors at the user's line (as `GradFunction` does)."""

    def __init__(self, generated, source, name, jit):       # noqa: D107 (no GradFunction init)
        self.jit = jit
        self._generated = generated
        self._source = source
        self.__name__ = self.__qualname__ = name
        self._python, self._path = compiling.load(generated, name)
        self._compiled = None
        self._warned = False

    def __call__(self, *values):
        return self._run(list(values))


_TOWERS = {}     # (function, adjoint wrt, levels, jit) -> (_Runner, params, seed name)
_FORWARD = {}    # (function, wrt, jit) -> (_Runner, params)


def _unit(func):
    if isinstance(func, custom_vjp):
        raise TypeError(f"{func.__name__} has a custom gradient rule, which adjit cannot "
                        "differentiate again: forward mode and higher derivatives need "
                        "a function adjit can read")
    if isinstance(func, GradFunction):
        raise TypeError("pass the function itself, not its adjit.grad")
    return resolve.unit_of(func)


def _tangent(functions, wrt, level):
    return pipeline.tangent_module(functions, wrt, rules.tangent_rule, rules.tangent_rule_of_op,
                                   helpers.HELPERS, compiling.fingerprint(),
                                   prefix=PREFIXES[level % len(PREFIXES)])


def tower(func, wrt, levels, jit=None):
    """The runner of `levels` tangent levels over the adjoint of `func` w.r.t. `wrt`.

    It takes `(*args, seed, *tangents of levels[0], *tangents of levels[1], ...)` and
    returns `(lower, tangent)` nested once per level, the adjoint's `(value, grads)`
    innermost. Returns (runner, parameter names, the seed's name)."""
    key = (func, tuple(wrt), tuple(tuple(level) for level in levels), jit)
    if key not in _TOWERS:
        unit = _unit(func)
        functions = pipeline.adjoint_functions(unit, list(wrt), resolve.op_primitive,
                                               helpers.HELPERS)
        seed = functions.entry.args.args[-1].id
        generated = None
        for level, names in enumerate(levels):
            names = [seed if n is SEED else n for n in names]
            generated, functions = _tangent(functions, names, level)
        runner = _Runner(generated, unit.source, func.__name__, jit) if generated else \
            GradFunction(func, wrt=tuple(wrt), jit=jit)
        _TOWERS[key] = (runner, pipeline.parameters(unit.source), seed)
    runner, params, seed = _TOWERS[key]
    return runner, params, seed


def forward(func, wrt, jit=None):
    """The runner of `func`'s tangent w.r.t. `wrt`: `(*args, *tangents) -> (value, tangent)`."""
    key = (func, tuple(wrt), jit)
    if key not in _FORWARD:
        unit = _unit(func)
        functions = pipeline.primal_functions(unit, resolve.op_primitive, helpers.HELPERS)
        generated, _ = _tangent(functions, list(wrt), 0)
        _FORWARD[key] = (_Runner(generated, unit.source, func.__name__, jit),
                         pipeline.parameters(unit.source))
    return _FORWARD[key]


# ---- arguments ---------------------------------------------------------------------

def _parameters(func):
    function = getattr(func, "func", func)     # a custom_vjp's function
    return list(inspect.signature(function).parameters)


def _bind(func, params, args):
    """Positional `args` for every parameter (defaults filled in)."""
    function = getattr(func, "func", func)
    bound = inspect.signature(function).bind(*args)
    bound.apply_defaults()
    return [bound.arguments[p] for p in params]


def _is_float(value):
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return isinstance(value, (float, np.floating)) and not isinstance(value, bool)


def _tangent_for(name, value, tangent):
    """`tangent` checked against its primal `value` and given its type (None: zero)."""
    if tangent is None:
        return _zero(value)
    if isinstance(value, np.ndarray):
        t = np.asarray(tangent, dtype=np.float64)
        if t.shape != value.shape:
            raise ValueError(f"the tangent of {name!r} has shape {t.shape}, but {name!r} "
                             f"has shape {value.shape}")
        return t
    t = np.asarray(tangent)
    if t.shape != ():
        raise ValueError(f"the tangent of {name!r} must be a number, like {name!r}, "
                         f"not an array of shape {t.shape}")
    return float(t)


def _ones(value):
    return np.ones(value.shape) if isinstance(value, np.ndarray) else 1.0


def _unit_vector(value, k):
    if isinstance(value, np.ndarray):
        e = np.zeros(value.shape)
        e.flat[k] = 1.0
        return e
    return 1.0


def _zero(value):
    return np.zeros(value.shape) if isinstance(value, np.ndarray) else 0.0


def _size(value):
    return value.size if isinstance(value, np.ndarray) else 1


def _shape(value):
    return np.shape(value)


def _listed(grads, n):
    """An adjoint's gradients as a list: it returns one bare gradient for one `wrt`."""
    return [grads] if n == 1 else list(grads)


def _result(out, levels):
    """The innermost tangent of the gradients in a tower's output of `levels` levels."""
    for _ in range(levels + 1):
        out = out[1]
    return out


# ---- the public functions ----------------------------------------------------------

def jvp(f, primals, tangents, jit=None):
    """`(f(*primals), tangent of f along tangents)`, by forward mode.

    `primals` and `tangents` are tuples matching `f`'s positional arguments; an integer
    (or other non-float) argument gets no tangent (its entry is ignored), and None is a
    zero tangent. `f` may also
    be an `adjit.grad` of a function: its gradient's tangent is then a Hessian-vector
    product (forward over reverse)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp takes primals and tangents as tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    if isinstance(f, GradFunction) and not hasattr(f, "_custom_text"):
        return _jvp_of_grad(f, primals, tangents, jit)
    params = _parameters(f)
    values = _bind(f, params, primals)
    wrt = [p for p, v in zip(params, values) if _is_float(v)]
    ts = [_tangent_for(p, v, t) for p, v, t in zip(params, values, list(tangents)
                                                   + [None] * (len(values) - len(tangents)))
          if _is_float(v)]
    runner, _ = forward(f, wrt, jit)
    value, tangent = runner(*values, *ts)
    return value, _like_value(tangent, value)


def _like_value(tangent, value):
    if isinstance(value, np.ndarray):
        return np.asarray(tangent, dtype=np.float64).reshape(value.shape)
    return float(tangent)


def _jvp_of_grad(df, primals, tangents, jit):
    func = df.__wrapped__
    if getattr(df, "_chain", None) is not None:
        raise NotImplementedError("jvp of a grad of a grad is not supported; use adjit.grad")
    values = df._bind(list(primals), {})
    varied = [p for p, v in zip(df._params, values) if _is_float(v)]
    ts = [_tangent_for(p, v, t) for p, v, t in zip(df._params, values, tangents)
          if _is_float(v)]
    runner, _, _ = tower(func, df.wrt, [varied], jit if jit is not None else df.jit)
    out = runner(*values, 1.0, *ts)
    grads, dgrads = out[0][1], out[1][1]
    if not df._single and len(df.wrt) == 1:
        grads, dgrads = (grads,), (dgrads,)
    if df._single:
        return (_like(grads, values[df._params.index(df.wrt[0])]),
                _like(dgrads, values[df._params.index(df.wrt[0])]))
    by_name = dict(zip(df._params, values))
    return (tuple(_like(g, by_name[n]) for g, n in zip(grads, df.wrt)),
            tuple(_like(g, by_name[n]) for g, n in zip(dgrads, df.wrt)))


class _Derivative:
    """A callable derivative of `func` (hvp, hessian, jacobian)."""

    def __init__(self, func, wrt, jit, kind):
        self.func = func
        self.jit = jit
        self.kind = kind
        self._params = _parameters(func)
        self.wrt, self._single = _wrt_names(self._params, wrt, func.__name__)
        _unit(func)         # refuse what adjit cannot read now, where it is decorated
        self.__name__ = f"{kind} of {func.__name__}"
        self.__wrapped__ = func

    @property
    def source(self):
        """The generated module: the tangent of the adjoint (forward over reverse) for
        `hvp` and `hessian`, the tangent of the function for `jacobian`."""
        if self.kind == "jacobian":
            return forward(self.func, self.wrt, self.jit)[0]._generated.text
        return tower(self.func, self.wrt, [self.wrt], self.jit)[0]._generated.text

    def _values(self, args):
        values = _bind(self.func, self._params, args)
        for name in self.wrt:
            _check_differentiable(name, values[self._params.index(name)])
        return values

    def _pick(self, values):
        return [values[self._params.index(n)] for n in self.wrt]

    def __repr__(self):
        return f"<adjit.{self.kind} of {self.func.__qualname__} wrt {', '.join(self.wrt)}>"


class _HVP(_Derivative):
    def __call__(self, *args):
        if not args:
            raise TypeError("hvp(f)(*args, v) needs the vector v after f's arguments")
        *args, v = args
        values = self._values(args)
        points = self._pick(values)
        vs = [v] if self._single else list(v)
        if len(vs) != len(self.wrt):
            raise ValueError(f"hvp with wrt={self.wrt} takes a tuple of {len(self.wrt)} vectors")
        ts = [_tangent_for(n, p, t) for n, p, t in zip(self.wrt, points, vs)]
        runner, _, _ = tower(self.func, self.wrt, [self.wrt], self.jit)
        out = runner(*values, 1.0, *ts)
        hv = _listed(_result(out, 1), len(self.wrt))
        if self._single:
            return _like(hv[0], points[0])
        return tuple(_like(h, p) for h, p in zip(hv, points))


class _Hessian(_Derivative):
    def __call__(self, *args):
        values = self._values(args)
        points = self._pick(values)
        runner, _, _ = tower(self.func, self.wrt, [self.wrt], self.jit)
        sizes = [_size(p) for p in points]

        def sweep(seed, j, b):
            """The gradients' tangents along element j of argument b, for `seed`."""
            ts = [_unit_vector(p, j) if k == b else _zero(p) for k, p in enumerate(points)]
            out = runner(*values, seed, *ts)
            return out[0][0], _listed(_result(out, 1), len(self.wrt))

        value, first = sweep(1.0, 0, 0)
        out_shape = _shape(value)
        if out_shape == ():
            seeds = [(None, 1.0)]
        else:
            seeds = [(i, _unit_vector(np.zeros(out_shape), i)) for i in range(_size(value))]
        blocks = [[np.zeros((_size(value),) + _shape(pa) + (nb,)) for nb in sizes]
                  for pa in points]
        for i, seed in seeds:
            for b, nb in enumerate(sizes):
                for j in range(nb):
                    grads = first if (i is None and b == 0 and j == 0) else sweep(seed, j, b)[1]
                    for a in range(len(points)):
                        blocks[a][b][0 if i is None else i, ..., j] = grads[a]
        result = [[blocks[a][b].reshape(out_shape + _shape(pa) + _shape(pb))
                   for b, pb in enumerate(points)] for a, pa in enumerate(points)]
        result = [[_scalar_if_scalars(h, pa, pb, value) for h, pb in zip(row, points)]
                  for row, pa in zip(result, points)]
        if self._single:
            return result[0][0]
        return tuple(tuple(row) for row in result)


def _scalar_if_scalars(h, *values):
    if all(not isinstance(v, np.ndarray) for v in values):
        return float(h)
    return h


class _Jacobian(_Derivative):
    def __call__(self, *args):
        values = self._values(args)
        points = self._pick(values)
        sizes = [_size(p) for p in points]
        runner, _ = forward(self.func, self.wrt, self.jit)

        def column(j, b):
            ts = [_unit_vector(p, j) if k == b else _zero(p) for k, p in enumerate(points)]
            return runner(*values, *ts)

        value, first = column(0, 0)
        n_out, n_in = _size(value), sum(sizes)
        out_shape = _shape(value)
        blocks = [np.zeros(out_shape + (n,)) for n in sizes]
        if n_out < n_in - 1:
            # Reverse: one adjoint sweep per element of the result.
            adjoint, _, _ = tower(self.func, self.wrt, [], self.jit)
            for i in range(n_out):
                seed = _unit_vector(np.zeros(out_shape), i) if out_shape else 1.0
                _, grads = adjoint._run(values + [seed])
                grads = _listed(grads, len(self.wrt))
                for b in range(len(points)):
                    index = np.unravel_index(i, out_shape) if out_shape else ()
                    blocks[b][index] = np.ravel(grads[b])
        else:
            for b, nb in enumerate(sizes):
                for j in range(nb):
                    tangent = first if (b == 0 and j == 0) else column(j, b)[1]
                    blocks[b][..., j] = tangent
        result = [_scalar_if_scalars(block.reshape(out_shape + _shape(p)), p, value)
                  for block, p in zip(blocks, points)]
        return result[0] if self._single else tuple(result)


def hvp(f, wrt=0, jit=None):
    """`hvp(f, wrt)(*args, v)`: the Hessian of `f` (of the sum of its elements, for an
    array result) w.r.t. `wrt`, times `v` (a tuple of vectors for a tuple `wrt`), by
    forward mode over the generated adjoint: about the cost of two gradients."""
    return _HVP(f, wrt, jit, "hvp")


def hessian(f, wrt=0, jit=None):
    """`hessian(f, wrt)(*args)`: the matrix of second derivatives, of shape
    `result.shape + x.shape + x.shape` (a tuple of tuples of blocks for a tuple `wrt`),
    one Hessian-vector product per column."""
    return _Hessian(f, wrt, jit, "hessian")


def jacobian(f, wrt=0, jit=None):
    """`jacobian(f, wrt)(*args)`: derivatives of shape `result.shape + x.shape` (a tuple
    for a tuple `wrt`), by forward columns or reverse rows, whichever needs fewer sweeps."""
    return _Jacobian(f, wrt, jit, "jacobian")


def jvp_of_vjp(f, args, tangents, wrt=0, cotangent=1.0, cotangent_tangent=None, jit=None):
    """The gradient of `f` and its tangent, in one forward-over-reverse sweep.

    Returns `(value, grads, value_tangent, grads_tangent)`: `value = f(*args)`, `grads`
    the gradient(s) of `sum(cotangent * f)` w.r.t. `wrt`, and their derivatives along
    `tangents` (one entry per argument of `f`, None for none) and `cotangent_tangent`
    (the cotangent's own tangent, or None). With `H` the Hessian of `sum(cotangent * f)`
    and `J` the Jacobian of `f`: `grads_tangent = H t + J^T dcotangent` and
    `value_tangent = J t`. For a tape recording what a gradient computes: the gradient
    of `sum(c * grads)` w.r.t. any argument `a` is `grads_tangent` for `wrt` holding `a`
    and `tangents` holding `c` at the arguments `grads` was taken for (H is symmetric),
    and w.r.t. the cotangent it is `value_tangent` along `c`."""
    params = _parameters(f)
    names, single = _wrt_names(params, wrt, f.__name__)
    values = _bind(f, params, list(args))
    tangents = list(tangents) + [None] * (len(values) - len(tangents))
    varied = [p for p, v, t in zip(params, values, tangents) if t is not None and _is_float(v)]
    ts = [_tangent_for(p, v, t) for p, v, t in zip(params, values, tangents)
          if t is not None and _is_float(v)]
    runner, _, _ = tower(f, names, [varied + ([SEED] if cotangent_tangent is not None else [])],
                         jit)
    if cotangent_tangent is not None:
        ts.append(_tangent_for("cotangent", cotangent, cotangent_tangent))
    (value, grads), (dvalue, dgrads) = runner(*values, cotangent, *ts)
    if not single and len(names) == 1:
        grads, dgrads = (grads,), (dgrads,)
    by_name = dict(zip(params, values))
    if single:
        return (value, _like(grads, by_name[names[0]]), _like_value(dvalue, value),
                _like(dgrads, by_name[names[0]]))
    return (value, tuple(_like(g, by_name[n]) for g, n in zip(grads, names)),
            _like_value(dvalue, value), tuple(_like(g, by_name[n]) for g, n in zip(dgrads, names)))


# ---- grad of grad ------------------------------------------------------------------

def nested_grad(df, inner, wrt, preserve_result, jit):
    """Make `df` (a GradFunction being built) the gradient of `inner`, itself a gradient:
    `d/dx sum(inner(x))`, by forward over reverse (over forward ...)."""
    if getattr(inner, "_custom_text", None) is not None:
        raise TypeError("adjit cannot differentiate a custom gradient rule again")
    if inner.preserve_result:
        raise TypeError("cannot differentiate a value_and_grad (it returns a tuple); "
                        "differentiate adjit.grad(f) instead")
    func, chain = getattr(inner, "_chain", None) or (inner.__wrapped__, [inner.wrt])
    df.__wrapped__ = inner
    df.__name__ = df.__qualname__ = getattr(inner, "__name__", func.__name__)
    df.jit = jit
    df.preserve_result = preserve_result
    df._params = list(inner._params)
    df._signature = inner._signature
    df.wrt, df._single = _wrt_names(df._params, wrt, func.__name__)
    df._chain = (func, chain + [df.wrt])
    levels = chain              # one tangent level per inner gradient, seeded with ones
    runner, _, _ = tower(func, df.wrt, levels, jit)
    df._generated = runner._generated
    df._path = runner._path
    df._source = runner._source
    df._compiled = False         # `_run` goes to `_python`, which runs the compiled tower
    df._warned = False

    def run(*values):
        by_name = dict(zip(df._params, values))
        ones = []
        for names in levels:
            for name in names:
                _check_differentiable(name, by_name[name])
                ones.append(_ones(by_name[name]))
        out = runner(*values, 1.0, *ones)
        grads = _result(out, len(levels))
        value = inner(*values) if df.preserve_result else None
        return value, grads
    df._python = run

