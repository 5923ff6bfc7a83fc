"""Tangent transform (forward mode): a function in, one computing its value and tangent out.

Input: `FunctionDef`s in the subset generated code is made of: the primal of a
normalised user function (`pipeline.primal_functions`), an adjoint from `reverse`
(stacks, undo logs and helper calls included), or a tangent function this pass made
(for third derivatives). That is: assignments to a name or to an array element,
helper calls as statements, `if`, `for ... in range(...)`, `while`, `break`, and one
final `return`. Output: `<f>_tangent(*params, *tangents)` returning
`(result, tangent of result)`, with a tangent parameter for each `wrt` name, and the
tangent function of every module function it calls with a varied argument (those
take a tangent for each of their parameters).

Each statement `y = op(a, b)` gets a tangent statement `dy = ...` after it (before
it when `y` is also an operand): the tangent rule of `op`, instantiated on the
operands and their tangents (`dy = da * np.cos(a)`). A `TangentRule` either gives
one term per parameter, linear in that parameter's tangent `g` (summed over the
varied parameters; `this(x=g)` in a term is the same call with `g` for `x`), or says
the operation is jointly linear in some parameters, in which case the tangent is the
same call on their tangents: stacks, undo logs and the adjoint's in-place updates are
mirrored by the tangent's own (`dstack_s[i] = ds`, `dbx = add_at(dbx, i, dg)`). Only
names depending on a `wrt` input (varied) get a tangent; a varied nested expression
is first bound to a temporary.
Invariant: wherever the function holds a value `y`, the tangent function holds `y`
and its tangent `dy`; tangent arrays share memory exactly where the primal's arrays
do, so a write in place changes both alike.
"""

import copy
import dataclasses

import gast

from .names import Namer, names_in
from .normalize import op_name
from .templates import fold, instantiate

THIS = "this"       # in a term: the same operation, with the arguments given replaced
ANS = "__adjit_ans__"   # the result, in a tangent not yet placed


@dataclasses.dataclass(frozen=True, eq=False)
class TangentRule:
    """How to differentiate one operation in forward mode."""

    name: str                # base for temporaries
    params: tuple            # parameter names, in call order
    defaults: tuple = ()     # (name, constant) pairs
    terms: tuple = None      # per parameter: a template in g, ans and the params, or None
    linear: tuple = None     # or: the parameters in which it is jointly linear
    mutates: tuple = ()      # parameters (of `linear`) the call changes in place
    broadcast: bool = False  # terms may need spreading to the result's shape

    def differentiable(self):
        if self.linear is not None:
            return set(self.linear)
        return {p for p, t in zip(self.params, self.terms or ()) if t is not None}


def tangent_functions(functions, entry, wrt, resolve, op_rule, source, reserved, prefix="d"):
    """The tangent of `entry` w.r.t. `wrt`, and those of the module functions it needs.

    `functions` maps the name of each module function (callable from `entry`) to its
    FunctionDef; `resolve(call, spelling)` gives the TangentRule of any other call (or
    None), `op_rule(op_name)` that of an operator; `reserved` are names the module uses
    at top level. Returns the new FunctionDefs, callees first, `entry`'s tangent last."""
    module = _Module(functions, resolve, op_rule, source, reserved, prefix)
    tangent = module.tangent(entry, list(wrt))
    return module.made + [tangent]


def tangent_name(function_name, taken):
    base = function_name + "_tangent"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


class _Module:
    def __init__(self, functions, resolve, op_rule, source, reserved, prefix):
        self.functions = functions
        self.resolve = resolve
        self.op_rule = op_rule
        self.source = source
        self.prefix = prefix
        self.taken = set(reserved) | set(functions)
        self.names = {}     # callee name -> its tangent's name
        self.made = []      # tangent functions of callees, callees first

    def callee(self, fname):
        """The name of the tangent of module function `fname` (all parameters varied)."""
        if fname not in self.names:
            self.names[fname] = None     # recursion is refused before this pass
            fdef = self.functions[fname]
            tangent = self.tangent(fdef, [a.id for a in fdef.args.args])
            self.made.append(tangent)
            self.names[fname] = tangent.name
        return self.names[fname]

    def tangent(self, fdef, wrt):
        name = tangent_name(fdef.name, self.taken)
        self.taken.add(name)
        new = _Function(self, copy.deepcopy(fdef), wrt).generate(name)
        return new


