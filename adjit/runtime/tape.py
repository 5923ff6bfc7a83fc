"""`GradientTape`: record operations on tensors, then run the gradient rules backwards.

    x = adjit.Variable(2.0)
    with adjit.GradientTape() as tape:
        y = x ** 2 - 3 * x + 2
    tape.gradient(y, x)          # <Tensor: shape=(), dtype=float64, numpy=1.0>

While a tape is recording (inside its `with` block, outside `stop_recording`)
`tape_ops` appends to it every operation on a tensor it watches. `gradient`
walks those entries from the last to the first, calling each one's rule from
the registry with the incoming gradient, un-broadcasting each result to its
input's shape and adding it to that input's gradient.

Higher derivatives: when another tape is recording while `gradient` runs
(nested tapes, or a persistent tape asked inside its own block), the rules
run on tensors instead of plain arrays, so that tape records the gradient
computation itself and can differentiate it again.
"""

import contextlib
import enum
import warnings

import numpy as np

from . import nest, tape_ops
from .tape_ops import ACTIVE
from .tensor import Tensor, Variable, new_tensor


class UnconnectedGradients(enum.Enum):
    """What `gradient` gives for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _unconnected(value):
    try:
        return UnconnectedGradients(value.value if isinstance(value, UnconnectedGradients)
                                    else value)
    except ValueError:
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero' "
                         f"(or adjit.UnconnectedGradients.NONE / ZERO), not {value!r}") from None


_USED = ("A non-persistent GradientTape can only be used to compute one set of gradients "
         "(or jacobians)")


class GradientTape:
    """Records operations on watched tensors for automatic differentiation.

    `GradientTape(persistent=False, watch_accessed_variables=True)`: a
    persistent tape allows several `gradient`/`jacobian` calls; with
    `watch_accessed_variables` every trainable Variable read while recording
    is watched, other tensors must be `watch`ed.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._entries = []
        self._watched = set()          # ids of watched tensors and of results depending on them
        self._variables = {}           # id -> watched Variable, in the order first watched
        self._used = False

    # ---- recording ----------------------------------------------------------------------

    def __enter__(self):
        if self in ACTIVE:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        if self._used:
            self._clear()
            self._used = False
        ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        self._pop()
        return False

    def _pop(self):
        if self in ACTIVE:
            ACTIVE.remove(self)

    @property
    def _recording(self):
        return self in ACTIVE

    @contextlib.contextmanager
    def stop_recording(self):
        """A context in which this tape records nothing."""
        if self not in ACTIVE:
            raise RuntimeError("Tape is not recording.")
        position = ACTIVE.index(self)
        ACTIVE.remove(self)
        try:
            yield
        finally:
            ACTIVE.insert(min(position, len(ACTIVE)), self)

    def reset(self):
        """Forget everything recorded and watched, as a new tape would (still recording
        if it was)."""
        self._clear()
        self._used = False

    def _clear(self):
        self._entries = []
        self._watched = set()
        self._variables = {}

    def watch(self, tensor):
        """Watch a tensor, a Variable, or a (nested) list/tuple/dict of them."""
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                if t.dtype.kind not in "fc":
                    _warn_not_float(t)
                    continue
                self._watch_variable(t)
            elif isinstance(t, Tensor):
                if t.dtype.kind not in "fc":
                    _warn_not_float(t)
                    continue
                self._watched.add(t._id)
            else:
                raise ValueError(f"Passed in object {t!r} of type {type(t).__name__!r}, not a "
                                 "Tensor or Variable: only tensors can be watched")

    def _watch_variable(self, variable):
        self._watched.add(variable._id)
        self._variables.setdefault(variable._id, variable)

    def watched_variables(self):
        """The Variables this tape watches, in the order it started watching them."""
        return tuple(self._variables.values())

    @property
    def recorded_operations(self):
        """The names of the operations recorded, in order (one for each tape entry)."""
        return tuple(entry.name for entry in self._entries)

    # ---- gradients ------------------------------------------------------------------------

    def _start(self):
        """Check that the tape may compute gradients; a non-persistent tape stops
        recording. Whether the rules must run on tensors (another tape records them)."""
        if self._used:
            raise RuntimeError(_USED)
        if not self._persistent:
            self._pop()
        return bool(ACTIVE)

    def _finish(self):
        if not self._persistent:
            self._used = True
            self._entries = []

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """The gradient of `target` (the sum of a (nested) list of targets) with respect to
        each of `sources` (a tensor, a Variable, or a nested list/tuple/dict of them), in
        the structure of `sources`. `output_gradients` weights the targets (same structure).
        A source the target does not depend on gives None, or zeros with
        `unconnected_gradients="zero"`."""
        unconnected = _unconnected(unconnected_gradients)
        on_tensors = self._start()
        targets = nest.flatten(target)
        if output_gradients is None:
            weights = [None] * len(targets)
        else:
            weights = nest.flatten(output_gradients)
            if len(weights) != len(targets):
                raise ValueError(f"output_gradients has {len(weights)} values for "
                                 f"{len(targets)} targets")
        flat_sources = nest.flatten(sources)
        _check_sources(flat_sources)
        seeds = {}
        for t, weight in zip(targets, weights):
            self._seed(seeds, t, weight, on_tensors)
        grads = self._backward(seeds, {s._id for s in flat_sources}, on_tensors)
        results = [_result(grads.get(s._id), s, unconnected, on_tensors) for s in flat_sources]
        self._finish()
        return nest.pack_like(sources, results)

    def _seed(self, seeds, t, weight, on_tensors):
        """Add the starting gradient of target `t` (ones, or `weight`) to `seeds`."""
        if isinstance(t, Variable):
            t = t._tensor
        if not isinstance(t, Tensor) or t._id not in self._watched \
                or t._value.dtype.kind not in "fc":
            return
        value = t._value
        if weight is None:
            seed = np.ones(value.shape, value.dtype)
            if on_tensors:
                seed = new_tensor(seed)
        elif on_tensors:
            seed = tape_ops.as_tensor(weight)
            seed = _fit(seed, value, True)
        else:
            seed = _fit(np.asarray(tape_ops.plain(weight._value if isinstance(weight, Variable)
                                                  else weight)), value, False)
        previous = seeds.get(t._id)
        seeds[t._id] = seed if previous is None else previous + seed

    def _backward(self, seeds, keep, on_tensors, entries=None):
        """Run the rules of the entries backwards from `seeds` (id -> gradient); the
        gradient of every id reached (those in `keep` are kept to the end)."""
        grads = dict(seeds)
        if not grads:
            return grads
        watched = self._watched
        entries = self._entries if entries is None else entries
        with np.errstate(all="ignore"):
            for index in range(len(entries) - 1, -1, -1):
                entry = entries[index]
                if entry.multi:
                    g = _multi_gradient(entry, grads, keep, on_tensors)
                    if g is None:
                        continue
                else:
                    out_id = entry.outs[0]._id
                    g = grads.get(out_id)
                    if g is None:
                        continue
                    if out_id not in keep:
                        del grads[out_id]
                # On tensors only where another tape records this entry's gradient.
                here = on_tensors and _recorded_elsewhere(entry, g)
                if on_tensors and not here:
                    g = tape_ops.plain(g)
                for t, grad in _input_gradients(entry, g, here):
                    tid = t._id
                    if tid not in watched:
                        continue
                    grad = _fit(grad, t._value, here)
                    previous = grads.get(tid)
                    grads[tid] = grad if previous is None else previous + grad
        return grads

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """d target / d source for each source: shape `target.shape + source.shape`."""
        unconnected = _unconnected(unconnected_gradients)
        on_tensors = self._start()
        t = target._tensor if isinstance(target, Variable) else target
        if not isinstance(t, Tensor):
            raise TypeError(f"jacobian's target must be a tensor, not {type(target).__name__}")
        flat_sources = nest.flatten(sources)
        _check_sources(flat_sources)
        keep = {s._id for s in flat_sources}
        rows = [[] for _ in flat_sources]
        for i in range(t._value.size):
            seed = np.zeros(t._value.size, t._value.dtype if t._value.dtype.kind in "fc"
                            else np.float64)
            seed[i] = 1.0
            seeds = {}
            self._seed(seeds, t, seed.reshape(t._value.shape), on_tensors)
            grads = self._backward(seeds, keep, on_tensors)
            for row, s in zip(rows, flat_sources):
                row.append(grads.get(s._id))
        results = [_stack_rows(row, t._value.shape, s, unconnected, on_tensors)
                   for row, s in zip(rows, flat_sources)]
        self._finish()
        return nest.pack_like(sources, results)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """d target[i] / d source[i] for each i along the first (batch) axis, target[i]
        depending on source[i] only: shape `target.shape + source.shape[1:]`."""
        unconnected = _unconnected(unconnected_gradients)
        on_tensors = self._start()
        t = target._tensor if isinstance(target, Variable) else target
        if not isinstance(t, Tensor) or t.ndim < 1:
            raise ValueError("batch_jacobian's target must be a tensor with a batch axis")
        _check_sources([source])
        s = source
        if s.ndim < 1 or s.shape[0] != t.shape[0]:
            raise ValueError(f"batch_jacobian needs the same batch size in target and source, "
                             f"got shapes {tuple(t.shape)} and {tuple(s.shape)}")
        batch = t._value.shape[0]
        inner = t._value.size // batch if batch else 0
        rows = []
        for j in range(inner):
            seed = np.zeros((batch, inner), t._value.dtype if t._value.dtype.kind in "fc"
                            else np.float64)
            seed[:, j] = 1.0
            seeds = {}
            self._seed(seeds, t, seed.reshape(t._value.shape), on_tensors)
            rows.append(self._backward(seeds, {s._id}, on_tensors).get(s._id))
        result = _stack_rows(rows, (inner,), s, unconnected, on_tensors, batch=True)
        if result is not None:
            result = np.reshape(result, tuple(t._value.shape) + tuple(s._value.shape[1:]))
        self._finish()
        return result

    def __repr__(self):
        state = "recording" if self._recording else "stopped"
        return (f"<GradientTape {state}, {len(self._entries)} operations, "
                f"persistent={self._persistent}>")


