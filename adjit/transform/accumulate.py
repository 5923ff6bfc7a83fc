"""Fewer passes over adjoint arrays: sums in registers, merged adds, late spreading.

A loop's reverse adds its gradients into adjoint arrays one element at a time:
`bx = add_at(bx, i, ...)`, `bx = add_at(bx, add4, ...)` with `add4 = i + 1`.
Each add reads and writes memory. Where successive iterations add into the same
element (`x[i]` and `x[i + 1]` of a stencil), the loop carries a dependence
through memory: each iteration waits for the previous one's store, and LLVM
cannot vectorise the loop.

Where a loop adds into an array and does nothing else with it (no read, no
other write), its adds may be regrouped: addition commutes, so only rounding
changes. Two regroupings, for an array whose elements are numbers:

- An element at an index the loop does not change (`bpos[i, 0]` in a loop over
  `j`) is summed in a number (`bpos_i_0_sum`) and added once, after the loop.
- Elements at a position plus constants (`bx[i]` and `bx[i + 1]`; the position
  is the counter of a loop of step 1 or -1, or a name set to an invariant plus
  or minus it) are summed in a window of numbers that slides with the position
  (`bx_i_sum`, `bx_i_plus_1_sum`): each element is added once, when its last
  gradient has arrived; what is still in the window after the loop is added
  then. The element completed each step must be one the body adds to at every
  step, not only under a branch: elsewhere its index might not be valid.

A sum is added after the loop only where it is not zero: a zero sum means the
loop may not have run, and then its index may not be valid.

In straight-line code, adds at one index are merged into one add of their sum
(`merge`), and the adjoint of a sum is spread over an array only where
something needs the array, not where an add spreads it anyway
(`spread_late`): an array expression then makes fewer temporaries.

Runs on a specialised adjoint (`pipeline`), where ranks are known: a sum is a
number, so the array's rank must equal the number of indices.
"""

import copy

import gast

from .names import element_name, names_in, walk
from .normalize import assign, integer, name
from .shapes import rank_of, settle

_SIZED = {"zeros_like": -1, "broadcast_like": -1, "unbroadcast": -1,   # helper -> the argument
          "seed_like": 0}
_IN_PLACE = ("add_at", "zero_at")                                  # giving the shape


def accumulate(fdef, ranks):
    """Regroup the adds of `fdef`, in place. `ranks`: the number of dimensions of the
    primal names, where known (`shapes.ranks_of`)."""
    spread_late(fdef)
    regroup(fdef, adjoint_ranks(fdef, ranks))
    return fdef


def regroup(fdef, ranks):
    """Sums in registers and merged adds (see the module docstring), in place; `ranks`
    those of the adjoint's names too (`adjoint_ranks`)."""
    _Accumulator(ranks, names_in(fdef)).block(fdef.body)
    return fdef


_JUMPS = (gast.Break, gast.Continue, gast.Return, gast.Raise)
_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.USub, gast.UAdd)


