"""Activity analysis: which variables carry a derivative.

Input: SSA code, the names of the inputs differentiated (`wrt`) and the name
returned. Output: the set of active names: those that depend on a `wrt`
input through differentiable operations (varied) and that the result depends
on (useful). Comparisons, `and`/`or`/`not`, and primitives marked not
differentiable (`int`, `len`, `floor` ...) cut dependence, as do parameters
whose gradient template is `None`.
Invariant: every name outside the set has a zero adjoint, so the generator
may omit all adjoint code for it.
"""

import gast

from .names import walk
from .normalize import op_name, written_array


def dependencies(fdef, op_primitive):
    """Map each assigned name to the names its value depends on differentiably."""
    deps = {}
    for node in walk(fdef):
        if written_array(node):
            # `a[i] = v`: the elements of `a` now depend on `v` as well.
            deps.setdefault(written_array(node), set()).update(
                differentiable_operands(node.value, op_primitive))
        elif isinstance(node, gast.Assign):
            target = node.targets[0].id
            deps.setdefault(target, set()).update(differentiable_operands(node.value, op_primitive))
    return deps


def primitive_and_arguments(rhs, op_primitive):
    """The Primitive computing `rhs` and its parameter -> argument binding."""
    if isinstance(rhs, gast.Call):
        prim = rhs.adjit_primitive
        return prim, bind_arguments(prim, rhs)
    prim = op_primitive(op_name(rhs.op))
    operands = [rhs.left, rhs.right] if isinstance(rhs, gast.BinOp) else [rhs.operand]
    return prim, dict(zip(prim.params, operands))


def differentiable_operands(rhs, op_primitive):
    """Names in `rhs` through which a derivative can flow."""
    if isinstance(rhs, gast.Name):
        return {rhs.id}
    if isinstance(rhs, gast.Subscript):
        return {rhs.value.id} if isinstance(rhs.value, gast.Name) else set()
    if not isinstance(rhs, (gast.BinOp, gast.UnaryOp, gast.Call)):
        return set()    # constants, comparisons, and/or
    prim, bound = primitive_and_arguments(rhs, op_primitive)
    if not prim.differentiable:
        return set()
    return {leaf.id for param, arg in bound.items()
            if prim.grads[prim.params.index(param)] is not None
            for _, leaf in tuple_leaves(arg) if isinstance(leaf, gast.Name)}


def tuple_leaves(arg):
    """`[(position, atom)]` of an argument: `[(None, arg)]` for an atom, and for a tuple
    (`np.concatenate((a, b))`, `np.array(((a, b), (c, d)))`) each element with its
    position, a constant (`1`) or a tuple of constants (`(1, 0)`) when nested."""
    if not isinstance(arg, gast.Tuple):
        return [(None, arg)]
    found = []
    for k, element in enumerate(arg.elts):
        for inner, leaf in tuple_leaves(element):
            found.append((k if inner is None else (k,) + (inner if isinstance(inner, tuple)
                                                           else (inner,)), leaf))
    return found


def bind_arguments(prim, call):
    """Map the primitive's parameter names to the call's argument atoms."""
    bound = {}
    for param, arg in zip(prim.params, call.args):
        bound[param] = arg
    for keyword in call.keywords:
        bound[keyword.arg] = keyword.value
    for param, value in prim.defaults:
        bound.setdefault(param, gast.Constant(value=value, kind=None))
    return bound


def active_names(fdef, wrt, results, op_primitive):
    """The active names, given the `wrt` inputs and the names of the results returned."""
    deps = dependencies(fdef, op_primitive)
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for target, sources in deps.items():
            if target not in varied and sources & varied:
                varied.add(target)
                changed = True
    useful = set(results)
    changed = True
    while changed:
        changed = False
        for target, sources in deps.items():
            if target in useful:
                new = sources - useful
                if new:
                    useful |= new
                    changed = True
    return varied & useful