def _warn_not_float(t):
    warnings.warn(f"The dtype of the watched tensor must be floating (e.g. float32), got "
                  f"{t.dtype}: it is not watched and its gradient is None", stacklevel=3)


def _check_sources(sources):
    for s in sources:
        if not isinstance(s, (Tensor, Variable)):
            raise TypeError(f"a gradient source must be a Tensor or a Variable, not "
                            f"{type(s).__name__} ({s!r})")


def _multi_gradient(entry, grads, keep, on_tensors):
    """The gradients of an entry with several results (zeros for those with none), or None."""
    gs = [grads.get(out._id) for out in entry.outs]
    if all(g is None for g in gs):
        return None
    for out in entry.outs:
        if out._id not in keep:
            grads.pop(out._id, None)
    filled = []
    for g, out in zip(gs, entry.outs):
        if g is None:
            g = np.zeros(out._value.shape, out._value.dtype if out._value.dtype.kind in "fc"
                         else np.float64)
            if on_tensors:
                g = new_tensor(g)
        filled.append(g)
    return tuple(filled)


def _recorded_elsewhere(entry, g):
    """Whether a recording tape watches the gradient, a result or an input of `entry`: then
    its rule must run on tensors for that tape to record the gradient computation."""
    ids = [x._id for x in (g if isinstance(g, tuple) else (g,)) if isinstance(x, Tensor)]
    ids.extend(out._id for out in entry.outs)
    for a in entry.args:
        if isinstance(a, Tensor):
            ids.append(a._id)
        elif type(a) in (list, tuple):
            ids.extend(item._id for item in a if isinstance(item, Tensor))
    for tape in ACTIVE:
        watched = tape._watched
        for i in ids:
            if i in watched:
                return True
    return False


