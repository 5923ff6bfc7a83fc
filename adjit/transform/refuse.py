"""Refusal pass: reject every construct adjit cannot differentiate correctly.

Input: the gast `FunctionDef` from the source pass. Output: nothing; raises
`TransformError` at the user's line for the first unsupported construct.
Invariant: whatever passes this check is in the subset the later passes
handle, so no later pass meets syntax it does not understand. Calls that would
write into an existing array (`out=`, in-place NumPy functions and methods) are
refused first, by `refuse_writes`.
"""

import gast

from . import refuse_writes
from .names import walk

# Statement and expression kinds, named the way a user would recognise them.
_CONSTRUCT_NAMES = {
    "Try": "`try`",
    "TryStar": "`try`",
    "With": "`with`",
    "AsyncWith": "`async with`",
    "AsyncFor": "`async for`",
    "AsyncFunctionDef": "an `async def`",
    "FunctionDef": "a nested `def`",
    "ClassDef": "a nested `class`",
    "Lambda": "a `lambda`",
    "Yield": "`yield`",
    "YieldFrom": "`yield from`",
    "Await": "`await`",
    "Global": "`global`",
    "Nonlocal": "`nonlocal`",
    "NamedExpr": "the walrus operator `:=`",
    "ListComp": "a list comprehension",
    "SetComp": "a set comprehension",
    "DictComp": "a dict comprehension",
    "GeneratorExp": "a generator expression",
    "Delete": "`del`",
    "Raise": "`raise`",
    "Assert": "`assert`",
    "Import": "`import`",
    "ImportFrom": "`import`",
    "Match": "`match`",
    "IfExp": "a conditional expression (`a if c else b`)",
    "Starred": "`*` unpacking",
    "List": "a list",
    "Dict": "a dict",
    "Set": "a set",
    "JoinedStr": "an f-string",
    "AnnAssign": "an annotated assignment",
}
# gast grows node types with Python; look each up so older gast versions work too.
_CONSTRUCTS = {getattr(gast, name): text for name, text in _CONSTRUCT_NAMES.items() if hasattr(gast, name)}

_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.MatMult, gast.FloorDiv, gast.Mod)
_UNARY = (gast.USub, gast.UAdd, gast.Not)
_COMPARE = (gast.Lt, gast.LtE, gast.Gt, gast.GtE, gast.Eq, gast.NotEq)


def check(source, tuple_return=False):
    """Raise TransformError at the first unsupported construct in `source.tree`.

    `tuple_return`: the function may return a tuple (it is called by the
    function differentiated, which unpacks it)."""
    fdef = source.tree
    if isinstance(fdef, gast.AsyncFunctionDef):
        raise source.error("adjit cannot differentiate an `async def`", fdef)
    args = fdef.args
    if args.vararg or args.kwarg:
        raise source.error("`*args` and `**kwargs` cannot be differentiated", fdef)
    if args.kwonlyargs:
        raise source.error("keyword-only arguments are not supported", fdef)
    for default in args.defaults:
        if not isinstance(default, gast.Constant):
            raise source.error("only constant default values are supported", default)
    refuse_writes.check(source, fdef)     # `out=`, `np.copyto`, `a.sort()`: writes not followed
    _check_body(source, fdef.body, tuple_return)


def _check_body(source, body, tuple_return=False):
    for stmt in body:
        _check_stmt(source, stmt, tuple_return)


