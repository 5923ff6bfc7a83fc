"""SSA pass: give every redefinition of a variable its own name.

Input: a normalised `FunctionDef`. Output: the same code in which each
assignment inside a block writes a name no earlier statement of that block
wrote, so a value the adjoint reads is never overwritten before the adjoint
runs. The first definition keeps the user's name; redefinitions become
`s_2`, `s_3`, ... . Where the two branches of an `if` define a variable
differently, each branch ends with a copy into one merge name. A variable a
loop body redefines and reads (loop-carried) keeps one name for the whole
loop: the body's last definition writes it, and that statement is marked
`adjit_backedge`.
Invariants: within one execution of a block, no name is assigned twice
except the loop-carried names written by back-edge statements; a variable
read where it might be unassigned is refused at the user's line; loop
variables are never assigned in their loop body.
"""

import gast

from .names import walk
from .normalize import assign, name, written_array


def to_ssa(source, fdef, namer, reserved=(), result=None):
    """Rename `fdef` into SSA form; local names in `reserved` (names generated
    code uses for modules and helpers) are renamed on their first assignment.

    `result` (the names `control` gave the returned values, if it made them)
    are left alone: whichever `return` runs assigns them once, and only the
    final `return` reads them."""
    params = [a.id for a in fdef.args.args]
    for arg in fdef.args.args:
        if arg.id in reserved:
            raise source.error(f"an argument named `{arg.id}` would hide what adjit's generated "
                               "code calls by that name; rename the argument", fdef)
    renamer = _Renamer(source, namer, fdef, params)
    renamer.defined |= set(reserved)
    renamer.exempt = set(result or ())
    env = {p: p for p in params}
    body, _ = renamer.block(fdef.body, env)
    fdef.body = body
    fdef.adjit_partial = renamer.partial
    return fdef


def assigned_names(stmts):
    """Names assigned anywhere in `stmts` (targets of Assign and For)."""
    found = []
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, gast.Assign):
                found.extend(t.id for t in node.targets if isinstance(t, gast.Name))
            elif isinstance(node, gast.For):
                found.append(node.target.id)
    return list(dict.fromkeys(found))


def reads_before_writes(stmts):
    """Names `stmts` may read before assigning them (on some path)."""
    found = set()

    def visit(block, written):
        for stmt in block:
            if written_array(stmt):
                found.update(set(read_names(stmt)) - written)
            elif isinstance(stmt, gast.Assign):
                found.update(set(read_names(stmt.value)) - written)
                written.add(stmt.targets[0].id)
            elif isinstance(stmt, gast.AugAssign):
                found.update((set(read_names(stmt.value)) | {stmt.target.id}) - written)
                written.add(stmt.target.id)
            elif isinstance(stmt, gast.If):
                found.update(set(read_names(stmt.test)) - written)
                then_written = visit(stmt.body, set(written))
                else_written = visit(stmt.orelse, set(written))
                written |= then_written & else_written
            elif isinstance(stmt, gast.For):
                found.update(set(read_names(stmt.iter)) - written)
                visit(stmt.body, written | {stmt.target.id})
            elif isinstance(stmt, gast.While):
                found.update(set(read_names(stmt.test)) - written)
                visit(stmt.body, set(written))
            elif isinstance(stmt, gast.Return) and stmt.value is not None:
                found.update(set(read_names(stmt.value)) - written)
        return written

    visit(stmts, set())
    return found


def read_names(node):
    return [n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]


