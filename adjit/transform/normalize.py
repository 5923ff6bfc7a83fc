"""Normalisation pass: one operation per statement, with fresh temporaries.

Input: a checked gast `FunctionDef` after `control`. Output: an equivalent `FunctionDef` in
which every statement is one of

    name = atom                       (a copy)
    name = atom OP atom               (BinOp, Compare, BoolOp of atoms)
    name = OP atom                    (UnaryOp)
    name = f(atom, ..., kw=atom)      (a call of a known primitive)
    name = atom[index]                (an index of atoms, slices of atoms, or a tuple of them)
    name[index] = atom                (a write into an array)
    if name: ...  [else: ...]
    for name in range(atom, atom, atom): ...
    while name: ...  (or `while True:`)
    return name                       (last statement only; a tuple of names in a
                                       function called by the one differentiated)

where an atom is a Name or a numeric Constant. Augmented assignments become
plain ones, tuple assignments become one assignment per name, conditions are
bound to `cond` temporaries (`a and b` evaluates `b` only when `a` holds,
under an `if`, unless `b` is a plain name or number), and calls are spelled canonically (`np.sin`),
with the `Primitive` describing them stored on the call node as
`adjit_primitive`. Temporaries are named after their operation (`mul1`).
Invariant: the target of an assignment never appears among its operands, and
every new node carries the user's line number.
"""

import copy

import gast

from .names import walk
from .templates import PerElement

_OP_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div", gast.Pow: "pow",
    gast.MatMult: "matmul", gast.FloorDiv: "floordiv", gast.Mod: "mod",
    gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not",
}


def is_atom(node):
    return isinstance(node, (gast.Name, gast.Constant))