def _check_stmt(source, stmt, tuple_return=False):
    kind = _CONSTRUCTS.get(type(stmt))
    if kind:
        raise source.error(f"adjit cannot differentiate {kind}", stmt)
    if isinstance(stmt, gast.Assign):
        if len(stmt.targets) != 1:
            raise source.error("chained assignment `a = b = ...` is not supported", stmt)
        target = stmt.targets[0]
        if isinstance(target, gast.Tuple):
            for element in target.elts:
                if isinstance(element, gast.Subscript):
                    _check_write(source, element)
                elif not isinstance(element, gast.Name):
                    raise source.error("only names and array elements can be unpacked into",
                                       element)
        elif isinstance(target, gast.Subscript):
            _check_write(source, target)
        elif not isinstance(target, gast.Name):
            _refuse_expr(source, target)
        _check_expr(source, stmt.value, allow_tuple=True)
    elif isinstance(stmt, gast.AugAssign):
        if isinstance(stmt.target, gast.Subscript):
            _check_write(source, stmt.target)
        elif not isinstance(stmt.target, gast.Name):
            _refuse_expr(source, stmt.target)
        if not isinstance(stmt.op, _OPS):
            raise source.error(f"the operator `{_op_text(stmt.op)}=` is not differentiable", stmt)
        _check_expr(source, stmt.value)
    elif isinstance(stmt, gast.Return):
        if stmt.value is None:
            raise source.error("the function must return a value", stmt)
        if isinstance(stmt.value, gast.Tuple) and not tuple_return:
            raise source.error("the differentiated function must return one scalar or array, not a tuple", stmt)
        _check_expr(source, stmt.value, allow_tuple=tuple_return)
    elif isinstance(stmt, gast.If):
        _check_expr(source, stmt.test, condition=True)
        _check_body(source, stmt.body, tuple_return)
        if stmt.orelse:
            _check_body(source, stmt.orelse, tuple_return)
    elif isinstance(stmt, gast.For):
        if not isinstance(stmt.target, gast.Name):
            raise source.error("a `for` loop must bind a single name", stmt.target)
        if stmt.orelse:
            raise source.error("`for ... else` is not supported", stmt)
        it = stmt.iter
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range":
            if not 1 <= len(it.args) <= 3 or it.keywords:
                raise source.error("`range` takes one to three arguments here", stmt.iter)
            for arg in it.args:
                _check_expr(source, arg)
        elif isinstance(it, (gast.Name, gast.Attribute, gast.Subscript, gast.Call, gast.BinOp)):
            _check_expr(source, it)         # the elements of a 1-D array, the rows of a 2-D one
        else:
            raise source.error("a `for` loop must run over `range(...)` or over an array", stmt.iter)
        for inner in walk(stmt):
            if isinstance(inner, (gast.Assign, gast.AugAssign)):
                targets = inner.targets if isinstance(inner, gast.Assign) else [inner.target]
                for t in targets:
                    for n in walk(t):
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) \
                                and n.id == stmt.target.id:
                            raise source.error(
                                f"the loop variable `{n.id}` is assigned inside its own loop", inner)
        _check_body(source, stmt.body, tuple_return)
    elif isinstance(stmt, gast.While):
        if stmt.orelse:
            raise source.error("`while ... else` is not supported", stmt)
        _check_expr(source, stmt.test, condition=True)
        _check_body(source, stmt.body, tuple_return)
    elif isinstance(stmt, (gast.Break, gast.Continue)):
        pass
    elif isinstance(stmt, gast.Expr):
        if not (isinstance(stmt.value, gast.Constant) and isinstance(stmt.value.value, str)):
            if isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Name) \
                    and stmt.value.func.id == "print":
                raise source.error("adjit cannot differentiate `print`", stmt)
            kind = _CONSTRUCTS.get(type(stmt.value))
            if kind:
                raise source.error(f"adjit cannot differentiate {kind}", stmt)
            raise source.error("an expression statement has no effect adjit can differentiate", stmt)
    elif isinstance(stmt, gast.Pass):
        pass
    else:
        raise source.error(f"adjit cannot differentiate a `{type(stmt).__name__}` statement", stmt)


def _check_write(source, target):
    """`a[i] = ...`: the array must be a variable, written with one subscript."""
    if not isinstance(target.value, gast.Name):
        if isinstance(target.value, gast.Subscript):
            raise source.error("write an element as `a[i, j] = ...`, not `a[i][j] = ...` "
                               "(`a[i]` may be a copy)", target)
        raise source.error("only a variable's elements can be written (`a[i] = ...`)", target)
    _check_expr(source, target)


def _refuse_expr(source, node):
    kind = _CONSTRUCTS.get(type(node))
    if kind is None:
        kind = f"a `{type(node).__name__}` expression"
    raise source.error(f"adjit cannot differentiate {kind}", node)


