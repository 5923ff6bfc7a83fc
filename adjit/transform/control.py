"""Control-flow lowering: loops of one shape, and exits as flags.

Input: a checked gast `FunctionDef` (the user's code). Output: an equivalent
`FunctionDef` without `break`, `continue`, or any `return` but the last
statement, in which

- `for v in xs:` runs over `range(len(xs))` and starts its body with
  `v = xs[k]`;
- `while test:` computes `cond = test` before the loop and again at the end
  of its body, and tests the name (`while True:` is kept as it is);
- `break` sets the loop's flag (`breaking = True`), which the loop carries as
  `adjit_exit`: later passes end its body with `if breaking: break`, so the
  loop is left where Python leaves it, after the back-edges;
- `continue` sets `skipping = True`, reset at the start of every iteration;
- `return v` (when it is not the only, final, statement) assigns `result`
  (`return a, b` assigns `result` and `result_2`), sets `returned`, and sets
  the flag of the loop it is in; a loop that may have returned is followed by
  `if returned: <leave the enclosing loop too>`; the function ends with
  `return result`.

Statements after a possible exit run only where it was not taken: in the
other branch of an `if` whose one branch always exits and whose other never
does, and otherwise under `if <flag>: pass else: <the rest>`. Flags nothing
reads are removed by the cleanup pass. Each `if` carries `adjit_exits`, which
of its branches always exits (the `pass` of a guard does), and `adjit_never`,
which never does, for `ssa`.
Invariant: every statement runs exactly when it runs in the user's code.
"""

import copy

import gast

from .names import walk
from .normalize import assign, name

NEVER, MAY, ALWAYS = 0, 1, 2


def lower(source, fdef, namer):
    """Return `fdef` with its control flow lowered (see the module docstring)."""
    returns = [n for n in walk(fdef) if isinstance(n, gast.Return)]
    simple = len(returns) == 1 and fdef.body[-1] is returns[0]
    arity = len(returns[-1].value.elts) if isinstance(returns[-1].value, gast.Tuple) else 0
    for r in returns:
        if (len(r.value.elts) if isinstance(r.value, gast.Tuple) else 0) != arity:
            raise source.error("every `return` of a function must return as many values", r)
    lowerer = _Lowerer(source, namer, simple, arity)
    body, status, _ = lowerer.block(fdef.body, None)
    if status != ALWAYS:
        raise source.error("not every path through the function returns a value; "
                           "end it with a `return`", fdef.body[-1])
    if not simple:
        if lowerer.returned_flag:
            body.insert(0, gast.copy_location(assign(lowerer.returned_flag, _const(False)), fdef.body[0]))
        results = [name(r) for r in lowerer.results]
        value = gast.Tuple(elts=results, ctx=gast.Load()) if arity else results[0]
        body.append(gast.copy_location(gast.Return(value=value), returns[-1]))
        fdef.adjit_result = lowerer.results
    fdef.body = body
    return fdef


def _const(value):
    return gast.Constant(value=value, kind=None)


def _any(flags):
    names = [name(f) for f in sorted(flags)]
    return names[0] if len(names) == 1 else gast.BoolOp(op=gast.Or(), values=names)


class _Loop:
    """The flags of one loop, created when an exit first needs them."""

    def __init__(self, namer):
        self.namer = namer
        self.breaking = None
        self.skipping = None

    def break_flag(self):
        if self.breaking is None:
            self.breaking = self.namer.unique("breaking")
        return self.breaking

    def skip_flag(self):
        if self.skipping is None:
            self.skipping = self.namer.unique("skipping")
        return self.skipping


