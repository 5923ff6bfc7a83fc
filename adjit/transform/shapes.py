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
"""

import gast

from .normalize import op_name, written_array

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


def infer(fdef, op_primitive):
    """Map every name of `fdef` to its symbolic shape (None when unknown)."""
    params = [a.id for a in fdef.args.args]
    shapes = {p: frozenset([p]) for p in params}
    for node in gast.walk(fdef):
        if isinstance(node, gast.For):
            shapes[node.target.id] = SCALAR
    definitions = {}
    for number, node in enumerate(n for n in gast.walk(fdef) if isinstance(n, gast.Assign)
                                  and not written_array(n)):
        definitions.setdefault(node.targets[0].id, []).append((number, node.value))
    changed = True
    while changed:
        changed = False
        for target, values in definitions.items():
            old = shapes.get(target, UNSET)
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


def _shape(rhs, shapes, op_primitive):
    if isinstance(rhs, (gast.Constant, gast.Name)):
        return _operands_shape([rhs], shapes)
    if isinstance(rhs, gast.BinOp) and op_name(rhs.op) == "matmul":
        return None
    if isinstance(rhs, (gast.BinOp, gast.Compare, gast.BoolOp, gast.UnaryOp)):
        return _operands_shape([n for n in gast.walk(rhs) if isinstance(n, (gast.Name, gast.Constant))],
                               shapes)
    if isinstance(rhs, gast.Call):
        kind = rhs.adjit_primitive.shape
        if kind == "scalar":
            return SCALAR
        if kind == "elementwise":
            return _operands_shape(rhs.args, shapes)
    return None


def _operands_shape(nodes, shapes):
    return _broadcast([SCALAR if isinstance(n, gast.Constant) else shapes.get(n.id, UNSET)
                       for n in nodes])
