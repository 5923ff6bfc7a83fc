"""Shape analysis: which values certainly have the same shape.

Input: SSA code. Output: a map from each name to a symbolic shape: the set
of shapes that broadcast together to give it (the empty set for a scalar,
`{x}` for "whatever shape argument x has", `{("statement", k)}` for the
shape whatever statement k computed, when it cannot be inferred, such as
`x[i]` or `a @ b`), or `None` where definitions of a name disagree.
Shapes are inferred without knowing the arguments' types: `x * 2` has the
shape of `x` whether `x` turns out to be a float or an array.
Invariant: two names with the same non-None symbol have the same shape at
run time, so the adjoint of a broadcasting operation needs no
`unbroadcast` when its operand's symbol equals its result's.

A slice of the first axis by constants, `x[a:]`, `x[:-b]`, `x[a:-b]` (a >= 0,
b > 0), drops `a + b` rows: `x[1:]` and `x[:-1]` have the same shape.

Where the ranks of the arguments are known (`ranks`: the compiled gradient
is specialised to them when it is first called), ranks are inferred too, and
every value of rank 0 is a scalar: `x[i]` of a vector, `pos[i, 0]` of a
matrix, and what is computed elementwise from them.
"""

import gast

from .names import walk
from .normalize import integer, op_name, written_array

SCALAR = frozenset()
UNSET = "unset"     # not yet known during the fixpoint


def _join(a, b):
    if a == UNSET:
        return b
    if b == UNSET:
        return a
    return a if a == b else None


def _broadcast(shapes):
    if UNSET in shapes:
        return UNSET
    if any(s is None for s in shapes):
        return None
    return frozenset().union(*shapes)


def infer(fdef, op_primitive, ranks=None):
    """Map every name of `fdef` to its symbolic shape (None when unknown).

    `ranks` maps parameters to the number of dimensions of their values (0 for a
    number), where that is known."""
    params = [a.id for a in fdef.args.args]
    scalars = {v for v, r in ranks_of(fdef, ranks or {}).items() if r == 0}
    shapes = {p: SCALAR if p in scalars else frozenset([p]) for p in params}
    for node in walk(fdef):
        if isinstance(node, gast.For):
            shapes[node.target.id] = SCALAR
    definitions = {}
    for number, node in enumerate(n for n in walk(fdef) if isinstance(n, gast.Assign)
                                  and not written_array(n)):
        definitions.setdefault(node.targets[0].id, []).append((number, node.value))
    changed = True
    while changed:
        changed = False
        for target, values in definitions.items():
            old = shapes.get(target, UNSET)
            if target in scalars:
                if old != SCALAR:
                    shapes[target] = SCALAR
                    changed = True
                continue
            new = old
            for number, value in values:
                shape = _shape(value, shapes, op_primitive)
                if shape is None:
                    # Unknown, but whatever it is, it is this statement's own:
                    # values computed elementwise from it share it.
                    shape = frozenset([("statement", number)])
                new = _join(new, shape)
            if new != old:
                shapes[target] = new
                changed = True
    return {name: (None if shape == UNSET else shape) for name, shape in shapes.items()}


def element_writes(fdef, ranks=None):
    """The writes `a[i] = v` of `fdef` (ids of their statements) that certainly write
    one element: an integer index per dimension of `a`, whose rank is known from
    `ranks` (see `infer`)."""
    known = ranks_of(fdef, ranks or {})
    return {id(node) for node in walk(fdef)
            if isinstance(node, gast.Assign) and written_array(node)
            and rank_of(node.targets[0], known) == 0}


OPERATORS = (gast.BinOp, gast.Compare, gast.BoolOp, gast.UnaryOp)


def _operator_operands(rhs):
    """The names and constants an operator expression combines elementwise (None for
    `@`, which does not)."""
    if isinstance(rhs, gast.BinOp) and op_name(rhs.op) == "matmul":
        return None
    return [n for n in walk(rhs) if isinstance(n, (gast.Name, gast.Constant))]


def _shape(rhs, shapes, op_primitive):
    if isinstance(rhs, (gast.Constant, gast.Name)):
        return _operands_shape([rhs], shapes)
    if isinstance(rhs, OPERATORS):
        operands = _operator_operands(rhs)
        return None if operands is None else _operands_shape(operands, shapes)
    if isinstance(rhs, gast.Call):
        kind = rhs.adjit_primitive.shape
        if kind == "scalar":
            return SCALAR
        if kind == "elementwise":
            return _operands_shape(rhs.args, shapes)
    if isinstance(rhs, gast.Subscript) and isinstance(rhs.value, gast.Name):
        dropped = _rows_dropped(rhs.slice)
        base = shapes.get(rhs.value.id, UNSET)
        if dropped is None or base is None or base == SCALAR:
            return None
        if base == UNSET:
            return UNSET
        return base if dropped == 0 else frozenset([("rows dropped", base, dropped)])
    return None