class _Lowerer:
    def __init__(self, source, namer, simple, arity):
        self.source = source
        self.namer = namer
        self.simple = simple
        # The names every `return` assigns: one, or one per value of a tuple.
        self.results = [] if simple else [namer.unique("result") for _ in range(max(arity, 1))]
        self.arity = arity
        self.returned_flag = None

    def returned(self):
        if self.returned_flag is None:
            self.returned_flag = self.namer.unique("returned")
        return self.returned_flag

    def block(self, stmts, loop):
        """Lower `stmts`; return (statements, NEVER/MAY/ALWAYS exit, flags an exit sets).

        Afterwards `self.fall` is the one list at whose end control leaves the
        block normally, when every other way out is an exit (see `_fall_through`),
        else None."""
        out, flags = [], set()
        for index, stmt in enumerate(stmts):
            lowered, status, stmt_flags = self.stmt(stmt, loop)
            flags |= stmt_flags
            out.extend(lowered)
            if status == NEVER:
                continue
            if status == ALWAYS:
                self.fall = None
                return out, ALWAYS, flags     # what follows is unreachable
            place = _fall_through(out[-1])
            rest = stmts[index + 1:]
            if not rest:
                self.fall = place
                return out, MAY, flags
            rest_out, rest_status, rest_flags = self.block(rest, loop)
            flags |= rest_flags
            if place is not None:
                place.extend(rest_out)
                self.fall = place if rest_status == NEVER else self.fall
            else:
                guard = gast.If(test=_any(stmt_flags), body=[gast.Pass()], orelse=rest_out)
                guard.adjit_exits = (True, False)     # `pass` runs only after an exit
                guard.adjit_never = (False, rest_status == NEVER)
                out.append(gast.copy_location(guard, stmts[index + 1]))
                self.fall = None
            return out, (ALWAYS if rest_status == ALWAYS else MAY), flags
        self.fall = out
        return out, NEVER, flags

    def stmt(self, stmt, loop):
        if isinstance(stmt, gast.Break):
            flag = loop.break_flag()
            return [gast.copy_location(assign(flag, _const(True)), stmt)], ALWAYS, {flag}
        if isinstance(stmt, gast.Continue):
            flag = loop.skip_flag()
            return [gast.copy_location(assign(flag, _const(True)), stmt)], ALWAYS, {flag}
        if isinstance(stmt, gast.Return):
            if self.simple:
                return [stmt], ALWAYS, set()
            values = stmt.value.elts if self.arity else [stmt.value]
            out = [assign(r, v) for r, v in zip(self.results, values)]
            out.append(assign(self.returned(), _const(True)))
            if loop is not None:
                out.append(assign(loop.break_flag(), _const(True)))
            for s in out:
                gast.copy_location(s, stmt)
            return out, ALWAYS, {loop.breaking if loop is not None else self.returned_flag}
        if isinstance(stmt, gast.If):
            body, then_status, then_flags = self.block(stmt.body, loop)
            then_fall = self.fall
            orelse, else_status, else_flags = self.block(stmt.orelse, loop)
            if not body:
                body.append(gast.Pass())
            new = gast.copy_location(gast.If(test=stmt.test, body=body, orelse=orelse), stmt)
            new.adjit_branches = (then_status, else_status)
            new.adjit_exits = (then_status == ALWAYS, else_status == ALWAYS)
            new.adjit_never = (then_status == NEVER, else_status == NEVER)
            new.adjit_falls = (then_fall, self.fall)
            if then_status == else_status == ALWAYS:
                status = ALWAYS
            elif then_status == else_status == NEVER:
                status = NEVER
            else:
                status = MAY
            return [new], status, then_flags | else_flags
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, loop)
        return [stmt], NEVER, set()

    def loop(self, stmt, outer):
        inner = _Loop(self.namer)
        body, _, _ = self.block(stmt.body, inner)
        before = []
        if isinstance(stmt, gast.While):
            new = self.while_loop(stmt, body, inner, before)
        else:
            new = self.for_loop(stmt, body, before)
        if inner.skipping:
            new.body.insert(0, gast.copy_location(assign(inner.skipping, _const(False)), stmt))
        if inner.breaking:
            before.append(gast.copy_location(assign(inner.breaking, _const(False)), stmt))
        new.adjit_exit = inner.breaking
        out = before + [gast.copy_location(new, stmt)]
        may_return = not self.simple and any(isinstance(n, gast.Return) for n in walk(stmt))
        if not may_return:
            return out, NEVER, set()
        if outer is None:
            return out, MAY, {self.returned()}
        # Leave the enclosing loop too.
        flag = outer.break_flag()
        leave = gast.If(test=name(self.returned()), body=[assign(flag, _const(True))], orelse=[])
        out.append(gast.copy_location(leave, stmt))
        return out, MAY, {flag}

    def while_loop(self, stmt, body, inner, before):
        test = stmt.test
        if isinstance(test, gast.Constant) and test.value is True:
            return gast.While(test=test, body=body or [gast.Pass()], orelse=[])
        cond = self.namer.unique("cond")
        before.append(gast.copy_location(assign(cond, test), stmt))
        again = gast.copy_location(assign(cond, copy.deepcopy(test)), stmt)
        if inner.breaking:
            # After a `break` the test is not evaluated again (it may index out of range).
            again = gast.copy_location(
                gast.If(test=name(inner.breaking), body=[gast.Pass()], orelse=[again]), stmt)
        return gast.While(test=name(cond), body=body + [again], orelse=[])

    def for_loop(self, stmt, body, before):
        it = stmt.iter
        if _is_range(it):
            return gast.For(target=stmt.target, iter=it, body=body or [gast.Pass()], orelse=[],
                            type_comment=None)
        # `for v in xs`: over the rows of whatever `xs` is when the loop starts.
        var = stmt.target.id
        if isinstance(it, gast.Name) and it.id not in _assigned(stmt.body):
            items = it.id
        else:
            items = self.namer.unique("items_" + var)
            before.append(gast.copy_location(assign(items, it), stmt))
        index = self.namer.unique("k_" + var)
        length = gast.Call(func=name("len"), args=[name(items)], keywords=[])
        element = gast.Subscript(value=name(items), slice=name(index), ctx=gast.Load())
        first = gast.copy_location(assign(var, element), stmt)
        rng = gast.Call(func=name("range"), args=[gast.copy_location(length, it)], keywords=[])
        new = gast.For(target=name(index, store=True), iter=rng, body=[first] + body, orelse=[],
                       type_comment=None)
        new.adjit_element = var
        return new


def _fall_through(stmt):
    """The one list at whose end control leaves `stmt` normally, when every other way
    out of it is an exit (`if c: return a` / `elif d: return b` / `else: ...`): what
    follows can go there, with no flag. None when there is no such list."""
    branches = getattr(stmt, "adjit_branches", None)
    if branches is None:
        return None
    if branches[1] == ALWAYS and branches[0] != ALWAYS:
        return stmt.adjit_falls[0]
    if branches[0] == ALWAYS and branches[1] != ALWAYS:
        return stmt.adjit_falls[1]
    return None


def _is_range(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == "range"


def _assigned(stmts):
    return {n.id for s in stmts for n in walk(s)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