def spread_late(fdef):
    """`broadcast_like(s, w)` (the adjoint of a sum: `s` spread over `w`'s shape) whose
    value goes only through elementwise arithmetic into an add into an array, directly
    or through names read only so in turn, becomes `s`. The add spreads the value over
    the elements it adds to anyway (elementwise arithmetic commutes with spreading), so
    the numbers are the same, and no array is made for it (rosenbrock_vec: one array of
    8 MB fewer)."""
    parents, owners, definitions = {}, {}, {}
    for stmt in walk(fdef):
        if isinstance(stmt, gast.stmt):
            for child in gast.iter_child_nodes(stmt):
                if isinstance(child, gast.expr):
                    for node in walk(child):
                        owners[id(node)] = stmt
                        for inner in gast.iter_child_nodes(node):
                            parents[id(inner)] = node
        if isinstance(stmt, gast.Name) and isinstance(stmt.ctx, (gast.Store, gast.Param)):
            definitions[stmt.id] = definitions.get(stmt.id, 0) + 1
    reads = {}
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads.setdefault(node.id, []).append(node)
    params = {a.id for a in fdef.args.args}
    memo = {}

    def spread_added(node):
        """Whether the value of `node` (an expression in an assignment) is only added
        into an array, through elementwise arithmetic, directly or by names."""
        stmt = owners.get(id(node))
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
            return False
        current = node
        while current is not stmt.value:
            parent = parents[id(current)]
            if parent is stmt.value and is_add(stmt) and current is parent.args[2]:
                return True     # the value an add spreads over its elements
            if not (isinstance(parent, (gast.BinOp, gast.UnaryOp))
                    and isinstance(parent.op, _ELEMENTWISE)):
                return False
            current = parent
        return added_only(stmt.targets[0].id)

    def added_only(v):
        if v not in memo:
            memo[v] = False     # while deciding: a cycle is not safe
            memo[v] = (bool(reads.get(v)) and definitions.get(v) == 1
                       and all(spread_added(node) for node in reads[v]))
        return memo[v]

    for call in [n for n in walk(fdef) if isinstance(n, gast.Call)]:
        if not (isinstance(call.func, gast.Name) and call.func.id == "broadcast_like"
                and len(call.args) == 2 and isinstance(call.args[0], gast.Name)
                and spread_added(call)):
            continue
        stmt, spread = owners[id(call)], call.args[0].id
        if call is stmt.value and spread in params and definitions.get(spread) == 1:
            for node in reads[stmt.targets[0].id]:     # read the parameter itself
                node.id = spread
            _drop(fdef.body, stmt)
        else:
            _replace(stmt if call is stmt.value else parents[id(call)], call, name(spread))


def _replace(parent, old, new):
    for field, value in gast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
        elif isinstance(value, list):
            value[:] = [new if item is old else item for item in value]


def _drop(stmts, dead):
    for k, stmt in enumerate(stmts):
        if stmt is dead:
            del stmts[k]
            return True
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and _drop(inner, dead):
                return True
    return False


def adjoint_ranks(fdef, known):
    """`known` extended to the adjoint's own names: an adjoint made by `zeros_like(x)`
    has `x`'s rank, and so has what adds into it or computes elementwise from it."""
    definitions = {}
    for node in walk(fdef):
        if (isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name)
                and node.targets[0].id not in known):
            definitions.setdefault(node.targets[0].id, []).append(node.value)
    known = dict(known)
    for arg in fdef.args.args:
        if arg.id not in known and arg.id not in definitions:
            # A seed the adjoint uses as it comes: reverse shapes it (`seed_like`) unless
            # the result is a number, and then it is one (the default 1.0).
            known[arg.id] = 0
    ranks = settle(definitions, known, _value_rank)
    return {v: r for v, r in ranks.items() if isinstance(r, int)}


def _value_rank(value, ranks):
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) and value.args:
        if value.func.id in _SIZED:
            return rank_of(value.args[_SIZED[value.func.id]], ranks)
        if value.func.id in _IN_PLACE:
            return rank_of(value.args[0], ranks)
    return rank_of(value, ranks)


def _known_rank(expr, ranks):
    rank = rank_of(expr, ranks)
    return rank if isinstance(rank, int) else None


