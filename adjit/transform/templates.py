"""Gradient rules as templates: read a rule function once, inline it anywhere.

A rule is a plain Python function `rule(g, ans, *params)` returning the
gradient for each parameter (a tuple when there are several, `None` for one
that is not differentiable). The tape calls it directly; the compiler reads
its `return` expression here and substitutes names, so the generated adjoint
shows the rule's own arithmetic (`bx = bx + bsin2 * np.cos(x)`).

Input: a rule function (or, for instantiation, a template and the names to
put in). Output: gast expressions. Invariant: instantiation never changes
what a template computes; constant folding only removes `* 1`, `** 1` and
arithmetic on two literals.
"""

import copy
import dataclasses
import inspect
import operator
import textwrap

import gast


@dataclasses.dataclass(frozen=True, eq=False)
class Primitive:
    """What the compiler knows about one differentiable operation."""

    name: str            # base for temporaries: "sin", "mul"
    spelling: str        # how generated code calls it: "np.sin" ("" for operators)
    params: tuple        # parameter names after (g, ans)
    defaults: tuple      # (name, constant) pairs for defaulted parameters
    grads: tuple         # per parameter: a gast expression template, or None
    broadcast: bool      # un-broadcast each gradient to its argument's shape
    differentiable: bool = True
    shape: str = "elementwise"   # result shape: "elementwise", "scalar" or "unknown"
    callee: object = None        # a user function adjit differentiates in turn (see `callees`)
    results: int = 1             # how many values it returns (a tuple when more than one)
    externals: tuple = ()        # (name, object) pairs generated code calls by name

    def __deepcopy__(self, memo):
        # Immutable: a copied tree's calls share their Primitive (copying it would copy
        # its templates and, for a user function, that function's whole Unit).
        return self


@dataclasses.dataclass(frozen=True, eq=False)
class PerElement:
    """The gradient of a parameter taking a tuple (`np.concatenate((a, b))`): a
    template for each element, in which `k` stands for the element's position."""

    template: object

    def __deepcopy__(self, memo):
        return self     # immutable, like Primitive


def primitive_from_rule(rule, name, spelling, broadcast=False, differentiable=True,
                        shape="elementwise", results=1):
    """Build a Primitive from a rule function `rule(g, ans, *params)`.

    A parameter taking a tuple of values has the gradient
    `tuple(<expression of k> for k in range(len(<param>)))`: one per element.
    A primitive returning `results` > 1 values gets `g` and `ans` as tuples."""
    tree = gast.parse(textwrap.dedent(source_of(rule)))
    fdef = tree.body[0]
    arg_names = [a.id for a in fdef.args.args]
    if arg_names[:2] != ["g", "ans"]:
        raise ValueError(f"rule {rule.__name__} must start with parameters (g, ans)")
    params = tuple(arg_names[2:])
    defaults = tuple(
        (arg.id, d.value) for arg, d in zip(fdef.args.args[len(arg_names) - len(fdef.args.defaults):],
                                             fdef.args.defaults))
    returns = [s for s in fdef.body if isinstance(s, gast.Return)]
    if len(fdef.body) != 1 or len(returns) != 1:
        raise ValueError(f"rule {rule.__name__} must be a single `return` statement")
    value = returns[0].value
    if len(params) == 1:
        grads = (value,)
    else:
        if not isinstance(value, gast.Tuple) or len(value.elts) != len(params):
            raise ValueError(f"rule {rule.__name__} must return one gradient per parameter")
        grads = tuple(value.elts)
    grads = tuple(None if isinstance(e, gast.Constant) and e.value is None else _per_element(e)
                  for e in grads)
    return Primitive(name, spelling, params, defaults, grads, broadcast, differentiable, shape,
                     results=results)


def source_of(rule):
    """The source of `rule`, as read when it was registered (`remember_source`): a rule
    file edited later, while a process runs, must not give another function's lines."""
    return getattr(rule, "__adjit_source__", None) or inspect.getsource(rule)


def remember_source(rule):
    rule.__adjit_source__ = inspect.getsource(rule)
    return rule


def _per_element(expr):
    """`PerElement(<elt>)` for `tuple(<elt> for k in range(len(p)))`, else `expr`."""
    if (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name)
            and expr.func.id == "tuple" and len(expr.args) == 1
            and isinstance(expr.args[0], gast.GeneratorExp)):
        generator = expr.args[0].generators[0]
        if isinstance(generator.target, gast.Name) and generator.target.id == "k":
            return PerElement(expr.args[0].elt)
    return expr


def instantiate(template, mapping):
    """Copy `template`, replacing each name in `mapping` by a copy of its node."""
    expr = _Substitute(mapping).visit(_copy(template))
    return fold(expr)


class _Substitute(gast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return _copy(self.mapping[node.id])
        return node


_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul}


def fold(expr):
    """Fold arithmetic on literals, drop `* 1`, `1 *`, `** 1`, `- 0`, `+ 0`, and take
    constant elements of tuples."""
    return _Fold().visit(expr)


def _is_const(node, value=None):
    return (isinstance(node, gast.Constant) and type(node.value) in (int, float)
            and (value is None or node.value == value))


class _Fold(gast.NodeTransformer):
    def visit_Subscript(self, node):
        """`(a, b)[1]` is `b` (a tuple parameter's element, a tuple result's gradient)."""
        self.generic_visit(node)
        index = node.slice
        if isinstance(node.value, gast.Tuple) and _is_const(index) and type(index.value) is int:
            return node.value.elts[index.value]
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if op in _FOLD and _is_const(left) and _is_const(right):
            return gast.Constant(value=_FOLD[op](left.value, right.value), kind=None)
        if op is gast.Mult and _is_const(right, 1):
            return left
        if op is gast.Mult and _is_const(left, 1):
            return right
        if op is gast.Pow and _is_const(right, 1):
            return left
        if op in (gast.Add, gast.Sub) and _is_const(right, 0) and not isinstance(right.value, bool):
            return left
        return node


_ATOMS = (str, int, float, complex, bytes, type(None), type(Ellipsis), Primitive, PerElement)


def _copy(node):
    """`copy.deepcopy(node)` for a tree (no node in two places), about five times faster:
    every attribute copied (fields, positions and notes), nodes and lists anew."""
    if isinstance(node, gast.AST):
        new = type(node).__new__(type(node))
        new.__dict__.update({key: _copy(value) for key, value in node.__dict__.items()})
        return new
    if isinstance(node, list):
        return [_copy(item) for item in node]
    if isinstance(node, _ATOMS):
        return node
    return copy.deepcopy(node)