def _input_gradients(entry, g, on_tensors):
    """`(tensor, gradient)` for each input of `entry` with a gradient, from its rule."""
    if on_tensors:
        ans = entry.outs if entry.multi else entry.outs[0]
        tape_ops._RULE_STACK.append(entry.name)
        try:
            result = entry.rule(g, ans, *entry.args)
        except (TypeError, LookupError) as exc:
            raise NotImplementedError(
                f"adjit: the gradient of {entry.name} cannot be computed on tensors, so a tape "
                f"recording it (nested tapes, a higher derivative) cannot differentiate it: "
                f"{exc}") from exc
        finally:
            tape_ops._RULE_STACK.pop()
    else:
        ans = tuple(o._value for o in entry.outs) if entry.multi else entry.outs[0]._value
        result = entry.rule(g, ans, *[a._value if type(a) is Tensor else tape_ops.plain(a)
                                      for a in entry.args])
    if entry.single:
        result = (result,)
    found = []
    args = entry.args
    for link in entry.links:
        if type(link) is int:
            grad = result[link]
            if grad is not None:
                found.append((args[link], grad))
        else:
            k, j = link
            grad = result[k]
            if grad is not None and grad[j] is not None:
                found.append((args[k][j], grad[j]))
    return found


def _fit(grad, value, on_tensors):
    """`grad` shaped and typed like `value`: summed over broadcast axes (or spread over
    them, for a gradient given smaller), cast to its float dtype."""
    shape = value.shape
    if on_tensors:
        if not isinstance(grad, Tensor):
            grad = new_tensor(np.asarray(grad))
        gshape = grad._value.shape
    else:
        if not isinstance(grad, (np.ndarray, np.generic)):
            grad = np.asarray(grad)
        gshape = grad.shape
    if gshape != shape:
        grad = _to_shape(grad, gshape, shape)
    dtype = value.dtype
    gdtype = grad._value.dtype if on_tensors else grad.dtype
    if gdtype != dtype and dtype.kind in "fc":
        grad = grad.astype(dtype)
    return grad