def name(id_, store=False):
    return gast.Name(id=id_, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def assign(target, value, like=None):
    stmt = gast.Assign(targets=[name(target, store=True)], value=value, type_comment=None)
    if like is not None:
        gast.copy_location(stmt, like)
    return stmt


def spelled(text):
    """The expression `np.sin` for the text "np.sin"."""
    return gast.parse(text).body[0].value


def written_array(stmt):
    """The array `stmt` writes into (`a` for `a[i] = v`), or None."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return stmt.targets[0].value.id
    return None


def integer(node):
    """The int a constant (or a negated one) holds, else None."""
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
            and isinstance(node.operand, gast.Constant) and type(node.operand.value) is int):
        return -node.operand.value
    return None


def op_name(op):
    return _OP_NAMES[type(op)]


def normalize(source, tree, namer, resolve_call, resolve_global, resolve_method):
    """Return the normalised copy of `source.tree`.

    `resolve_call(call_node)` returns the `Primitive` for a call,
    `resolve_global(name_node)` the number a global name stands for, or how
    generated code spells it when it is a type (`"np.float32"`) (a number is
    inlined, as Numba would), and `resolve_method(call_node, attr)` the
    Primitive an array method or attribute means (`x.sum()` is `np.sum(x)`;
    the call's arguments start with the array). Each raises TransformError at
    the user's line when it cannot.
    """
    return _Normalizer(source, tree, namer, resolve_call, resolve_global,
                       resolve_method).function(tree)


class _Normalizer:
    def __init__(self, source, tree, namer, resolve_call, resolve_global, resolve_method):
        self.source = source
        self.namer = namer
        self.resolve_call = resolve_call
        self.resolve_global = resolve_global
        self.resolve_method = resolve_method
        self.unpacking = None       # (call, names) while a call's results are unpacked
        self.names = {n.id for n in walk(tree) if isinstance(n, gast.Name)}  # not temporaries
        self.locals = {a.id for a in tree.args.args} | {
            n.id for n in walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}

    def function(self, fdef):
        body = self.block(fdef.body)
        new = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                               returns=None, type_comment=None, type_params=[])
        new.adjit_result = getattr(fdef, "adjit_result", None)
        return gast.copy_location(new, fdef)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            self.stmt(stmt, out)
        return out

    def stmt(self, stmt, out):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Tuple):
                self.unpack(target, stmt.value, stmt, out)
            elif isinstance(target, gast.Subscript):
                value = self.atom(stmt.value, stmt, out)
                out.append(self.write(target, value, stmt, out))
            else:
                self.assign_expr(target.id, stmt.value, stmt, out)
        elif isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript):
            # `a[i] += v`: `a` and `i` are evaluated once, as Python does.
            place = gast.Subscript(value=name(stmt.target.value.id),
                                   slice=self.index(stmt.target.slice, stmt, out), ctx=gast.Load())
            old = self.namer.temp("item")
            out.append(assign(old, place, stmt))
            value = gast.copy_location(gast.BinOp(left=name(old), op=stmt.op, right=stmt.value), stmt)
            new = self.atom(value, stmt, out)
            out.append(self.write(place, new, stmt, out, evaluated=True))
        elif isinstance(stmt, gast.AugAssign):
            value = gast.BinOp(left=name(stmt.target.id), op=stmt.op, right=stmt.value)
            gast.copy_location(value, stmt)
            start = len(out)
            self.assign_expr(stmt.target.id, value, stmt, out)
            for new in out[start:]:
                # `s += v` rebinds `s`; on an array NumPy would change it in place
                # (see `writes`).
                if isinstance(new.value, gast.BinOp) and isinstance(new.value.left, gast.Name) \
                        and new.value.left.id == stmt.target.id:
                    new.adjit_augmented = True
        elif isinstance(stmt, gast.Return) and isinstance(stmt.value, gast.Tuple):
            # A called function's several results, each in a name of its own.
            results = []
            params = {a.id for a in self.source.tree.args.args}
            for element in stmt.value.elts:
                if isinstance(element, gast.Name) and element.id in self.locals \
                        and element.id not in params and element.id not in [r.id for r in results]:
                    results.append(name(element.id))    # its own name: its seed is `b<name>`
                    continue
                result = self.namer.unique("result")
                self.assign_expr(result, element, stmt, out)
                results.append(name(result))
            value = gast.Tuple(elts=results, ctx=gast.Load())
            out.append(gast.copy_location(gast.Return(value=value), stmt))
        elif isinstance(stmt, gast.Return):
            value = stmt.value
            if isinstance(value, gast.Name):
                result = value.id
            else:
                result = self.namer.unique("result")
                self.assign_expr(result, value, stmt, out)
            out.append(gast.copy_location(gast.Return(value=name(result)), stmt))
        elif isinstance(stmt, gast.If):
            # Always a fresh name, even for `if flag:`: the reverse sweep tests it
            # again after the branch may have changed `flag` (a loop's back-edge).
            cond = self.condition(stmt.test, stmt, out)
            new = gast.If(test=name(cond.id), body=self.block(stmt.body),
                          orelse=self.block(stmt.orelse))
            if not new.body:
                new.body = [gast.Pass()]
            new.adjit_exits = getattr(stmt, "adjit_exits", (False, False))
            new.adjit_never = getattr(stmt, "adjit_never", (False, False))
            out.append(gast.copy_location(new, stmt))
        elif isinstance(stmt, gast.For):
            args = [self.atom(a, stmt, out) for a in stmt.iter.args]
            it = gast.Call(func=name("range"), args=args, keywords=[])
            body = self.block(stmt.body) or [gast.Pass()]
            new = gast.For(target=name(stmt.target.id, store=True), iter=it, body=body, orelse=[],
                           type_comment=None)
            out.append(_loop_facts(gast.copy_location(new, stmt), stmt))
        elif isinstance(stmt, gast.While):
            # `control` left the test a name (or the constant `True`).
            test = copy.deepcopy(stmt.test)
            new = gast.While(test=test, body=self.block(stmt.body) or [gast.Pass()], orelse=[])
            out.append(_loop_facts(gast.copy_location(new, stmt), stmt))
        # docstrings and `pass` produce nothing

    def write(self, target, value, stmt, out, evaluated=False):
        """The statement `a[index] = value` (`value` an atom), with the index reduced to atoms."""
        index = copy.deepcopy(target.slice) if evaluated else self.index(target.slice, stmt, out)
        place = gast.Subscript(value=name(target.value.id), slice=index, ctx=gast.Store())
        return gast.copy_location(gast.Assign(targets=[place], value=value, type_comment=None), stmt)

    def unpack(self, target, value, stmt, out):
        if not isinstance(value, gast.Tuple):
            # `n, m = x.shape`, `a, b = h(x)`: unpack the value's elements one by one.
            self.unpacking = (value, len(target.elts))
            whole = self.atom(value, stmt, out)
            self.unpacking = None
            if not isinstance(whole, gast.Name):
                raise self.source.error("only a tuple can be unpacked", stmt)
            value = gast.Tuple(elts=[gast.copy_location(
                gast.Subscript(value=name(whole.id), slice=gast.Constant(value=k, kind=None),
                               ctx=gast.Load()), stmt) for k in range(len(target.elts))],
                ctx=gast.Load())
        if len(value.elts) != len(target.elts):
            raise self.source.error(
                f"cannot unpack {len(value.elts)} values into {len(target.elts)} names", stmt)
        names = [t.id for t in target.elts if isinstance(t, gast.Name)]
        read = {n.id for n in walk(value) if isinstance(n, gast.Name)}
        if len(names) == len(target.elts) and not read & set(names) \
                and len(set(names)) == len(names):
            for t, v in zip(names, value.elts):
                self.assign_expr(t, v, stmt, out)
            return
        # `a, b = b, a + b`, `a[j], a[j + 1] = a[j + 1], a[j]`: every value is read
        # (a name about to be assigned, into a copy) before anything is assigned.
        atoms = []
        for v in value.elts:
            a = self.atom(v, stmt, out)
            if isinstance(a, gast.Name) and a.id in names:
                copy_ = self.namer.temp(a.id)
                out.append(assign(copy_, a, stmt))
                a = name(copy_)
            atoms.append(a)
        for t, a in zip(target.elts, atoms):
            if isinstance(t, gast.Subscript):
                out.append(self.write(t, a, stmt, out))
            else:
                out.append(assign(t.id, a, stmt))

    def condition(self, test, stmt, out):
        rhs = self.rhs(test, stmt, out)
        cond = self.namer.temp("cond")
        out.append(assign(cond, rhs, stmt))
        return name(cond)

    def assign_expr(self, target, value, stmt, out):
        """Emit statements computing `value` into `target`."""
        rhs = self.rhs(value, stmt, out)
        operands = {n.id for n in walk(rhs) if isinstance(n, gast.Name)}
        if target in operands and not is_atom(rhs):
            temp = self.namer.temp(self.base_name(rhs))
            out.append(assign(temp, rhs, stmt))
            rhs = name(temp)
        out.append(assign(target, rhs, stmt))

    def atom(self, expr, stmt, out):
        """Reduce `expr` to a Name or Constant, emitting temporaries."""
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub) \
                and _is_number(expr.operand):
            return gast.Constant(value=-expr.operand.value, kind=None)
        if isinstance(expr, gast.Constant):
            return gast.Constant(value=expr.value, kind=None)
        if (isinstance(expr, gast.Attribute) and not self.is_method(expr)) or (
                isinstance(expr, gast.Name) and expr.id not in self.locals
                and expr.id in self.names):
            value = self.resolve_global(expr)
            if isinstance(value, str):          # a type, spelled for generated code
                return spelled(value)
            return gast.Constant(value=value, kind=None)
        if isinstance(expr, gast.Name):
            return name(expr.id)
        rhs = self.rhs(expr, stmt, out)
        temp = self.namer.temp(self.base_name(rhs))
        out.append(assign(temp, rhs, stmt))
        return name(temp)

    def rhs(self, expr, stmt, out):
        """Reduce `expr` to one operation on atoms, emitting temporaries for its operands."""
        where = expr if getattr(expr, "lineno", None) else stmt   # for multi-line statements
        if is_atom(expr) or (isinstance(expr, gast.Attribute) and not self.is_method(expr)) or (
                isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)
                and _is_number(expr.operand)):
            return self.atom(expr, where, out)
        if isinstance(expr, gast.BinOp):
            left = self.atom(expr.left, where, out)
            right = self.atom(expr.right, where, out)
            return gast.BinOp(left=left, op=expr.op, right=right)
        if isinstance(expr, gast.UnaryOp):
            return gast.UnaryOp(op=expr.op, operand=self.atom(expr.operand, where, out))
        if isinstance(expr, gast.Compare):
            if len(expr.ops) == 1:
                left = self.atom(expr.left, where, out)
                right = self.atom(expr.comparators[0], where, out)
                return gast.Compare(left=left, ops=expr.ops, comparators=[right])
            parts = []
            left = self.atom(expr.left, where, out)
            for op, comparator in zip(expr.ops, expr.comparators):
                right = self.atom(comparator, where, out)
                temp = self.namer.temp("cmp")
                out.append(assign(temp, gast.Compare(left=left, ops=[op], comparators=[right]), where))
                parts.append(name(temp))
                left = right
            return gast.BoolOp(op=gast.And(), values=parts)
        if isinstance(expr, gast.BoolOp):
            if all(self.is_simple(v) for v in expr.values[1:]):
                values = [self.atom(v, where, out) for v in expr.values]
                return gast.BoolOp(op=expr.op, values=values)
            return self.short_circuit(expr, where, out)
        if isinstance(expr, gast.Subscript):
            value = self.atom(expr.value, where, out)
            return gast.Subscript(value=value, slice=self.index(expr.slice, where, out),
                                  ctx=gast.Load())
        if isinstance(expr, gast.Attribute):        # `x.T`: a method without arguments
            expr = gast.copy_location(gast.Call(func=expr, args=[], keywords=[]), where)
        if isinstance(expr, gast.Call) and self.is_method(expr.func):
            method = gast.Call(func=expr.func, args=[expr.func.value] + expr.args,
                               keywords=expr.keywords)
            gast.copy_location(method, expr)
            prim = self.resolve_method(method, expr.func.attr)
            expr = method
        elif isinstance(expr, gast.Call):
            if isinstance(expr.func, gast.Name) and expr.func.id in ("max", "min") \
                    and len(expr.args) > 2 and not expr.keywords:
                # `max(a, b, c)` is `max(max(a, b), c)`.
                inner = gast.copy_location(
                    gast.Call(func=expr.func, args=expr.args[:-1], keywords=[]), expr)
                expr = gast.copy_location(
                    gast.Call(func=expr.func, args=[inner, expr.args[-1]], keywords=[]), expr)
                return self.rhs(expr, where, out)
            prim = self.resolve_call(expr)
            if prim.results > 1:
                whole, count = self.unpacking or (None, 0)
                if expr is not whole:
                    raise self.source.error(
                        f"`{gast.unparse(expr.func).strip()}` returns {prim.results} values: "
                        "unpack them where it is called (`a, b = f(...)`)", where)
                if count != prim.results:
                    raise self.source.error(
                        f"cannot unpack {prim.results} values into {count} names", where)
        if isinstance(expr, gast.Call):
            args = [self.argument(a, where, out) for a in expr.args]
            keywords = [gast.keyword(arg=k.arg, value=self.argument(k.value, where, out))
                        for k in expr.keywords]
            call = gast.Call(func=spelled(prim.spelling), args=args, keywords=keywords)
            call.adjit_primitive = prim
            self.check_tuple_arguments(prim, call, where)
            return call
        raise self.source.error(f"adjit cannot differentiate `{gast.unparse(expr)}`", where)

    def check_tuple_arguments(self, prim, call, where):
        """A parameter with one gradient per element (`np.concatenate`'s arrays) needs
        the elements written out: a tuple or list, not one array holding them. Any other
        parameter a gradient flows through takes no tuple of names (`h((x, y))`): its
        gradient could not be split among them."""
        bound = dict(zip(prim.params, call.args))
        bound.update((k.arg, k.value) for k in call.keywords)
        text = gast.unparse(call.func).strip()
        for param, grad in zip(prim.params, prim.grads):
            if param not in bound or grad is None:
                continue
            arg = bound[param]
            if isinstance(grad, PerElement) and not isinstance(arg, gast.Tuple):
                raise self.source.error(
                    f"`{text}` can be differentiated with its arrays written out as a tuple "
                    f"or list (`({gast.unparse(arg).strip()}, ...)`), not given as one array",
                    where)
            if not isinstance(grad, PerElement) and isinstance(arg, gast.Tuple) and any(
                    isinstance(n, gast.Name) for n in walk(arg)):
                raise self.source.error(
                    f"a tuple or list of values passed to `{text}` cannot be differentiated; "
                    "pass them as separate arguments (or an array)", where)

    def argument(self, expr, where, out):
        """A call's argument as an atom, or a tuple of them (a shape, `axis=(0, 1)`,
        `np.concatenate([a, b])`, `np.array([[a, b], [c, d]])`): a list becomes a tuple."""
        if isinstance(expr, (gast.Tuple, gast.List)):
            return gast.Tuple(elts=[self.argument(e, where, out) for e in expr.elts],
                              ctx=gast.Load())
        return self.atom(expr, where, out)

    def is_simple(self, expr):
        """Whether `expr` becomes an atom without computing anything."""
        return isinstance(expr, (gast.Name, gast.Constant)) or (
            isinstance(expr, gast.Attribute) and not self.is_method(expr))

    def short_circuit(self, expr, where, out):
        """`a and b` evaluating `b` only when `a` holds (`or`: when it does not),
        as Python does: `b` may index out of range when `a` is false."""
        cond = self.namer.temp("cond")
        out.append(assign(cond, self.atom(expr.values[0], where, out), where))
        rest = expr.values[1:]
        later = rest[0] if len(rest) == 1 else gast.BoolOp(op=expr.op, values=rest)
        inner = []
        inner.append(assign(cond, self.rhs(later, where, inner), where))
        if isinstance(expr.op, gast.And):
            test = gast.If(test=name(cond), body=inner, orelse=[])
        else:
            test = gast.If(test=name(cond), body=[gast.Pass()], orelse=inner)
        out.append(gast.copy_location(test, where))
        return name(cond)

    def index(self, index, where, out):
        """The index of a subscript with every bound reduced to an atom."""
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, where, out) for e in index.elts], ctx=gast.Load())
        if isinstance(index, gast.Slice):
            return gast.Slice(**{k: None if getattr(index, k) is None
                                 else self.atom(getattr(index, k), where, out)
                                 for k in ("lower", "upper", "step")})
        return self.atom(index, where, out)

    def is_method(self, node):
        """Whether the Attribute `node` is a method or attribute of an array
        (`x.sum`, `(a @ b).T`) rather than a module's name (`np.sin`, `math.pi`)."""
        if not isinstance(node, gast.Attribute):
            return False
        root = node.value
        while isinstance(root, gast.Attribute):
            root = root.value
        return not isinstance(root, gast.Name) or root.id in self.locals

    def base_name(self, rhs):
        if isinstance(rhs, (gast.BinOp, gast.UnaryOp)):
            return op_name(rhs.op)
        if isinstance(rhs, gast.Call):
            return rhs.adjit_primitive.name
        if isinstance(rhs, (gast.Compare, gast.BoolOp)):
            return "cmp"
        if isinstance(rhs, gast.Subscript):
            return "item"
        return "tmp"


def _loop_facts(new, old):
    """Carry what `control` noted about a loop onto its normalised copy."""
    new.adjit_exit = getattr(old, "adjit_exit", None)
    return new


def _is_number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)
