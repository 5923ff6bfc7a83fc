"""Refusal of calls that write into an array the function already holds.

NumPy writes a call's result into an existing array when it is given one as
`out`, by keyword (`np.sum(x, out=z)`, `np.clip(x, 0, 1, out=x)`) or by
position (`np.add(a, b, z)`, `np.cumsum(x, 0, None, z)`, `x.sum(0, None, z)`),
and some functions and methods change an argument in place (`np.copyto(dst,
src)`, `np.put`, `np.place`, `np.fill_diagonal`, `np.add.at`, `a.sort()`,
`a.fill(v)`, `a.resize(n)`, `rng.shuffle(a)`). adjit follows writes into arrays
only through subscripts (`z[i] = v`), so after such a call the gradient of the
array's old contents would be wrong: each is refused at the user's line, with
the statement to write instead.

Input: the gast `FunctionDef` from the source pass. Output: nothing; raises
`TransformError` at the first such call (in source order). Pure: it reads
names, not NumPy objects, so NumPy's parameters are spelled out below; the
tests compare these tables with NumPy's own signatures.
"""

import copy

import gast

from .names import walk

_NUMPY = ("np", "numpy")

# NumPy's ufuncs by number of inputs: any positional argument after the inputs is an output.
_UFUNC_INPUTS = dict.fromkeys((
    "abs", "absolute", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctanh", "asin", "asinh", "atan", "atanh", "bitwise_count", "bitwise_invert",
    "bitwise_not", "cbrt", "ceil", "conj", "conjugate", "cos", "cosh", "deg2rad", "degrees",
    "exp", "exp2", "expm1", "fabs", "floor", "frexp", "invert", "isfinite", "isinf", "isnan",
    "isnat", "log", "log10", "log1p", "log2", "logical_not", "modf", "negative", "positive",
    "rad2deg", "radians", "reciprocal", "rint", "sign", "signbit", "sin", "sinh", "spacing",
    "sqrt", "square", "tan", "tanh", "trunc"), 1)
_UFUNC_INPUTS.update(dict.fromkeys((
    "add", "arctan2", "atan2", "bitwise_and", "bitwise_left_shift", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "copysign", "divide", "divmod", "equal",
    "float_power", "floor_divide", "fmax", "fmin", "fmod", "gcd", "greater", "greater_equal",
    "heaviside", "hypot", "lcm", "ldexp", "left_shift", "less", "less_equal", "logaddexp",
    "logaddexp2", "logical_and", "logical_or", "logical_xor", "matmul", "matvec", "maximum",
    "minimum", "mod", "multiply", "nextafter", "not_equal", "pow", "power", "remainder",
    "right_shift", "subtract", "true_divide", "vecdot", "vecmat"), 2))

_SUM = ("a", "axis", "dtype", "out", "keepdims", "initial", "where")
_MAX = ("a", "axis", "out", "keepdims", "initial", "where")
_VAR = ("a", "axis", "dtype", "out", "ddof", "keepdims")
_CUMSUM = ("a", "axis", "dtype", "out")
_ARGMAX = ("a", "axis", "out")
_MEDIAN = ("a", "axis", "out", "overwrite_input", "keepdims")
_QUANTILE = ("a", "q", "axis", "out", "overwrite_input", "method", "keepdims")

# Other NumPy functions taking `out` by position: their positional parameters, in order.
_FUNCTION_PARAMS = {
    "sum": _SUM, "prod": _SUM, "nansum": _SUM, "nanprod": _SUM,
    "mean": _SUM[:5], "nanmean": _SUM[:5],
    "max": _MAX, "min": _MAX, "amax": _MAX, "amin": _MAX, "nanmax": _MAX, "nanmin": _MAX,
    "var": _VAR, "std": _VAR, "nanvar": _VAR, "nanstd": _VAR,
    "cumsum": _CUMSUM, "cumprod": _CUMSUM, "nancumsum": _CUMSUM, "nancumprod": _CUMSUM,
    "argmax": _ARGMAX, "argmin": _ARGMAX, "nanargmax": _ARGMAX, "nanargmin": _ARGMAX,
    "all": ("a", "axis", "out", "keepdims"), "any": ("a", "axis", "out", "keepdims"),
    "ptp": ("a", "axis", "out", "keepdims"),
    "median": _MEDIAN, "nanmedian": _MEDIAN,
    "percentile": _QUANTILE, "nanpercentile": _QUANTILE,
    "quantile": _QUANTILE, "nanquantile": _QUANTILE,
    "round": ("a", "decimals", "out"), "around": ("a", "decimals", "out"), "fix": ("x", "out"),
    "dot": ("a", "b", "out"), "outer": ("a", "b", "out"),
    "clip": ("a", "a_min", "a_max", "out"),
    "take": ("a", "indices", "axis", "out", "mode"),
    "trace": ("a", "offset", "axis1", "axis2", "dtype", "out"),
    "concatenate": ("arrays", "axis", "out"), "stack": ("arrays", "axis", "out"),
    "choose": ("a", "choices", "out", "mode"), "compress": ("condition", "a", "axis", "out"),
}