def _rows_dropped(index):
    """How many rows `x[index]` leaves out of `x`, for `a:`, `:-b` and `a:-b` with
    constants a >= 0, b > 0 (None for any other index)."""
    if not isinstance(index, gast.Slice):
        return None
    bounds = slice_bounds(index.lower, index.upper, index.step)
    return None if bounds is None else sum(bounds)


def slice_bounds(lower, upper, step):
    """(a, b) for the slice `a:-b` of constants a >= 0, b > 0 (either end may be missing:
    0), step missing or 1, else None. Its length is `max(0, n - a - b)` for any length n
    of what it slices: the slices with one `a + b` of one array have one length."""
    ends = []
    for end in (lower, upper, step):
        if end is None or isinstance(end, gast.Constant) and end.value is None:
            ends.append(None)
        elif integer(end) is None:
            return None
        else:
            ends.append(integer(end))
    start, stop, by = ends
    start = 0 if start is None else start
    if by not in (None, 1) or start < 0 or (stop is not None and stop >= 0):
        return None
    return start, 0 if stop is None else -stop


TUPLE = "tuple"    # rank of `np.shape(x)`: its elements are numbers


def ranks_of(fdef, given):
    """Map names to their number of dimensions, where it is certain: the parameters'
    from `given`, loop counters 0, and what follows from elementwise operations,
    reductions to a number, and indexing by numbers and slices."""
    params = [a.id for a in fdef.args.args]
    ranks = {p: given.get(p) for p in params}
    for node in walk(fdef):
        if isinstance(node, gast.For):
            ranks[node.target.id] = 0
    if not any(r is not None for r in given.values()):
        return ranks
    definitions = {}
    for node in walk(fdef):
        if isinstance(node, gast.Assign) and not written_array(node):
            definitions.setdefault(node.targets[0].id, []).append(node.value)
    # a parameter also holds the value it is called with
    settle(definitions, ranks, rank_of,
           also=lambda target: (given.get(target),) if target in params else ())
    return {v: (None if r == UNSET else r) for v, r in ranks.items()}


def settle(definitions, ranks, rank, also=lambda target: ()):
    """Give each target of `definitions` (name -> the values assigned to it) the rank all
    its values have (`rank(value, ranks)`, with the ranks `also(target)` adds), None
    where they disagree, repeating until nothing changes; updates `ranks` in place."""
    changed = True
    while changed:
        changed = False
        for target, values in definitions.items():
            found = {rank(value, ranks) for value in values} - {UNSET}
            found.update(also(target))
            new = UNSET if not found else found.pop() if len(found) == 1 else None
            if new != ranks.get(target, UNSET):
                ranks[target] = new
                changed = True
    return ranks


def rank_of(rhs, ranks):
    """The rank of `rhs`'s value, None where unknown (UNSET while a name it reads is)."""
    if isinstance(rhs, gast.Constant):
        return 0 if isinstance(rhs.value, (bool, int, float, complex)) else None
    if isinstance(rhs, gast.Name):
        return ranks.get(rhs.id, UNSET)
    if isinstance(rhs, OPERATORS):
        operands = _operator_operands(rhs)
        return None if operands is None else _highest(operands, ranks)
    if isinstance(rhs, gast.Call):
        prim = getattr(rhs, "adjit_primitive", None)
        if prim is None or prim.callee is not None or rhs.keywords:
            return None
        if prim.spelling == "np.shape":
            return TUPLE
        if prim.spelling in ("np.linalg.det", "np.trace"):
            return 0 if len(rhs.args) == 1 and rank_of(rhs.args[0], ranks) == 2 else None
        if prim.shape == "scalar" and len(rhs.args) == 1:
            return 0
        if prim.shape == "elementwise":
            return _highest(rhs.args, ranks)
        return None
    if isinstance(rhs, gast.Subscript) and isinstance(rhs.value, gast.Name):
        base = ranks.get(rhs.value.id, UNSET)
        parts = rhs.slice.elts if isinstance(rhs.slice, gast.Tuple) else [rhs.slice]
        if base == TUPLE:
            return 0 if len(parts) == 1 and not isinstance(parts[0], gast.Slice) else None
        if base == UNSET:
            return UNSET
        if base is None or len(parts) > base:
            return None
        numbers = 0
        for part in parts:
            if isinstance(part, gast.Slice):
                continue
            if isinstance(part, gast.Constant):
                if not isinstance(part.value, int) or isinstance(part.value, bool):
                    return None
            elif not isinstance(part, gast.Name):
                return None
            elif ranks.get(part.id, UNSET) != 0:
                return UNSET if ranks.get(part.id, UNSET) == UNSET else None
            numbers += 1
        return base - numbers
    return None


def _highest(nodes, ranks):
    found = [rank_of(n, ranks) for n in nodes]
    if any(r is None or r == TUPLE for r in found):
        return None
    if UNSET in found:
        return UNSET
    return max(found, default=0)


def _operands_shape(nodes, shapes):
    return _broadcast([SCALAR if isinstance(n, gast.Constant) else shapes.get(n.id, UNSET)
                       for n in nodes])
