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


def cleanup(fdef):
    # Adjoints updated in place (`bx = add_at(bx, i, g)`) must never share
    # their array: they keep `b = b + c` (a fresh array) and are never what
    # another adjoint is set to.
    in_place = {n.targets[0].id for n in gast.walk(fdef)
                if isinstance(n, gast.Assign) and isinstance(n.value, gast.Call)
                and isinstance(n.value.func, gast.Name) and n.value.func.id in ("add_at", "zero_at")}
    changed = True
    while changed:
        _known_zeros(fdef.body, set(), mutate=True, in_place=in_place)
        _propagate_copies(fdef.body)
        changed = _dead_code(fdef)
    return fdef


# ---- known zeros -------------------------------------------------------

def _is_zeros(rhs):
    return isinstance(rhs, gast.Call) and isinstance(rhs.func, gast.Name) and rhs.func.id == "zeros_like"


def _known_zeros(stmts, zero, mutate, in_place=frozenset()):
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
                    and t not in _reads(rhs.right)
                    and t not in in_place and not _reads(rhs.right) & in_place):
                if mutate:
                    stmt.value = rhs.right
            zero.discard(t)
        elif isinstance(stmt, gast.If):
            then_zero = _known_zeros(stmt.body, set(zero), mutate, in_place)
            else_zero = _known_zeros(stmt.orelse, set(zero), mutate, in_place)
            zero.intersection_update(then_zero & else_zero)
        elif isinstance(stmt, (gast.For, gast.While)):
            head = set(zero)
            while True:
                end = _known_zeros(stmt.body, set(head), False, in_place)
                new_head = zero & end
                if new_head == head:
                    break
                head = new_head
            _known_zeros(stmt.body, set(head), mutate, in_place)
            zero.intersection_update(head)
    return zero


# ---- copies ------------------------------------------------------------

def _propagate_copies(stmts):
    copies = {}     # name -> the name it currently equals
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            _rename_reads(stmt.value, copies)
            target = stmt.targets[0]
            if not isinstance(target, gast.Name):
                _rename_reads(target, copies)
                continue
            _forget(copies, target.id)
            value = stmt.value
            if isinstance(value, gast.Name) and value.id != target.id:
                copies[target.id] = value.id
        elif isinstance(stmt, gast.Return):
            _rename_reads(stmt, copies)
        elif isinstance(stmt, gast.If):
            _rename_reads(stmt.test, copies)
            _propagate_copies(stmt.body)
            _propagate_copies(stmt.orelse)
            for name in _assigned(stmt):
                _forget(copies, name)
        elif isinstance(stmt, (gast.For, gast.While)):
            for name in _assigned(stmt):
                _forget(copies, name)
            _rename_reads(stmt.iter if isinstance(stmt, gast.For) else stmt.test, copies)
            _propagate_copies(stmt.body)
            for name in _assigned(stmt):
                _forget(copies, name)


def _rename_reads(node, copies):
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in copies:
            n.id = copies[n.id]


def _forget(copies, name):
    copies.pop(name, None)
    for key in [k for k, v in copies.items() if v == name]:
        del copies[key]


def _assigned(stmt):
    return {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


# ---- dead code ---------------------------------------------------------

def _reads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def _dead_code(fdef):
    """Remove dead statements once; return True if anything was removed."""
    remover = _DeadCode()
    remover.block(fdef.body, set(), mutate=True)
    return remover.removed


class _DeadCode:
    def __init__(self):
        self.removed = False

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
            return True, live | _reads(stmt)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                t = target.id
                if t not in live or (isinstance(stmt.value, gast.Name) and stmt.value.id == t):
                    return False, live
                return True, (live - {t}) | _reads(stmt.value)
            # a write into an array: dead when the array is never read again
            if target.value.id not in live:
                return False, live
            return True, live | _reads(target.slice) | _reads(stmt.value)
        if isinstance(stmt, gast.If):
            then_live = self.block(stmt.body, set(live), mutate)
            else_live = self.block(stmt.orelse, set(live), mutate)
            if mutate and not stmt.body and not stmt.orelse:
                return False, live
            if mutate and not stmt.body:
                stmt.body = [gast.Pass()]
            return True, then_live | else_live | _reads(stmt.test)
        if isinstance(stmt, (gast.For, gast.While)):
            # A `while` test is read at the top of every iteration and after the last.
            header = _reads(stmt.iter) if isinstance(stmt, gast.For) else _reads(stmt.test)
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
        return True, live | _reads(stmt)