class _Renamer:
    def __init__(self, source, namer, fdef, params):
        self.source = source
        self.namer = namer
        self.locals = set(assigned_names(fdef.body)) | set(params)
        self.defined = set(params)   # names already written somewhere (function-wide)
        self.loop_vars = set()
        self.maybe_unassigned = set()   # versions assigned only inside a loop body
        self.partial = set()    # merges with no value on paths that exit (`_append_falling`)
        self.assigned_plainly = {t.id for node in walk(fdef) if isinstance(node, gast.Assign)
                                       for t in node.targets if isinstance(t, gast.Name)} | set(params)

    def fresh(self, var):
        if var not in self.defined:
            self.defined.add(var)
            return var
        new = self.namer.unique(var)
        self.defined.add(new)
        return new

    def read(self, node, env, stmt):
        """Rename the names `node` reads, refusing possibly-unassigned locals."""
        for n in walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                if n.id in self.exempt:
                    continue
                if n.id in env:
                    n.id = env[n.id]
                elif n.id in self.loop_vars and n.id not in self.assigned_plainly:
                    raise self.source.error(
                        f"the loop variable `{n.id}` is read after its loop; copy it into "
                        "another variable inside the loop", stmt)
                elif n.id in self.locals:
                    raise self.source.error(
                        f"`{n.id}` may be used before it is assigned here (it is assigned only "
                        "on some paths, or later in the loop); assign it before this line",
                        stmt)
        return node

    def block(self, stmts, env):
        out = []
        for stmt in stmts:
            self.stmt(stmt, env, out)
        return out, env

    def stmt(self, stmt, env, out):
        if written_array(stmt):
            self.read(stmt.value, env, stmt)
            self.read(stmt.targets[0], env, stmt)   # the array and its index: no new version
            out.append(stmt)
        elif isinstance(stmt, gast.Assign):
            self.read(stmt.value, env, stmt)
            var = stmt.targets[0].id
            if var in self.exempt:
                out.append(stmt)
                return
            new = self.fresh(var)
            stmt.targets[0].id = new
            env[var] = new
            out.append(stmt)
        elif isinstance(stmt, gast.Return):
            self.read(stmt.value, env, stmt)
            out.append(stmt)
        elif isinstance(stmt, gast.If):
            self.read(stmt.test, env, stmt)
            then_body, then_env = self.block(stmt.body, dict(env))
            else_body, else_env = self.block(stmt.orelse, dict(env))
            # A branch that always exits (`control` marks it) joins nothing after the
            # `if`: a variable new in the other branch, if that one never exits (so every
            # use of the variable is on a path that reaches the join), is assigned after it.
            then_exits, else_exits = getattr(stmt, "adjit_exits", (False, False))
            then_never, else_never = getattr(stmt, "adjit_never", (False, False))
            if then_exits and else_never:
                then_env.update((v, k) for v, k in else_env.items() if v not in env)
            elif else_exits and then_never:
                else_env.update((v, k) for v, k in then_env.items() if v not in env)
            merged = {}
            plain, falling = [], []     # copies of variables assigned before, and of new ones
            for var in dict.fromkeys(list(then_env) + list(else_env)):
                if var in then_env and var in else_env:
                    if then_env[var] != else_env[var]:
                        merge = self.fresh(var)
                        copies = [(then_body, assign(merge, name(then_env[var]))),
                                  (else_body, assign(merge, name(else_env[var])))]
                        (plain if var in env else falling).append((merge, copies))
                        merged[var] = merge
                        if {then_env[var], else_env[var]} & self.maybe_unassigned:
                            self.maybe_unassigned.add(merge)
                    else:
                        merged[var] = then_env[var]
            # A new variable's copy runs only where control falls through: on a path
            # that exits, the variable has no value (it is `partial` then).
            for merge, copies in falling:
                for body, copy in copies:
                    if not _append_falling(body, gast.copy_location(copy, stmt)):
                        self.partial.add(merge)
            for merge, copies in plain:
                for body, copy in copies:
                    body.append(gast.copy_location(copy, stmt))
            # A variable assigned on one path only is unassigned after the `if`.
            env.clear()
            env.update(merged)
            stmt.body = then_body or [gast.Pass()]
            stmt.orelse = else_body
            out.append(stmt)
        elif isinstance(stmt, (gast.For, gast.While)):
            self.loop(stmt, env, out)
        else:
            out.append(stmt)

    def loop(self, stmt, env, out):
        if isinstance(stmt, gast.For):
            self.read(stmt.iter, env, stmt)
            var = stmt.target.id
            target = self.fresh(var) if var in env else var
            self.defined.add(target)
            self.loop_vars.add(var)
            stmt.target.id = target
        else:
            self.read(stmt.test, env, stmt)     # the `cond` name of `control`, loop-carried
            var = target = None
        read_first = reads_before_writes(stmt.body)
        carried = []
        local = []          # assigned in the body, maybe unassigned before it
        body_env = dict(env)
        for v in assigned_names(stmt.body):
            if v not in env:
                continue
            if env[v] not in self.maybe_unassigned:
                carried.append(v)
            elif v in read_first:
                raise self.source.error(
                    f"`{v}` may be unassigned when this loop starts (it is assigned only "
                    "inside an earlier loop) and the loop reads it; assign it before the loop",
                    stmt)
            else:
                local.append(v)     # only overwritten here: local to the body
                del body_env[v]
        if var is not None:
            body_env[var] = target
        body, end_env = self.block(stmt.body, body_env)
        for v in carried:
            if end_env[v] != env[v]:
                _coalesce_backedge(body, env[v], end_env[v], stmt)
        stmt.body = body
        # After the loop, carried names hold their last value under their
        # own name; names first assigned in the body hold the last
        # iteration's value; the loop variable is not readable.
        for v, version in end_env.items():
            if v != var and (v not in env or v in local):
                env[v] = version
                self.maybe_unassigned.add(version)
        out.append(stmt)


def _append_falling(body, stmt):
    """Append `stmt` where control leaves `body` normally: into the branch of a final
    `if` that does not always exit (see `control`), at any depth.
    Return True when it went into `body` itself (it runs on every path through it)."""
    last = body[-1] if body else None
    exits = getattr(last, "adjit_exits", None) if isinstance(last, gast.If) else None
    if exits and exits[0] != exits[1]:
        branch = last.orelse if exits[0] else last.body
        if len(branch) == 1 and isinstance(branch[0], gast.Pass):
            branch.clear()
        _append_falling(branch, stmt)
        return False
    body.append(stmt)
    return True


def reads_no_result(rhs):
    """True when the adjoint of `rhs` never reads the value it computes.

    Only then may a back-edge statement compute straight into the loop-carried
    name: in the reverse sweep that name holds the iteration's starting value,
    not the value the statement computed.
    """
    if isinstance(rhs, (gast.Name, gast.Constant)):
        return True
    if isinstance(rhs, gast.BinOp):
        return isinstance(rhs.op, (gast.Add, gast.Sub, gast.Mult))
    if isinstance(rhs, gast.UnaryOp):
        return isinstance(rhs.op, (gast.USub, gast.UAdd))
    return False


def _coalesce_backedge(body, header, last, where):
    """End `body` with `header = <value of last>`, writing header directly if possible.

    When the statement defining `last` sits directly in `body` and nothing else
    reads `last`, that statement is retargeted to `header`; otherwise a copy
    `header = last` is appended. Either way the statement is a back-edge.
    """
    readers = sum(1 for stmt in body for n in walk(stmt)
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id == last)
    for stmt in reversed(body):
        if (isinstance(stmt, gast.Assign) and not written_array(stmt)
                and stmt.targets[0].id == last and readers == 0
                and reads_no_result(stmt.value) and header not in read_names(stmt.value)):
            stmt.targets[0].id = header
            stmt.adjit_backedge = True
            return
        if not isinstance(stmt, gast.Assign) or written_array(stmt):
            break
    copy = gast.copy_location(assign(header, name(last)), where)
    copy.adjit_backedge = True
    body.append(copy)