def _name(id_, store=False):
    return gast.Name(id=id_, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def _call(func, *args):
    return gast.Call(func=_name(func), args=list(args), keywords=[])


def _const(value):
    return gast.Constant(value=value, kind=None)


def _assign(target, value, like):
    target = _name(target, store=True) if isinstance(target, str) else target
    stmt = gast.Assign(targets=[target], value=value, type_comment=None)
    return gast.copy_location(stmt, like)


def _reads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and not isinstance(n.ctx, gast.Store)}


def _is_atom(node):
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return isinstance(node.operand, gast.Constant)
    return _is_module_attribute(node)


def _is_module_attribute(node):
    """`np.pi`, `math.e`: a constant of a module."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id in ("np", "math")


def _spelling(func):
    return gast.unparse(func).strip()


class _Function:
    """The tangent of one function."""

    def __init__(self, module, fdef, wrt):
        self.module = module
        self.fdef = fdef
        self.wrt = wrt
        self.params = [a.id for a in fdef.args.args]
        self.namer = Namer(names_in(fdef) | module.taken)
        self.tangents = {}
        self.rules = {}         # id(node) -> TangentRule, or a module function's name

    # ---- what each operation is --------------------------------------------
    def rule(self, node, where, required=True):
        """The TangentRule of a BinOp, UnaryOp or Call (cached), or the name of a module
        function for a call of one. Without a rule: an error, or None if not `required`."""
        key = id(node)
        if key not in self.rules:
            if isinstance(node, (gast.BinOp, gast.UnaryOp)):
                rule = self.module.op_rule(op_name(node.op))
            elif isinstance(node, gast.Call):
                spelling = _spelling(node.func)
                if spelling in self.module.functions:
                    rule = spelling
                else:
                    rule = self.module.resolve(node, spelling)
            else:
                rule = None
            self.rules[key] = rule
        rule = self.rules[key]
        if rule is None and required:
            text = _spelling(node.func) if isinstance(node, gast.Call) else gast.unparse(node).strip()
            prim = getattr(node, "adjit_primitive", None)
            why = " (it has a custom gradient, which is not differentiated again)" \
                if prim is not None and prim.externals else _why(text)
            raise self.module.source.error(
                f"adjit has no forward-mode (tangent) rule for `{text}`, so it cannot take "
                "this derivative" + why, where)
        return rule

    def bound(self, node, rule):
        """Parameter name -> argument expression, for an operation with a TangentRule."""
        if isinstance(node, gast.BinOp):
            return dict(zip(rule.params, [node.left, node.right]))
        if isinstance(node, gast.UnaryOp):
            return dict(zip(rule.params, [node.operand]))
        if len(node.args) > len(rule.params):
            raise self.module.source.error(
                f"`{_spelling(node.func)}` is called with more arguments than adjit's tangent "
                "rule for it takes", node)
        bound = dict(zip(rule.params, node.args))
        for keyword in node.keywords:
            bound[keyword.arg] = keyword.value
        for param, value in rule.defaults:
            bound.setdefault(param, _const(value))
        return bound

    def differentiable_args(self, node, where):
        """The argument expressions of `node` a derivative flows through."""
        if isinstance(node, gast.Attribute):
            return [node.value] if node.attr == "T" and not _is_module_attribute(node) else []
        if isinstance(node, gast.Subscript):
            return [node.value]
        if isinstance(node, (gast.Tuple, gast.List)):
            return list(node.elts)
        if not isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Call)):
            return []
        rule = self.rule(node, where)
        if isinstance(rule, str):
            return list(node.args) + [k.value for k in node.keywords]
        bound = self.bound(node, rule)
        return [bound[p] for p in rule.params if p in rule.differentiable() and p in bound]

    def varies(self, node, where):
        """Whether the value of expression `node` depends on a varied name."""
        if isinstance(node, gast.Name):
            return node.id in self.varied
        if _is_atom(node) or isinstance(node, (gast.Compare, gast.BoolOp)):
            return False
        if isinstance(node, gast.Call) and not any(
                self.varies(a, where) for a in node.args + [k.value for k in node.keywords]):
            return False        # (whatever it is: no rule needed)
        return any(self.varies(a, where) for a in self.differentiable_args(node, where))

    # ---- analyses ------------------------------------------------------------
    def analyse(self):
        """The varied names (flow-insensitively, to a fixpoint) and the names of arrays
        changed in place."""
        self.varied = set(self.wrt)
        self.mutated = set()
        statements = [s for s in gast.walk(self.fdef) if isinstance(s, (gast.Assign, gast.Expr))]
        for stmt in statements:
            target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
            if isinstance(target, gast.Subscript):
                self.mutated.add(_base(target))
            for name in self.mutated_args(stmt.value, stmt):
                self.mutated.add(name)
        changed = True
        while changed:
            changed = False
            for stmt in statements:
                new = set()
                target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
                if self.varies(stmt.value, stmt):
                    if isinstance(target, gast.Name):
                        new.add(target.id)
                    elif isinstance(target, gast.Subscript):
                        new.add(_base(target))
                    new |= set(self.mutated_args(stmt.value, stmt))
                if isinstance(target, gast.Name) and target.id in self.varied | new \
                        and target.id in self.mutated:
                    # A write through `t` changes what it was made from too.
                    new |= set(_alias_sources(stmt.value))
                if isinstance(target, gast.Name) and target.id in self.mutated:
                    for source in _alias_sources(stmt.value):
                        if source not in self.mutated:
                            self.mutated.add(source)
                            changed = True
                if new - self.varied:
                    self.varied |= new
                    changed = True
        # Names that may share memory with an array written in place (either way round
        # through copies of names, elements and slices): their tangents may change too.
        self.shared = set(self.mutated)
        changed = True
        while changed:
            changed = False
            for stmt in statements:
                target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
                if not isinstance(target, gast.Name):
                    continue
                group = {target.id, *_alias_sources(stmt.value)}
                if group & self.shared and not group <= self.shared:
                    self.shared |= group
                    changed = True

    def mutated_args(self, value, where):
        """Names a helper call `value` changes in place."""
        if not isinstance(value, gast.Call):
            return []
        rule = self.rule(value, where, required=False)
        if rule is None or isinstance(rule, str) or not rule.mutates:
            return []
        bound = self.bound(value, rule)
        return [bound[p].id for p in rule.mutates if isinstance(bound.get(p), gast.Name)]

    # ---- names ---------------------------------------------------------------
    def d(self, var):
        """The tangent of name `var`: `dx` for `x`."""
        if var not in self.tangents:
            self.tangents[var] = self.namer.unique(self.module.prefix + var)
        return self.tangents[var]

    def tangent_of_atom(self, node):
        """The tangent of an argument: its tangent's name, or a zero like it."""
        if isinstance(node, gast.Name) and node.id in self.varied:
            return _name(self.d(node.id))
        if isinstance(node, (gast.Tuple, gast.List)):     # `np.concatenate((a, b))`
            return gast.Tuple(elts=[self.tangent_of_atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Name) or not _is_atom(node):
            return _call("zeros_like", copy.deepcopy(node))
        return _const(0.0)

    # ---- generation ----------------------------------------------------------
    def generate(self, name):
        fdef = self.fdef
        self.analyse()
        wrt_tangents = [self.d(w) for w in self.wrt]
        body = []
        for param in self.params:
            if param in self.varied and param not in self.wrt:
                body.append(_assign(self.d(param), _call("zeros_like", _name(param)), fdef))
        body += self.block(fdef.body)
        args = copy.deepcopy(fdef.args)
        args.defaults = []
        for t in wrt_tangents:
            args.args.append(gast.Name(id=t, ctx=gast.Param(), annotation=None, type_comment=None))
        new = gast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                               type_comment=None, type_params=[])
        return gast.copy_location(new, fdef)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            self.statement(stmt, out)
        return out

    def statement(self, stmt, out):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            self.assign(stmt.targets[0].id, stmt.value, stmt, out)
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            self.write(stmt, out)
        elif isinstance(stmt, gast.Expr):
            self.expression_statement(stmt, out)
        elif isinstance(stmt, gast.If):
            new = gast.If(test=stmt.test, body=self.block(stmt.body) or [gast.Pass()],
                          orelse=self.block(stmt.orelse))
            out.append(gast.copy_location(new, stmt))
        elif isinstance(stmt, gast.For):
            body = self.block(stmt.body)
            if stmt.target.id in self.varied:       # assigned elsewhere too: a range's is 0
                body.insert(0, _assign(self.d(stmt.target.id), _const(0.0), stmt))
            new = gast.For(target=stmt.target, iter=stmt.iter, body=body, orelse=[],
                           type_comment=None)
            out.append(gast.copy_location(new, stmt))
        elif isinstance(stmt, gast.While):
            new = gast.While(test=stmt.test, body=self.block(stmt.body), orelse=[])
            out.append(gast.copy_location(new, stmt))
        elif isinstance(stmt, (gast.Break, gast.Continue, gast.Pass)):
            out.append(stmt)
        elif isinstance(stmt, gast.Return) and stmt is self.fdef.body[-1]:
            value = self.flat(stmt.value, stmt, out)
            both = gast.Tuple(elts=[value, self.tangent_of_result(value)], ctx=gast.Load())
            out.append(gast.copy_location(gast.Return(value=both), stmt))
        else:
            raise self.module.source.error(
                f"adjit cannot take the tangent of the statement `{gast.unparse(stmt).strip()}`",
                stmt)

    def tangent_of_result(self, node):
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.tangent_of_result(e) for e in node.elts], ctx=gast.Load())
        return self.tangent_of_atom(node)

    def flat(self, node, where, out):
        """`node` with every varied operand that is not a name bound to a temporary first."""
        if _is_atom(node) or not self.varies(node, where):
            return node
        if isinstance(node, gast.Tuple):
            node.elts = [self.flat(e, where, out) if isinstance(e, gast.Tuple)
                         else self.atom(e, where, out) for e in node.elts]
            return node
        if isinstance(node, (gast.Subscript, gast.Attribute)):
            node.value = self.atom(node.value, where, out)
            return node
        if isinstance(node, gast.BinOp):
            node.left = self.operand(node, node.left, where, out)
            node.right = self.operand(node, node.right, where, out)
        elif isinstance(node, gast.UnaryOp):
            node.operand = self.operand(node, node.operand, where, out)
        elif isinstance(node, gast.Call):
            node.args = [self.operand(node, a, where, out) for a in node.args]
            for keyword in node.keywords:
                keyword.value = self.operand(node, keyword.value, where, out)
        return node

    def operand(self, parent, arg, where, out):
        """An argument of a varied operation, made a name if the tangent needs its value."""
        if _is_atom(arg) or isinstance(arg, gast.Tuple):
            return arg
        rule = self.rule(parent, where)
        if isinstance(rule, str) or self.varies(arg, where):
            return self.atom(arg, where, out)
        bound = self.bound(parent, rule)
        if any(a is arg for p, a in bound.items() if p in rule.differentiable()):
            return self.atom(arg, where, out)   # a term reads it, or its zero is needed
        return arg

    def atom(self, node, where, out):
        """`node` as a name (bound to a temporary and differentiated if it is not one)."""
        if _is_atom(node):
            return node
        temp = self.namer.temp(self.base_name(node, where))
        if self.varies(node, where):
            self.varied.add(temp)
        self.assign(temp, node, where, out)
        return _name(temp)

    def base_name(self, node, where):
        if isinstance(node, (gast.BinOp, gast.UnaryOp)):
            return op_name(node.op)
        if isinstance(node, gast.Call):
            rule = self.rule(node, where)
            return rule if isinstance(rule, str) else rule.name
        if isinstance(node, gast.Subscript):
            return "item"
        if isinstance(node, gast.Attribute):
            return node.attr
        return "tmp"

    def assign(self, target, value, where, out):
        """`target = value` and its tangent."""
        if not self.varies(value, where):
            out.append(_assign(target, value, where))
            if target in self.varied:
                out.append(_assign(self.d(target), self.zero(target, value, where), where))
            return
        value = self.flat(value, where, out)
        if isinstance(value, gast.Call) and isinstance(self.rule(value, where), str):
            self.call_function(target, value, where, out)
            return
        tangent = self.tangent(value, where)
        uses_ans = ANS in _reads(tangent)
        if self.fresh(value, where) and not _fresh(tangent) and (
                target in self.shared
                or _reads(tangent) & {self.tangents.get(n) for n in self.shared}):
            tangent = _call("snapshot", tangent)     # the primal's value is a new array
        if target in _reads(value):
            if uses_ans:
                temp = self.namer.temp(self.base_name(value, where))
                out.append(_assign(temp, value, where))
                out.append(_assign(self.d(target), _rename(tangent, ANS, temp), where))
                out.append(_assign(target, _name(temp), where))
            else:
                out.append(_assign(self.d(target), tangent, where))
                out.append(_assign(target, value, where))
        else:
            out.append(_assign(target, value, where))
            out.append(_assign(self.d(target), _rename(tangent, ANS, target), where))

    def zero(self, target, value, where):
        """The tangent of `target = value` where nothing in `value` varies: a zero like
        `target`, or, for a stack or undo log (a linear helper's result), the same call
        on zeros, which has the structure later writes into it expect."""
        rule = self.rule(value, where, required=False) if isinstance(value, gast.Call) else None
        if isinstance(rule, TangentRule) and rule.linear:
            bound = self.bound(value, rule)
            return _this(value, rule, {p: self.tangent_of_atom(bound[p])
                                       for p in rule.linear if p in bound})
        return _call("zeros_like", _name(target))

    def fresh(self, value, where):
        """Whether `value` is certainly a new object (not a name, a view or an in-place result)."""
        if isinstance(value, (gast.BinOp, gast.UnaryOp)):
            return True
        if isinstance(value, gast.Call):
            rule = self.rule(value, where)
            return isinstance(rule, TangentRule) and rule.linear is None
        return False

    def call_function(self, target, call, where, out):
        """`t = h(a, b)` for a module function `h`: its tangent gives both `t` and `dt`."""
        fname = _spelling(call.func)
        fdef = self.module.functions[fname]
        params = [a.id for a in fdef.args.args]
        defaults = dict(zip(params[len(params) - len(fdef.args.defaults):], fdef.args.defaults))
        bound = dict(zip(params, call.args))
        for keyword in call.keywords:
            bound[keyword.arg] = keyword.value
        args = [bound.get(p, defaults.get(p)) for p in params]
        if any(a is None for a in args):
            raise self.module.source.error(f"`{fname}` is called without all its arguments", where)
        tangent_fn = self.module.callee(fname)
        pair = self.namer.temp("pair")
        call = gast.Call(func=_name(tangent_fn),
                         args=[copy.deepcopy(a) for a in args]
                         + [self.tangent_of_atom(a) for a in args], keywords=[])
        out.append(_assign(pair, call, where))
        for k, name in enumerate([target, self.d(target)]):
            element = gast.Subscript(value=_name(pair), slice=_const(k), ctx=gast.Load())
            out.append(_assign(name, element, where))

    def tangent(self, value, where):
        """The tangent of the flat expression `value` (whose result is `__adjit_ans__`)."""
        if isinstance(value, gast.Name):
            return _name(self.d(value.id))
        if isinstance(value, gast.Subscript):
            return gast.Subscript(value=_name(self.d(value.value.id)),
                                  slice=copy.deepcopy(value.slice), ctx=gast.Load())
        if isinstance(value, gast.Attribute):       # `a.T`
            return gast.Attribute(value=_name(self.d(value.value.id)), attr=value.attr,
                                  ctx=gast.Load())
        rule = self.rule(value, where)
        bound = self.bound(value, rule)
        if rule.linear is not None:
            replaced = {p: self.tangent_of_atom(bound[p]) for p in rule.linear if p in bound}
            return _this(value, rule, replaced)
        terms = []
        mapping = {p: a for p, a in bound.items()}
        mapping["ans"] = _name(ANS)
        for param, template in zip(rule.params, rule.terms):
            arg = bound.get(param)
            if template is None or arg is None or not self.varies(arg, where):
                continue
            term = instantiate(template, dict(mapping, g=_name(self.d(arg.id))))
            terms.append(_expand_this(term, value, rule))
        total = terms[0]
        for term in terms[1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=term)
        total = fold(total)
        if rule.broadcast and not self.covers(total, bound):
            total = _call("tangent_like", total, _name(ANS))
        return total

    def covers(self, tangent, bound):
        """Whether `tangent` certainly has the result's shape: it reads the result, or
        every operand that is a name or its tangent (so it broadcasts as the operation did)."""
        reads = _reads(tangent)
        if ANS in reads:
            return True
        return all(a.id in reads or self.tangents.get(a.id) in reads
                   for a in bound.values() if isinstance(a, gast.Name))

    def write(self, stmt, out):
        """`a[i] = v`, and `da[i] = dv` when `a` has a tangent."""
        target = stmt.targets[0]
        array = _base(target)
        value = stmt.value
        if array in self.varied and not _is_atom(value) and self.varies(value, stmt):
            value = self.atom(value, stmt, out)
        out.append(gast.copy_location(
            gast.Assign(targets=[target], value=value, type_comment=None), stmt))
        if array not in self.varied:
            return
        if self.varies(value, stmt):
            tangent = self.tangent(value, stmt) if not isinstance(value, gast.Name) \
                else _name(self.d(value.id))
        else:
            tangent = _call("zeros_like", copy.deepcopy(value)) if not _is_atom(value) \
                or isinstance(value, gast.Name) else _const(0.0)
        place = _retarget(copy.deepcopy(target), {array: self.d(array)})
        out.append(gast.copy_location(
            gast.Assign(targets=[place], value=tangent, type_comment=None), stmt))

    def expression_statement(self, stmt, out):
        """A helper called for what it does in place (`undo_write(log_a, a, i)`): the
        tangent does the same to the tangents."""
        call = stmt.value
        varied = isinstance(call, gast.Call) and self.varies(call, stmt)
        if varied:
            stmt.value = call = self.flat(call, stmt, out)
        out.append(stmt)
        if varied:
            rule = self.rule(call, stmt)
            if isinstance(rule, TangentRule) and rule.linear is not None and rule.mutates:
                out.append(gast.copy_location(gast.Expr(value=self.tangent(call, stmt)), stmt))


