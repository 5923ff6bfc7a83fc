"""Cleanup pass: make the generated adjoint as small as a hand-written one.

Input: the adjoint `FunctionDef` from `reverse`. Output: the same function,
simplified in place by two dataflow passes, repeated until nothing changes:

- known zeros: where an adjoint is certainly zero (just set by `zeros_like`)
  on every path, `b = b + c` becomes `b = c`;
- copies: after `a = b`, later reads of `a` in the same straight-line run
  read `b` instead (while neither is reassigned), so the copy can go;
- dead code: assignments (and stack writes) whose value is never read again
  are removed, then `if`s and loops left empty.

Invariant: the function computes the same values; only statements whose
results are never used disappear, and only additions of a known zero are
simplified.
"""

import gast

from .names import walk


def cleanup(fdef):
    in_place = updated_in_place(fdef)
    names = _NameNodes()
    changed = True
    while changed:
        _known_zeros(fdef.body, set(), mutate=True, in_place=in_place, names=names)
        _propagate_copies(fdef.body, names)
        changed = _dead_code(fdef, names)
    return fdef


def updated_in_place(fdef):
    """The adjoints `fdef` updates in place (`bx = add_at(bx, i, g)`, `zero_at`). They never
    share their array: they keep `b = b + c` (a fresh array) and are never what another
    adjoint is set to, so the later passes may add into them in place."""
    return {n.targets[0].id for n in walk(fdef)
            if isinstance(n, gast.Assign) and isinstance(n.value, gast.Call)
            and isinstance(n.value.func, gast.Name) and n.value.func.id in ("add_at", "zero_at")}


class _NameNodes:
    """The `Name` nodes under a node, found once: these passes rename names and remove
    statements, but never change the shape of an expression or of a simple statement,
    so each is walked once per `cleanup` instead of once per question asked of it.
    (Callers pass only expressions and statements other than `Assign`, whose value
    `_known_zeros` may replace.)"""

    def __init__(self):
        self.memo = {}      # id(node) -> (node, its Name nodes); holding node keeps its id
        self.stored = {}    # id(node) -> (node, the names it stores)

    def __call__(self, node):
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        found = []
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, gast.Name):
                found.append(n)
            for field in n._fields:
                value = getattr(n, field, None)
                if isinstance(value, gast.AST):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, gast.AST))
        self.memo[id(node)] = (node, found)
        return found

    def reads(self, node):
        return {n.id for n in self(node) if isinstance(n.ctx, gast.Load)}

    def stores(self, node):
        """The names `node` stores (never renamed here: only reads are)."""
        hit = self.stored.get(id(node))
        if hit is None or hit[0] is not node:
            hit = self.stored[id(node)] = (node, frozenset(
                n.id for n in self(node) if isinstance(n.ctx, gast.Store)))
        return hit[1]


# ---- known zeros -------------------------------------------------------

def _is_zeros(rhs):
    return isinstance(rhs, gast.Call) and isinstance(rhs.func, gast.Name) and rhs.func.id == "zeros_like"


def _known_zeros(stmts, zero, mutate, in_place=frozenset(), names=None):
    names = names or _NameNodes()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if not isinstance(target, gast.Name):
                continue
            t, rhs = target.id, stmt.value
            if _is_zeros(rhs):
                zero.add(t)
                continue
            if (isinstance(rhs, gast.BinOp) and isinstance(rhs.op, gast.Add)
                    and isinstance(rhs.left, gast.Name) and rhs.left.id == t and t in zero
                    and t not in in_place and t not in names.reads(rhs.right)
                    and not names.reads(rhs.right) & in_place):
                if mutate:
                    stmt.value = rhs.right
            zero.discard(t)
        elif isinstance(stmt, gast.If):
            then_zero = _known_zeros(stmt.body, set(zero), mutate, in_place, names)
            else_zero = _known_zeros(stmt.orelse, set(zero), mutate, in_place, names)
            zero.intersection_update(then_zero & else_zero)
        elif isinstance(stmt, (gast.For, gast.While)):
            head = set(zero)
            while True:
                end = _known_zeros(stmt.body, set(head), False, in_place, names)
                new_head = zero & end
                if new_head == head:
                    break
                head = new_head
            _known_zeros(stmt.body, set(head), mutate, in_place, names)
            zero.intersection_update(head)
    return zero


# ---- copies ------------------------------------------------------------

def _propagate_copies(stmts, names=None):
    names = names or _NameNodes()
    _Copies(names).block(stmts)