class _Accumulator:
    def __init__(self, ranks, taken):
        self.ranks = ranks
        self.taken = set(taken)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.For) and not stmt.orelse:
                before, after = self.loop(stmt)
                out.extend(before)
                out.append(stmt)
                out.extend(after)
            else:
                out.append(stmt)
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, self.block(getattr(stmt, field)))
        self.merge(out)
        stmts[:] = out
        return stmts

    def merge(self, stmts):
        """Adds at one index, in one block, with nothing between that uses the array or
        changes the index, become one add of the sum: `bx = add_at(bx, s, e1)` ...
        `bx = add_at(bx, s, e2)` becomes `bx_part1 = e1` ... `bx = add_at(bx, s, bx_part1
        + e2)`, and fusion inlines the part where it may: one pass over the elements, and
        one temporary array fewer."""
        for k, stmt in enumerate(stmts):
            if not (is_add(stmt) and _pure(_index(stmt))):
                continue
            array, index = stmt.targets[0].id, _index(stmt)
            reads = names_in(index)
            for later in stmts[k + 1:]:
                if (is_add(later) and later.targets[0].id == array
                        and gast.dump(_index(later)) == gast.dump(index)):
                    part = self.fresh_part(array)
                    stmts[k] = assign(part, stmt.value.args[2], like=stmt)
                    later.value.args[2] = gast.BinOp(left=name(part), op=gast.Add(),
                                                     right=later.value.args[2])
                    break
                if (array in names_in(later) or reads & _assigned([later])
                        or any(isinstance(n, _JUMPS) for n in walk(later))):
                    break       # (after a jump, the later add might not run)

    def fresh_part(self, array):
        k = 1
        while f"{array}_part{k}" in self.taken:
            k += 1
        self.taken.add(f"{array}_part{k}")
        return f"{array}_part{k}"

    def loop(self, loop):
        """Regroup `loop`'s adds, in place; the statements to put before and after it."""
        before, after = [], []
        if any(isinstance(node, gast.Return) for node in walk(loop)):
            return before, after    # what is added after the loop might not be
        for array in self.arrays_added_only(loop):
            b, a = self.regroup(loop, array)
            before += b
            after += a
        return before, after

    def arrays_added_only(self, loop):
        """The arrays of numbers `loop` adds into and does nothing else with."""
        adds = [node.targets[0].id for node in walk(loop) if is_add(node)]
        mentions = {}
        for node in walk(loop):
            if isinstance(node, gast.Name):
                mentions[node.id] = mentions.get(node.id, 0) + 1
        # an add names its array twice (target, first argument); any other mention is a use
        return [a for a in dict.fromkeys(adds)
                if mentions[a] == 2 * adds.count(a) and self.ranks.get(a, 0) >= 1]

    def regroup(self, loop, array):
        rank = self.ranks[array]
        changed = _assigned(loop)
        invariant = [s for s in _adds_in(loop.body, array)
                     if self.element_index(s, rank) and not (names_in(_index(s)) & changed)
                     and _pure(_index(s))]
        before, after = [], []
        sums = {}
        for stmt in invariant:
            key = gast.dump(_index(stmt))
            if key not in sums:
                total = self.fresh(array, _index(stmt))
                sums[key] = total
                before.append(assign(total, gast.Constant(value=0.0, kind=None)))
                after.append(_add_if_nonzero(array, _index(stmt), total, stmt))
            _replace_by_sum(stmt, sums[key])
        window = self.window(loop, array, rank)
        if window is not None:
            b, a = window
            before += b
            after += a
        return before, after

    def window(self, loop, array, rank):
        """Slide a window of sums over the elements at a position plus constants: the
        position is the counter, or a name the body sets to an invariant plus or minus
        the counter (`i = sub3 + k_i * -1` in the reverse of a loop counting down).
        Adds under a branch of the body count; names set under one are not trusted."""
        step = _unit_step(loop)
        if step is None or rank != 1 or _jumps(loop.body) or not isinstance(loop.target, gast.Name):
            return None
        counter = loop.target.id
        changed = _assigned(loop.body)
        if counter in changed:
            return None
        moves = {counter: step}     # position -> how it moves a step
        at = {}                     # name -> (position, offset): `add4 = i + 1` before its use
        found = {}                  # position -> [(add statement, offset)]
        for stmt, top in _branches(loop.body):
            if is_add(stmt) and stmt.targets[0].id == array:
                where = _position(_index(stmt), moves, at)
                if where is not None:
                    found.setdefault(where[0], []).append((stmt, where[1], top))
            elif (top and isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                  and _assigned([stmt]) == {stmt.targets[0].id}
                  and _count(loop.body, stmt.targets[0].id) == 1):
                target = stmt.targets[0].id
                where = _position(stmt.value, moves, at)
                if where is not None:
                    at[target] = where
                elif not (names_in(stmt.value) & (changed - {counter})):
                    sign = _sign_of(stmt.value, counter)
                    if sign is not None:
                        moves[target] = step * sign
        if not found:
            return None
        position, adds = max(found.items(), key=lambda item: len(item[1]))
        if len(adds) == 1:
            return None     # one add a step, each to a new element: nothing to regroup
        step = moves[position]
        used = sorted({offset for _, offset, _ in adds})
        low, high = used[0], used[-1]
        # The order elements complete in: the last gradient of element i + c comes at the
        # largest c when the position falls, at the smallest when it rises.
        order = list(range(high, low - 1, -1)) if step < 0 else list(range(low, high + 1))
        done = order[0]
        # The element done is added every step: its index must be one the body adds at
        # every step, not only under a branch (elsewhere it may not be valid).
        like = next((stmt for stmt, offset, top in adds if offset == done and top), None)
        if like is None:
            return None
        sums = {c: self.fresh(array, _plus(position, c)) for c in order}
        for stmt, offset, _ in adds:
            _replace_by_sum(stmt, sums[offset])
        named = next((n for n, (p, c) in at.items() if p == position and c == done), None)
        index = name(named) if named is not None else _plus(position, done)
        loop.body.append(_add(array, index, name(sums[done]), like))
        for later, earlier in zip(order, order[1:]):
            loop.body.append(assign(sums[later], name(sums[earlier]), like=like))
        loop.body.append(assign(sums[order[-1]], gast.Constant(value=0.0, kind=None), like=like))
        before = [assign(sums[c], gast.Constant(value=0.0, kind=None)) for c in order]
        # After the last step's shift, sum c holds element (last position + step) + c.
        after = [_add_if_nonzero(array, _plus(position, c + step), sums[c], like)
                 for c in order[:-1]]
        return before, after

    def element_index(self, stmt, rank):
        """Whether `stmt`'s index picks one element of an array of `rank` dimensions."""
        index = _index(stmt)
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        return len(parts) == rank and all(_known_rank(p, self.ranks) == 0 for p in parts)

    def fresh(self, array, index):
        return element_name(array, index, self.taken, suffix="_sum")