# A ufunc's own methods (`np.add.reduce(x, 0, None, z)`).
_UFUNC_METHOD_PARAMS = {
    "reduce": ("array", "axis", "dtype", "out", "keepdims", "initial", "where"),
    "accumulate": ("array", "axis", "dtype", "out"),
    "reduceat": ("array", "indices", "axis", "dtype", "out"),
}

# Array methods taking `out` by position: their parameters after the array itself.
_METHOD_PARAMS = {
    "sum": _SUM[1:], "prod": _SUM[1:], "mean": _SUM[1:5], "max": _MAX[1:], "min": _MAX[1:],
    "var": _VAR[1:], "std": _VAR[1:], "cumsum": _CUMSUM[1:], "cumprod": _CUMSUM[1:],
    "argmax": ("axis", "out"), "argmin": ("axis", "out"),
    # (NumPy documents `a.all(axis, out)`, but passes positions on to `np.all`'s
    # implementation, whose third parameter is `dtype`: `a.all(0, None, z)` writes z)
    "all": ("axis", "dtype", "out", "keepdims"), "any": ("axis", "dtype", "out", "keepdims"),
    "round": ("decimals", "out"), "dot": ("b", "out"), "clip": ("min", "max", "out"),
    "take": ("indices", "axis", "out", "mode"),
    "trace": ("offset", "axis1", "axis2", "dtype", "out"),
    "compress": ("condition", "axis", "out"),
}   # (`a.choose(c1, c2, ...)` takes its choices by position: its `out` is a keyword only)