class _Copies:
    def __init__(self, names):
        self.names = names
        self.assigned = {}      # id(compound statement) -> the names assigned in it

    def block(self, stmts):
        copies = {}     # name -> the name it currently equals
        for stmt in stmts:
            if isinstance(stmt, gast.Assign):
                self.rename_reads(stmt.value, copies)
                target = stmt.targets[0]
                if not isinstance(target, gast.Name):
                    self.rename_reads(target, copies)
                    continue
                _forget(copies, target.id)
                value = stmt.value
                if isinstance(value, gast.Name) and value.id != target.id:
                    copies[target.id] = value.id
            elif isinstance(stmt, gast.Return):
                self.rename_reads(stmt, copies)
            elif isinstance(stmt, gast.If):
                self.rename_reads(stmt.test, copies)
                self.block(stmt.body)
                self.block(stmt.orelse)
                for name in self.assigned_in(stmt):
                    _forget(copies, name)
            elif isinstance(stmt, (gast.For, gast.While)):
                # (what the loop assigns is the same before and after its body: renaming
                # changes only reads)
                for name in self.assigned_in(stmt):
                    _forget(copies, name)
                self.rename_reads(stmt.iter if isinstance(stmt, gast.For) else stmt.test, copies)
                self.block(stmt.body)

    def rename_reads(self, node, copies):
        if not copies:
            return
        for n in self.names(node):
            if n.id in copies and isinstance(n.ctx, gast.Load):
                n.id = copies[n.id]

    def assigned_in(self, stmt):
        """The names stored anywhere in `stmt` (as `{Name in walk(stmt), Store}`)."""
        key = id(stmt)
        if key not in self.assigned:
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                found = set()
                for field in stmt._fields:
                    value = getattr(stmt, field, None)
                    if isinstance(value, list):
                        for inner in value:
                            if isinstance(inner, gast.stmt):
                                found |= self.assigned_in(inner)
                            elif isinstance(inner, gast.AST):
                                found |= self.names.stores(inner)
                    elif isinstance(value, gast.AST):
                        found |= self.names.stores(value)
            elif isinstance(stmt, gast.Assign):
                found = self.names.stores(stmt.value)
                for target in stmt.targets:
                    found |= self.names.stores(target)
            else:
                found = self.names.stores(stmt)
            self.assigned[key] = found
        return self.assigned[key]


def _forget(copies, name):
    if not copies:
        return
    copies.pop(name, None)
    for key in [k for k, v in copies.items() if v == name]:
        del copies[key]


# ---- dead code ---------------------------------------------------------

def _dead_code(fdef, names=None):
    """Remove dead statements once; return True if anything was removed."""
    remover = _DeadCode(names or _NameNodes())
    remover.block(fdef.body, set(), mutate=True)
    return remover.removed


class _DeadCode:
    def __init__(self, names):
        self.removed = False
        self.names = names
        self.read_sets = {}     # id(node) -> (node, the names it reads): nothing is renamed here

    def reads(self, node):
        hit = self.read_sets.get(id(node))
        if hit is None or hit[0] is not node:
            hit = self.read_sets[id(node)] = (node, self.names.reads(node))
        return hit[1]

    def block(self, stmts, live, mutate):
        """Liveness before `stmts` given `live` after; drop dead statements if `mutate`."""
        keep = []
        for stmt in reversed(stmts):
            alive, live = self.stmt(stmt, live, mutate)
            if alive:
                keep.append(stmt)
            elif mutate and not isinstance(stmt, gast.Pass):
                self.removed = True
        if mutate:
            stmts[:] = reversed(keep)
        return live

    def stmt(self, stmt, live, mutate):
        if isinstance(stmt, gast.Return):
            return True, live | self.reads(stmt)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                t = target.id
                if t not in live or (isinstance(stmt.value, gast.Name) and stmt.value.id == t):
                    return False, live
                return True, (live - {t}) | self.reads(stmt.value)
            # a write into an array: dead when the array is never read again
            if target.value.id not in live:
                return False, live
            return True, live | self.reads(target.slice) | self.reads(stmt.value)
        if isinstance(stmt, gast.If):
            then_live = self.block(stmt.body, set(live), mutate)
            else_live = self.block(stmt.orelse, set(live), mutate)
            if mutate and not stmt.body and not stmt.orelse:
                return False, live
            if mutate and not stmt.body:
                stmt.body = [gast.Pass()]
            return True, then_live | else_live | self.reads(stmt.test)
        if isinstance(stmt, (gast.For, gast.While)):
            # A `while` test is read at the top of every iteration and after the last.
            header = self.reads(stmt.iter) if isinstance(stmt, gast.For) else self.reads(stmt.test)
            target = {stmt.target.id} if isinstance(stmt, gast.For) else set()
            loop_live = live if isinstance(stmt, gast.For) else live | header
            head = set()
            while True:
                end = loop_live | head
                new_head = self.block(stmt.body, set(end), mutate=False) - target
                if isinstance(stmt, gast.While):
                    new_head |= header
                if new_head <= head:
                    break
                head |= new_head
            self.block(stmt.body, loop_live | head, mutate)
            if mutate and not stmt.body and isinstance(stmt, gast.For):
                return False, live
            if not stmt.body:
                stmt.body = [gast.Pass()]
            return True, live | head | header
        if isinstance(stmt, gast.Pass):
            return not mutate, live
        return True, live | self.reads(stmt)