def is_add(node):
    """`b = add_at(b, index, value)`."""
    return (isinstance(node, gast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], gast.Name) and isinstance(node.value, gast.Call)
            and isinstance(node.value.func, gast.Name) and node.value.func.id == "add_at"
            and len(node.value.args) == 3 and not node.value.keywords
            and isinstance(node.value.args[0], gast.Name)
            and node.value.args[0].id == node.targets[0].id)


def _index(stmt):
    return stmt.value.args[1]


def _adds_in(stmts, array):
    return [node for stmt in stmts for node in walk(stmt)
            if is_add(node) and node.targets[0].id == array]


def _branches(stmts):
    """(statement, whether at the top of `stmts`), in order, into branches but not loops."""
    for stmt in stmts:
        yield stmt, True
        if isinstance(stmt, gast.If):
            for inner in (stmt.body, stmt.orelse):
                for found, _ in _branches(inner):
                    yield found, False


def _assigned(tree):
    """Every name stored anywhere in `tree` (a node or a list of statements)."""
    nodes = [n for stmt in tree for n in walk(stmt)] if isinstance(tree, list) else walk(tree)
    return {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _count(stmts, target):
    return sum(1 for stmt in stmts for n in walk(stmt)
               if isinstance(n, gast.Name) and n.id == target and isinstance(n.ctx, gast.Store))


def _pure(expr):
    """An index made of names, numbers, arithmetic and `slice(...)`: the same value
    wherever its names are."""
    for node in walk(expr):
        if isinstance(node, gast.Call):
            if not (isinstance(node.func, gast.Name) and node.func.id == "slice"
                    and not node.keywords):
                return False
        elif not isinstance(node, (gast.Name, gast.Constant, gast.Tuple, gast.BinOp,
                                   gast.UnaryOp, gast.expr_context, gast.operator,
                                   gast.unaryop)):
            return False
    return True


def _jumps(stmts):
    """Whether `stmts` hold a `break`/`continue` of their own loop, or a `return`."""
    for stmt in stmts:
        if isinstance(stmt, (gast.Break, gast.Continue, gast.Return)):
            return True
        if isinstance(stmt, (gast.For, gast.While)):
            if any(isinstance(n, gast.Return) for n in walk(stmt)):
                return True
            continue
        for field in ("body", "orelse", "handlers", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and _jumps(inner):
                return True
    return False


def _unit_step(loop):
    """1 or -1 for `for i in range(...)` counting by ones, else None."""
    it = loop.iter
    if not (isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 3 and not it.keywords):
        return None
    step = 1 if len(it.args) < 3 else integer(it.args[2])
    return step if step in (1, -1) else None


def _position(expr, moves, at):
    """(position, c) where `expr` is a position (see `window`) plus the constant c."""
    if isinstance(expr, gast.Name):
        return (expr.id, 0) if expr.id in moves else at.get(expr.id)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub)):
        left, right = expr.left, expr.right
        if isinstance(expr.op, gast.Add) and integer(left) is not None:
            left, right = right, left
        base = _position(left, moves, at) if isinstance(left, gast.Name) else None
        c = integer(right)
        if base is not None and c is not None:
            return base[0], base[1] + (c if isinstance(expr.op, gast.Add) else -c)
    return None


