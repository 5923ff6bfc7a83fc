"""Elements a loop reads at every step, unchanged by it, read once before it.

The reverse of a pair loop reads `pos[i, 0]` at each step of the loop over `j`,
and adds into `bpos`. The element does not change, but LLVM cannot know that
`bpos` and `pos` are different arrays, so it reloads `pos[i, 0]` after every add:

    for j in range(n - 1, add2 - 1, -1):           if n - 1 > add2 - 1:
        dx = pos[i, 0] - pos[j, 0]          ->         pos_i_0 = pos[i, 0]
        ...                                        for j in range(n - 1, add2 - 1, -1):
        bpos = add_at(bpos, (j, 0), -bdx)              dx = pos_i_0 - pos[j, 0]

A read moves when its array and its index are assigned nowhere in the loop, and
the loop writes into no array but adjoints updated in place (`add_at`, `zero_at`:
`cleanup` keeps their arrays their own, so no such add changes another array) and
calls nothing that could write. Only reads in the statements every step runs move
(at the top of the body, before any `break`, `continue` or `return`), and only
where the loop runs at least once: the read then happened at its first step, so
the index is valid (an element read outside its array is an `IndexError` in
Python and undefined in Numba).

Runs on a specialised adjoint (`pipeline`), where ranks tell elements from rows.
"""

import copy

import gast

from .cleanup import updated_in_place
from .fuse import is_pure
from .names import element_name, names_in, walk
from .normalize import assign, integer, name

_JUMPS = (gast.Break, gast.Continue, gast.Return)


def hoist(fdef, ranks):
    """Hoist the invariant element reads of `fdef`'s loops, in place."""
    _Hoisting(ranks, updated_in_place(fdef), names_in(fdef)).block(fdef.body)
    return fdef


def _updates_in_place(stmt):
    """`b = add_at(b, ...)` or `b = zero_at(b, ...)`."""
    value = stmt.value
    return (len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
            and isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id in ("add_at", "zero_at") and value.args
            and isinstance(value.args[0], gast.Name) and value.args[0].id == stmt.targets[0].id)


class _Hoisting:
    def __init__(self, ranks, in_place, taken):
        self.ranks = ranks
        self.in_place = in_place
        self.taken = set(taken)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    self.block(inner)
            if isinstance(stmt, gast.For) and not stmt.orelse:
                out.extend(self.loop(stmt))
            out.append(stmt)
        stmts[:] = out

    def loop(self, loop):
        """The guarded reads to put before `loop` (its body then reads their names)."""
        runs = _runs_once(loop)
        if runs is None or not all(self.harmless(s) for s in loop.body):
            return []
        changed = {n.id for s in loop.body for n in walk(s)
                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        changed.add(loop.target.id)
        hoisted = {}        # gast.dump of the read -> the name holding it
        reads = []
        for stmt in loop.body:
            if any(isinstance(n, _JUMPS) for n in walk(stmt)):
                break
            if not isinstance(stmt, gast.Assign):
                continue        # (what runs under a branch might not run at the first step)
            for node in list(gast.walk(stmt)):
                for field, value in gast.iter_fields(node):
                    if self.invariant_element(value, changed):
                        key = gast.dump(value)
                        if key not in hoisted:
                            hoisted[key] = self.fresh(value)
                            reads.append(assign(hoisted[key], value, like=loop))
                        setattr(node, field, name(hoisted[key]))
        if not reads:
            return []
        return [gast.copy_location(gast.If(test=runs, body=reads, orelse=[]), loop)]

    def harmless(self, stmt):
        """Whether `stmt` writes into no array but in-place adjoints, and calls nothing
        that might."""
        if isinstance(stmt, (gast.Break, gast.Continue, gast.Pass)):
            return True
        if isinstance(stmt, gast.If):
            return is_pure(stmt.test) and all(self.harmless(s) for s in stmt.body + stmt.orelse)
        if isinstance(stmt, gast.For):
            return (is_pure(stmt.iter) and not stmt.orelse
                    and all(self.harmless(s) for s in stmt.body))
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            return False
        if _updates_in_place(stmt):
            return (stmt.targets[0].id in self.in_place
                    and all(is_pure(a) for a in stmt.value.args[1:]))
        return is_pure(stmt.value)

    def invariant_element(self, node, changed):
        """Whether `node` reads one element of an array the loop does not change, at an
        index it does not change."""
        if not (isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load)
                and isinstance(node.value, gast.Name)):
            return False
        array = node.value.id
        rank = self.ranks.get(array)
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if not isinstance(rank, int) or rank != len(parts) or array in changed:
            return False
        return all(self.number(p) and not (names_in(p) & changed) for p in parts)

    def number(self, part):
        """An index that is a number: an integer constant, a name holding one, or
        arithmetic of them."""
        if isinstance(part, gast.Constant):
            return type(part.value) is int
        if isinstance(part, gast.Name):
            return self.ranks.get(part.id) == 0
        if isinstance(part, gast.BinOp) and isinstance(part.op, (gast.Add, gast.Sub)):
            return self.number(part.left) and self.number(part.right)
        return False

    def fresh(self, read):
        return element_name(read.value.id, read.slice, self.taken)


def _runs_once(loop):
    """The test that `loop` (over `range`, its step a constant) runs at least once."""
    it = loop.iter
    if not (isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 3 and not it.keywords
            and isinstance(loop.target, gast.Name)):
        return None
    if len(it.args) == 1:
        start, stop, step = gast.Constant(value=0, kind=None), it.args[0], 1
    else:
        start, stop = it.args[0], it.args[1]
        step = 1 if len(it.args) == 2 else integer(it.args[2])
    if not step or not is_pure(start) or not is_pure(stop):
        return None
    op = gast.Lt() if step > 0 else gast.Gt()
    return gast.Compare(left=copy.deepcopy(start), ops=[op], comparators=[copy.deepcopy(stop)])