def _why(spelling):
    if spelling.endswith("_vjp"):
        return " (a custom gradient rule is not differentiated again)"
    return ""


def _base(target):
    node = target
    while isinstance(node, gast.Subscript):
        node = node.value
    return node.id


def _alias_sources(value):
    """Names whose memory `value` may share (a copy of the name, an element or slice)."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
        return [value.value.id]
    return []


def _fresh(tangent):
    """Whether the tangent expression certainly makes a new value."""
    if isinstance(tangent, (gast.BinOp, gast.UnaryOp, gast.Constant)):
        return True
    return isinstance(tangent, gast.Call) and isinstance(tangent.func, gast.Name) \
        and tangent.func.id in ("zeros_like", "snapshot")


def _rename(node, old, new):
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id == old:
            n.id = new
    return node


def _retarget(node, mapping):
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id in mapping and not isinstance(n.ctx, gast.Load):
            n.id = mapping[n.id]
    base = node
    while isinstance(base, gast.Subscript):
        base = base.value
    if base.id in mapping:
        base.id = mapping[base.id]
    return node


def _this(value, rule, replaced):
    """A copy of operation `value` with the arguments of the parameters in `replaced` swapped."""
    new = copy.deepcopy(value)
    if isinstance(new, gast.BinOp):
        for param, field in zip(rule.params, ("left", "right")):
            if param in replaced:
                setattr(new, field, replaced[param])
        return new
    if isinstance(new, gast.UnaryOp):
        if rule.params[0] in replaced:
            new.operand = replaced[rule.params[0]]
        return new
    for k, param in enumerate(rule.params[:len(new.args)]):
        if param in replaced:
            new.args[k] = replaced[param]
    given = set(rule.params[:len(new.args)])
    for keyword in new.keywords:
        if keyword.arg in replaced:
            keyword.value = replaced[keyword.arg]
        given.add(keyword.arg)
    for param, arg in replaced.items():
        if param not in given:
            new.keywords.append(gast.keyword(arg=param, value=arg))
    return new


def _expand_this(term, value, rule):
    """Replace each `this(p=v, ...)` in `term` by the operation `value` with `v` for `p`."""
    class Expand(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, gast.Name) and node.func.id == THIS:
                return _this(value, rule, {k.arg: k.value for k in node.keywords})
            return node
    return Expand().visit(term)
