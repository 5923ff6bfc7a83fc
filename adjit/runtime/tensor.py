"""The tape's values: `Tensor` (immutable), `Variable` (assignable), `constant`.

A `Tensor` wraps an ndarray (0-d for a number) and an identity the tapes
know it by. Everything done to it — operators, NumPy functions through
`__array_ufunc__`/`__array_function__`, methods, indexing — is computed on
the ndarray by `tape_ops`, which records the operation on every recording
tape that watches an input. A `Variable` holds a value that `assign`
replaces; each read gives a Tensor of the value at that time, sharing the
variable's identity, so gradients of every read add up in the variable's.

Python floats become float64, Python ints int64 (not differentiable), bools
bool; an ndarray keeps its dtype.
"""

import itertools
import numbers

import numpy as np

from .array_like import ArrayLike

_ids = itertools.count(1)


class TensorShape(tuple):
    """A tensor's shape: a tuple of ints that also equals a list (`t.shape == [2, 3]`)
    and answers TensorFlow's `as_list()`, `rank`, `num_elements()`."""

    __slots__ = ()

    def __eq__(self, other):
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return TensorShape(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return TensorShape(tuple(self) + tuple(other))

    def __radd__(self, other):
        return TensorShape(tuple(other) + tuple(self))

    def as_list(self):
        return list(self)

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def num_elements(self):
        return int(np.prod(self, dtype=np.int64))

    def is_fully_defined(self):
        return True

    def __repr__(self):
        return f"TensorShape({list(self)})"


def as_dtype(dtype):
    """A NumPy dtype from a dtype, a type, a name, or a TensorFlow-style `tf.float32`."""
    if dtype is None:
        return None
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def as_array(value, dtype=None):
    """`value` (a number, list, ndarray, Tensor or Variable) as an ndarray, cast to `dtype`.

    Python floats give float64, ints int64, bools bool. Nested lists holding
    tensors are read by value here; `constant` stacks them on the tape."""
    dtype = as_dtype(dtype)
    if isinstance(value, (Tensor, Variable)):
        value = value._value
    elif isinstance(value, (list, tuple)):
        value = [as_array(v) if isinstance(v, (Tensor, Variable, list, tuple)) else v
                 for v in value]
    if isinstance(value, bool):
        array = np.asarray(value, dtype=dtype or np.bool_)
    elif isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
        array = np.asarray(value, dtype=dtype or np.int64)
    else:
        array = np.asarray(value, dtype=dtype)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor of {value!r}: expected numbers or arrays of numbers")
    return array


def new_tensor(value, ident=None):
    """A Tensor holding the ndarray `value` (not copied), with a new identity unless given."""
    t = object.__new__(Tensor)
    t._value = value
    t._id = next(_ids) if ident is None else ident
    return t


def _format(value):
    if value.ndim == 0:
        return str(value[()])
    return np.array_repr(value)


class _HoldsValue(ArrayLike):
    """What a Tensor and a Variable both say about the ndarray `_value` they hold."""

    __slots__ = ()

    def numpy(self):
        """The value: a NumPy scalar when 0-d, else a copy of the ndarray."""
        value = self._value
        return value[()] if value.ndim == 0 else value.copy()

    @property
    def shape(self):
        return TensorShape(self._value.shape)

    def get_shape(self):
        return self.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return self._value.size

    @property
    def device(self):
        return "/job:localhost/replica:0/task:0/device:CPU:0"


class Tensor(_HoldsValue):
    """An immutable array value the tapes can record: `adjit.constant(1.0)`.

    It has `.numpy()`, `.shape`, `.dtype`, `.ndim`, the arithmetic and
    comparison operators, `@`, indexing, the array methods (`t.sum(axis=0)`,
    `t.reshape(2, 3)`, `t.T`, ...), and NumPy functions take it
    (`np.sin(t)`, `np.sum(t, axis=0)`), all recorded when a tape watches it.
    """

    __slots__ = ("_value", "_id", "__weakref__")
    __array_priority__ = 1000.0
    __hash__ = None          # compared elementwise, as TensorFlow 2 does; use `.ref()`

    def __init__(self, value, dtype=None):
        self._value = as_array(value, dtype)
        self._id = next(_ids)

    # ---- what it holds (and `_HoldsValue`) -----------------------------------------

    def ref(self):
        """A hashable reference to this tensor (`.deref()` gives it back)."""
        return Reference(self)

    experimental_ref = ref

    def __array__(self, dtype=None, copy=None):
        _ops.check_leaving(self, "np.asarray")
        value = self._value
        if dtype is not None and np.dtype(dtype) != value.dtype:
            return value.astype(dtype)
        return value.copy() if copy else value

    def __float__(self):
        _ops.check_leaving(self, "float")
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        if self._value.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self._value)

    def __complex__(self):
        return complex(self._value)

    def __bool__(self):
        return bool(self._value)

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(len(self._value)):
            yield self[i]

    def __repr__(self):
        return (f"<Tensor: shape={self._value.shape}, dtype={self.dtype}, "
                f"numpy={_format(self._value)}>")

    def __str__(self):
        return f"Tensor({_format(self._value)}, shape={self._value.shape}, dtype={self.dtype})"

    def __format__(self, spec):
        if not spec:
            return str(self)
        return format(self._value[()] if self._value.ndim == 0 else self._value, spec)

    def __reduce__(self):
        return (Tensor, (self._value,))

    def __setitem__(self, index, value):
        raise TypeError("'Tensor' object does not support item assignment: tensors are "
                        "immutable (a Variable can be assigned)")

    # ---- NumPy dispatch -------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ops.call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _ops.call_function(func, args, kwargs)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # ---- methods, as the NumPy functions they mean ------------------------------------

    @property
    def T(self):
        return np.transpose(self)

    def astype(self, dtype, copy=True):
        return _ops.cast(self, as_dtype(dtype))

    def reshape(self, *shape, order="C"):
        if order != "C":
            raise ValueError("adjit tensors are reshaped in C order only")
        if len(shape) == 1:
            shape = shape[0]
        return np.reshape(self, _ops.shape_tuple(shape))

    def sum(self, axis=None, dtype=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return np.min(self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, dtype=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def var(self, axis=None, dtype=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis=None):
        return np.cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        return np.cumprod(self, axis=axis)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return np.transpose(self, tuple(axes) if axes else None)

    def swapaxes(self, axis1, axis2):
        return np.swapaxes(self, axis1, axis2)

    def ravel(self):
        return np.ravel(self)

    def flatten(self):
        return np.ravel(self)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def copy(self):
        return np.copy(self)

    def dot(self, other):
        return np.dot(self, other)

    def clip(self, min=None, max=None):
        return np.clip(self, min, max)

    def trace(self):
        return np.trace(self)

    def diagonal(self, offset=0):
        return np.diagonal(self, offset)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis)

    def take(self, indices, axis=None):
        return np.take(self, indices, axis=axis)

    def argmax(self, axis=None):
        return np.argmax(self, axis=axis)

    def argmin(self, axis=None):
        return np.argmin(self, axis=axis)

    def any(self, axis=None, keepdims=False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def round(self, decimals=0):
        return np.round(self, decimals)

    def conj(self):
        return self

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    # ---- operators -------------------------------------------------------------------

    def __add__(self, other):
        return _ops.binary("add", np.add, self, other)

    def __radd__(self, other):
        return _ops.binary("add", np.add, other, self)

    def __sub__(self, other):
        return _ops.binary("sub", np.subtract, self, other)

    def __rsub__(self, other):
        return _ops.binary("sub", np.subtract, other, self)

    def __mul__(self, other):
        return _ops.binary("mul", np.multiply, self, other)

    def __rmul__(self, other):
        return _ops.binary("mul", np.multiply, other, self)

    def __truediv__(self, other):
        return _ops.binary("div", np.divide, self, other)

    def __rtruediv__(self, other):
        return _ops.binary("div", np.divide, other, self)

    def __floordiv__(self, other):
        return _ops.binary("floordiv", np.floor_divide, self, other)

    def __rfloordiv__(self, other):
        return _ops.binary("floordiv", np.floor_divide, other, self)

    def __mod__(self, other):
        return _ops.binary("mod", np.mod, self, other)

    def __rmod__(self, other):
        return _ops.binary("mod", np.mod, other, self)

    def __pow__(self, other):
        return _ops.binary("pow", np.power, self, other)

    def __rpow__(self, other):
        return _ops.binary("pow", np.power, other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.unary("neg", np.negative, self)

    def __pos__(self):
        return _ops.unary("pos", np.positive, self)

    def __abs__(self):
        return np.abs(self)

    def __eq__(self, other):
        return _ops.compare(np.equal, self, other)

    def __ne__(self, other):
        return _ops.compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _ops.compare(np.less, self, other)

    def __le__(self, other):
        return _ops.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _ops.compare(np.greater, self, other)

    def __ge__(self, other):
        return _ops.compare(np.greater_equal, self, other)

    def __and__(self, other):
        if self.dtype == np.bool_:
            return np.logical_and(self, other)
        return np.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return np.logical_or(self, other) if self.dtype == np.bool_ else np.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        if self.dtype == np.bool_:
            return np.logical_xor(self, other)
        return np.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __invert__(self):
        return np.logical_not(self) if self.dtype == np.bool_ else np.invert(self)


class Reference:
    """A hashable stand-in for a tensor or variable, compared by identity (`x.ref()`)."""

    __slots__ = ("_object",)

    def __init__(self, obj):
        self._object = obj

    def deref(self):
        return self._object

    def __eq__(self, other):
        return isinstance(other, Reference) and other._object is self._object

    def __hash__(self):
        return id(self._object)

    def __repr__(self):
        return f"<Reference to {self._object!r}>"


# TensorFlow's other arguments of tf.Variable, accepted (by keyword) and ignored.
_TF_VARIABLE_OPTIONS = {"validate_shape", "caching_device", "variable_def", "import_scope",
                        "constraint", "synchronization", "aggregation", "shape",
                        "experimental_enable_variable_lifting"}


class Variable(_HoldsValue):
    """A value that changes (`assign`, `assign_add`, `assign_sub`) and that tapes watch
    when it is read, unless `trainable=False`.

        w = adjit.Variable(np.zeros(3), name="w")

    Every read (an operator, a NumPy function, `read_value()`) gives a Tensor
    holding the value at that moment; assignments are not differentiated.
    """

    __slots__ = ("_value", "_id", "_tensor", "_trainable", "_name", "__weakref__")
    __array_priority__ = 1000.0
    __hash__ = None

    def __init__(self, initial_value=None, trainable=True, name=None, dtype=None, **options):
        if "value" in options and initial_value is None:
            initial_value = options.pop("value")
        unknown = set(options) - _TF_VARIABLE_OPTIONS
        if unknown:
            raise TypeError(f"Variable() got unexpected argument(s) {', '.join(sorted(unknown))}")
        if initial_value is None:
            raise ValueError("Variable needs an initial value")
        if callable(initial_value) and not isinstance(initial_value, (Tensor, Variable)):
            initial_value = initial_value()
        self._id = next(_ids)
        self._trainable = True if trainable is None else bool(trainable)
        self._name = (name or "Variable") if (name or "Variable").endswith(":0") \
            else (name or "Variable") + ":0"
        self._set(np.array(as_array(initial_value, dtype)))

    def _set(self, value):
        value.flags.writeable = False        # reads recorded on a tape share it
        self._value = value
        self._tensor = new_tensor(value, self._id)

    def _read(self):
        """A Tensor of the current value; watched by each recording tape that watches
        accessed variables (for a trainable variable)."""
        if _ops.ACTIVE and self._trainable:
            for tape in _ops.ACTIVE:
                if tape._watch_accessed and self._id not in tape._watched:
                    tape._watch_variable(self)
        return self._tensor

    # ---- state -------------------------------------------------------------------

    @property
    def name(self):
        return self._name

    @property
    def trainable(self):
        return self._trainable


    def read_value(self):
        """The current value, as a Tensor (recorded: its gradient is the variable's)."""
        return self._read()

    value = read_value

    def ref(self):
        return Reference(self)

    experimental_ref = ref

    # ---- assignment (not differentiated) ---------------------------------------------------

    def _new_value(self, value, what):
        new = as_array(value)
        if new.dtype != self._value.dtype:
            if self._value.dtype.kind in "iub" and new.dtype.kind == "f":
                raise TypeError(f"cannot {what} a {new.dtype} value to the {self.dtype} variable "
                                f"{self._name!r}")
            new = new.astype(self._value.dtype)
        if new.shape != self._value.shape:
            raise ValueError(f"cannot {what} a value of shape {new.shape} to the variable "
                             f"{self._name!r} of shape {self._value.shape}")
        return np.array(new)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Replace the value (same shape; cast to the variable's dtype); returns the variable."""
        self._set(self._new_value(value, "assign"))
        return self

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Add `delta` to the value; returns the variable."""
        self._set(self._new_value(self._value + as_array(delta), "assign"))
        return self

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtract `delta` from the value; returns the variable."""
        self._set(self._new_value(self._value - as_array(delta), "assign"))
        return self

    # ---- reading ---------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        value = self._value
        if dtype is not None and np.dtype(dtype) != value.dtype:
            return value.astype(dtype)
        return value.copy()                  # as TensorFlow: a copy, never the variable itself

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return self._read().__index__()

    def __bool__(self):
        return bool(self._value)

    def __len__(self):
        return len(self._read())

    def __iter__(self):
        return iter(self._read())

    def __getitem__(self, index):
        return self._read()[index]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ops.call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _ops.call_function(func, args, kwargs)

    def __getattr__(self, name):
        # Array methods (`v.sum()`, `v.T`, `v.reshape(...)`) act on a read of the value.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._read(), name)

    def __repr__(self):
        return (f"<Variable '{self._name}' shape={self._value.shape} dtype={self.dtype}, "
                f"numpy={_format(self._value)}>")

    def __str__(self):
        return repr(self)

    def __format__(self, spec):
        return format(self._read(), spec)

    def __reduce__(self):
        return (Variable, (self._value, self._trainable, self._name[:-2]))


def _delegate(name):
    def method(self, *args):
        return getattr(self._read(), name)(*args)
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
              "__rpow__", "__matmul__", "__rmatmul__", "__neg__", "__pos__", "__abs__", "__eq__",
              "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__", "__or__",
              "__ror__", "__xor__", "__rxor__", "__invert__"):
    setattr(Variable, _name, _delegate(_name))


def constant(value, dtype=None, shape=None, name=None):
    """A Tensor of `value` (a number, nested list, ndarray or tensor), cast to `dtype`;
    with `shape`, a number is repeated to that shape and an array reshaped to it.
    A list holding tensors is stacked on the tape (differentiably)."""
    t = convert_to_tensor(value, dtype)
    if shape is not None:
        shape = _ops.shape_tuple(shape)
        if t.size == 1 and int(np.prod(shape, dtype=np.int64)) != 1:
            t = t.reshape(()) * np.ones(shape, dtype=t.dtype)
        else:
            t = t.reshape(shape)
    return t


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """`value` as a Tensor: a Tensor is returned as is (cast if `dtype` differs), a Variable
    is read, a list holding tensors is stacked, anything else becomes a new Tensor."""
    dtype = as_dtype(dtype)
    if isinstance(value, Variable):
        value = value._read()
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != dtype:
            if value.dtype.kind == "f" and dtype.kind in "iub":
                raise TypeError(f"cannot convert a {value.dtype} tensor to {dtype}: use cast")
            return value.astype(dtype)
        return value
    if isinstance(value, (list, tuple)) and _holds_tensors(value):
        parts = [convert_to_tensor(v, dtype) for v in value]
        return np.stack(parts)
    if dtype is None and dtype_hint is not None and not isinstance(value, np.ndarray):
        array = as_array(value)
        if array.dtype.kind in "fiu":
            return Tensor(value, dtype_hint)
    return Tensor(value, dtype)


def _holds_tensors(value):
    return any(isinstance(v, (Tensor, Variable))
               or (isinstance(v, (list, tuple)) and _holds_tensors(v)) for v in value)


from . import tape_ops as _ops  # noqa: E402  (tape_ops needs the classes above)