def _sign_of(expr, counter):
    """1 or -1 where `expr` is `base + counter`, `base - counter` or `base + counter * -1`
    (base not reading the counter), else None."""
    if not (isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub))):
        return None
    term, base = expr.right, expr.left
    sign = 1 if isinstance(expr.op, gast.Add) else -1
    if isinstance(expr.op, gast.Add) and counter not in names_in(term):
        term, base = base, term
    if counter in names_in(base) or not _pure(base):
        return None
    if isinstance(term, gast.Name) and term.id == counter:
        return sign
    if (isinstance(term, gast.BinOp) and isinstance(term.op, gast.Mult)
            and isinstance(term.left, gast.Name) and term.left.id == counter
            and integer(term.right) in (1, -1)):
        return sign * integer(term.right)
    return None


def _plus(position, c):
    if c == 0:
        return name(position)
    op = gast.Add() if c > 0 else gast.Sub()
    return gast.BinOp(left=name(position), op=op, right=gast.Constant(value=abs(c), kind=None))


def _replace_by_sum(stmt, total):
    """`b = add_at(b, index, v)` becomes `total = total + v` (`total - e` for `v = -e`)."""
    value = stmt.value.args[2]
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        value = gast.BinOp(left=name(total), op=gast.Sub(), right=value.operand)
    else:
        value = gast.BinOp(left=name(total), op=gast.Add(), right=value)
    stmt.targets = [name(total, store=True)]
    stmt.value = value


def _add(array, index, value, like):
    call = gast.Call(func=name("add_at"), args=[name(array), index, value], keywords=[])
    return assign(array, call, like=like)


def _add_if_nonzero(array, index, total, like):
    test = gast.Compare(left=name(total), ops=[gast.NotEq()],
                        comparators=[gast.Constant(value=0.0, kind=None)])
    add = _add(array, copy.deepcopy(index), name(total), like)
    stmt = gast.If(test=test, body=[add], orelse=[])
    return gast.copy_location(stmt, like)