def _to_shape(grad, gshape, shape):
    extra = len(gshape) - len(shape)
    if extra > 0:
        grad = np.sum(grad, axis=tuple(range(extra)))
        gshape = gshape[extra:]
    if len(gshape) == len(shape):
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[i] != 1)
        if axes:
            grad = np.sum(grad, axis=axes, keepdims=True)
    if tuple(np.shape(grad)) != tuple(shape):
        grad = np.broadcast_to(grad, shape)
    return grad


def _result(grad, source, unconnected, on_tensors):
    """What `gradient` gives for `source`: its gradient as a Tensor, or None / zeros."""
    value = source._value
    if value.dtype.kind not in "fc":
        return None
    if grad is None:
        if unconnected is UnconnectedGradients.ZERO:
            return new_tensor(np.zeros(value.shape, value.dtype))
        return None
    grad = _fit(grad, value, on_tensors)
    if on_tensors:
        return grad
    if grad.base is not None or not grad.flags.writeable:
        grad = np.array(grad)
    return new_tensor(grad)


def _stack_rows(rows, shape, source, unconnected, on_tensors, batch=False):
    """The jacobian for `source` from one gradient per element of the target (`rows`,
    None where unconnected): shape `shape + source.shape` (batch: the batch axis first)."""
    value = source._value
    if value.dtype.kind not in "fc":
        return None
    if all(r is None for r in rows):
        if unconnected is UnconnectedGradients.NONE:
            return None
    zeros = np.zeros(value.shape, value.dtype)
    filled = [(new_tensor(zeros) if on_tensors else zeros) if r is None
              else _fit(r, value, on_tensors) for r in rows]
    if not filled:
        full = (value.shape[0],) + tuple(shape) + value.shape[1:] if batch \
            else tuple(shape) + value.shape
        return new_tensor(np.zeros(full, value.dtype))
    stacked = np.stack(filled, axis=1 if batch else 0)
    if batch:
        result = np.reshape(stacked, (value.shape[0],) + tuple(shape) + value.shape[1:])
    else:
        result = np.reshape(stacked, tuple(shape) + value.shape)
    return result if on_tensors else new_tensor(np.array(result))


__all__ = ["GradientTape", "UnconnectedGradients"]