def check(source, fdef):
    """Raise TransformError at the first call in `fdef` that writes into an existing array."""
    local = {a.id for a in fdef.args.args} | {
        n.id for n in walk(fdef) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    calls = [n for n in walk(fdef) if isinstance(n, gast.Call)]
    calls.sort(key=lambda c: (getattr(c, "lineno", 0), getattr(c, "col_offset", 0)))
    for call in calls:
        _check_call(source, call, local)


def _check_call(source, call, local):
    kind, name = _callee(call.func, local)
    if kind is None:
        return
    for keyword in call.keywords:
        if keyword.arg == "out" and not _is_none(keyword.value):
            raise _out_error(source, call, keyword.value, _without_keyword(call, keyword))
    params = _positional_params(kind, name)
    if params is not None:
        index = params.index("out")
        if len(call.args) > index and not _is_none(call.args[index]):
            raise _out_error(source, call, call.args[index], _without_position(call, params))
    fix = (_function_fix if kind == "numpy" else _method_fix)(call, name)
    if fix is not None:
        text = _text(call.func)
        raise source.error(
            f"`{text}(...)` changes an array in place, which adjit cannot follow (the gradient "
            f"would be wrong): {fix}", call)


def _callee(func, local):
    """('numpy', 'sum'), ('numpy', 'random.shuffle'), ('method', 'sort'), or (None, None)
    for a call adjit leaves to name resolution (a function of the user's, say)."""
    if not isinstance(func, gast.Attribute):
        return None, None
    path, root = [], func
    while isinstance(root, gast.Attribute):
        path.insert(0, root.attr)
        root = root.value
    if isinstance(root, gast.Name) and root.id not in local:
        if root.id in _NUMPY:
            return "numpy", ".".join(path)
        return None, None           # another module's function
    return "method", func.attr      # a method of an array: a variable's or a computed one


def _positional_params(kind, name):
    """The positional parameters of the call, `out` among them, or None when it has no
    positional `out` that adjit knows of."""
    if kind == "method":
        return _METHOD_PARAMS.get(name)
    if name in _FUNCTION_PARAMS:
        return _FUNCTION_PARAMS[name]
    if name in _UFUNC_INPUTS:
        return tuple(f"x{k + 1}" for k in range(_UFUNC_INPUTS[name])) + ("out",)
    head, _, method = name.partition(".")
    if head in _UFUNC_INPUTS and method in _UFUNC_METHOD_PARAMS:
        return _UFUNC_METHOD_PARAMS[method]
    return None


def _out_error(source, call, out, rewritten):
    """The error for a call writing its result into `out`; `rewritten` is the call without it."""
    text = _text(call.func)
    if isinstance(out, gast.Tuple) and len(out.elts) == 1:
        out = out.elts[0]           # a ufunc's `out=(z,)`
    target = _text(out)
    if isinstance(out, (gast.Name, gast.Subscript)):
        fix = f"write `{target} = {_text(rewritten)}` instead of passing `out`"
    else:
        fix = f"assign `{_text(rewritten)}` to a name instead of passing `out`"
    return source.error(
        f"`{text}` is given `{target}` as `out`: NumPy would write the result into that existing "
        f"array, which adjit cannot follow (the gradient would be wrong); {fix}", call)


def _without_keyword(call, keyword):
    new = copy.copy(call)
    new.keywords = [k for k in call.keywords if k is not keyword]
    return new


def _without_position(call, params):
    """`call` without its positional `out` (and later outputs, for a ufunc); the positional
    arguments after `out` become keywords (`np.var(x, 0, None, z, 1)` -> `np.var(x, 0, None, ddof=1)`)."""
    index = params.index("out")
    new = copy.copy(call)
    new.args = call.args[:index]
    later = [gast.keyword(arg=p, value=a) for p, a in zip(params[index + 1:], call.args[index + 1:])]
    new.keywords = later + [k for k in call.keywords if k.arg != "out"]
    return new


def _function_fix(call, name):
    """What to write instead of a NumPy function that changes an argument in place, or None."""
    args = [_text(a) for a in call.args]
    first = args[0] if args else "a"

    def arg(k, default):
        return args[k] if len(args) > k else default

    if name == "copyto":
        return f"write `{first}[:] = {arg(1, 'src')}`"
    if name in ("put", "put_along_axis"):
        return f"write the elements one by one with subscripts (`{first}[i] = v`)"
    if name in ("place", "putmask"):
        return f"write `{first} = np.where({arg(1, 'mask')}, {arg(2, 'values')}, {first})`"
    if name == "fill_diagonal":
        return (f"write the diagonal in a loop (`for i in range(n): {first}[i, i] = "
                f"{arg(1, 'v')}`)")
    if name == "random.shuffle":
        return f"pass a permutation `p` as an argument and write `{first} = {first}[p]`"
    head, _, method = name.partition(".")
    if head in _UFUNC_INPUTS and method == "at":
        return f"write the updates one by one with subscripts (`{first}[i] = ...`) in a loop"
    return None


def _method_fix(call, name):
    """What to write instead of an array method that changes its array in place, or None."""
    array = _text(call.func.value)
    args = [_text(a) for a in call.args]
    if name == "sort":
        return f"write `{array} = np.sort({', '.join([array] + args)})`"
    if name == "fill":
        return f"write `{array}[:] = {args[0] if args else 'v'}`"
    if name == "resize":
        return f"write `{array} = {array}.reshape({', '.join(args) or 'shape'})` (same size)"
    if name == "itemset":
        index = ", ".join(args[:-1]) or "i"
        return f"write `{array}[{index}] = {args[-1] if args else 'v'}`"
    if name == "put":
        return f"write the elements one by one with subscripts (`{array}[i] = v`)"
    if name == "partition":
        return f"write `{array} = np.sort({array})`"
    if name == "shuffle":
        target = args[0] if args else "a"
        return f"pass a permutation `p` as an argument and write `{target} = {target}[p]`"
    return None


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _text(node):
    return gast.unparse(node).strip()