def _check_expr(source, node, allow_tuple=False, condition=False):
    if isinstance(node, gast.Tuple) and allow_tuple:
        for element in node.elts:
            _check_expr(source, element)
        return
    if isinstance(node, gast.Name) or (isinstance(node, gast.Attribute) and _is_dotted(node)):
        return      # a variable, a global constant such as `math.pi`, or `x.T`
    if isinstance(node, gast.Attribute):
        _check_expr(source, node.value)     # an attribute of a computed array: `(a @ b).T`
        return
    if isinstance(node, gast.Subscript):    # reading `x[i]`, `x[i, j]`, `x[1:]`, `x[:, 0]`
        _check_expr(source, node.value)
        for part in (node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]):
            if isinstance(part, gast.Slice):
                for bound in (part.lower, part.upper, part.step):
                    if bound is not None:
                        _check_expr(source, bound)
            else:
                _check_expr(source, part)
        return
    if isinstance(node, gast.Constant):
        if isinstance(node.value, complex):
            raise source.error("complex numbers are not supported", node)
        if not isinstance(node.value, (int, float, bool)) or node.value is None:
            raise source.error(f"the constant {node.value!r} is not a number", node)
        return
    if isinstance(node, gast.BinOp):
        if not isinstance(node.op, _OPS):
            raise source.error(f"the operator `{_op_text(node.op)}` is not differentiable", node)
        _check_expr(source, node.left)
        _check_expr(source, node.right)
        return
    if isinstance(node, gast.UnaryOp):
        if not isinstance(node.op, _UNARY):
            raise source.error(f"the operator `{_op_text(node.op)}` is not differentiable", node)
        _check_expr(source, node.operand, condition=isinstance(node.op, gast.Not))
        return
    if isinstance(node, gast.Compare):
        for op in node.ops:
            if not isinstance(op, _COMPARE):
                raise source.error(f"the comparison `{_op_text(op)}` is not supported", node)
        _check_expr(source, node.left)
        for comparator in node.comparators:
            _check_expr(source, comparator)
        return
    if isinstance(node, gast.BoolOp):
        for value in node.values:
            if not condition and not _is_boolean(value):
                raise source.error(
                    "`and`/`or` are supported on comparisons and in conditions only", node)
            _check_expr(source, value, condition=condition)
        return
    if isinstance(node, gast.Call):
        if isinstance(node.func, gast.Attribute) and not _is_dotted(node.func):
            _check_expr(source, node.func.value)     # a method of a computed array: `(x * 2).sum()`
        elif not _is_dotted(node.func):
            raise source.error("only calls of named functions (`f(x)`, `np.sin(x)`) are supported", node)
        for arg in node.args:
            if isinstance(arg, gast.Starred):
                raise source.error("`*` unpacking in a call is not supported", arg)
            _check_argument(source, arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                raise source.error("`**` unpacking in a call is not supported", node)
            _check_argument(source, keyword.value)
        return
    _refuse_expr(source, node)


def _check_argument(source, node):
    """A call's argument: a value, a tuple or list of them, nested (`np.zeros((n, m))`,
    `np.concatenate([a, b])`), `None` (`axis=None`) or a string (`np.einsum("ij,jk->ik", a, b)`)."""
    if isinstance(node, gast.Constant) and (node.value is None or isinstance(node.value, str)):
        return
    if isinstance(node, (gast.Tuple, gast.List)):
        for element in node.elts:
            if isinstance(element, gast.Starred):
                raise source.error("`*` unpacking in a call is not supported", element)
            _check_argument(source, element)
        return
    _check_expr(source, node)


def _is_boolean(node):
    return (isinstance(node, (gast.Compare, gast.BoolOp))
            or (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not))
            or (isinstance(node, gast.Constant) and isinstance(node.value, bool)))


def _is_dotted(node):
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name)


def _op_text(op):
    return {
        gast.BitAnd: "&", gast.BitOr: "|", gast.BitXor: "^", gast.LShift: "<<", gast.RShift: ">>",
        gast.Invert: "~", gast.Is: "is", gast.IsNot: "is not", gast.In: "in", gast.NotIn: "not in",
    }.get(type(op), type(op).__name__)
