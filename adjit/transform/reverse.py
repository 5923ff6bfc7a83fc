"""Adjoint generation: the forward sweep and the reverse sweep of one function.

Input: SSA code (see `ssa`), its active names, the `wrt` names and the result
name. Output: a new `FunctionDef` `<name>_adjoint(*params, b<result>=1.0)`
returning `(result, gradient)` (a tuple of gradients for several `wrt`).

The forward sweep is the function itself. Each `for` loop not nested in
another loop saves, at the start of every iteration, its loop-carried names
(assigned in the body and alive outside it) in stacks preallocated with the
loop's trip count.

The reverse sweep walks the statements backwards. An assignment's adjoint
comes from its primitive's rule template; an `if` reverses the branch the
forward sweep took (its condition is still in scope: SSA never overwrites
it). A loop runs backwards; each reverse iteration restores the iteration's
starting values from the stacks, re-runs the body's statements (except the
back-edge ones) to recompute its temporaries, initialises the adjoints local
to the body, and reverses the body. Loops nested inside save their own
stacks during that re-run.

Writes into arrays are logged (see `writes`) and undone where they are
reversed, except for an array a loop writes but never reads: the loop's
reverse first undoes all its writes at once (back to `height_<a>`, the log's
height before the loop), then neither re-runs nor undoes them. A loop nested
in another's body whose writes into such an array nothing reads before the
outer iteration's reverse undoes them is re-run without them. And where such
a loop is about to write at least half as many elements as the array holds
(`whole_<a>`), it logs the whole array once before it starts instead of each
element as it writes it: for one such array the loop is generated twice, one
logging nothing after `log_all`, one logging each write, so no iteration tests
the flag; `log_all` is told how many iterations of the enclosing loop are left,
so that its log, when it must grow, grows once for them all.

A reverse iteration's re-run reads `y` itself where the body copies it (`x =
np.copy(y)`) and nothing in the rest of the reverse iteration writes into `y` or
`x` (see `share_copies`): no array made, nothing copied.

A `for` loop's body does not recompute what is expensive (a matrix product, a
call of one of your functions, an exponential or other transcendental function
of an array): the forward sweep saves it in a stack made at the first
iteration, and the reverse iteration restores it.

This pass writes simple, obviously correct code: adjoints start at zero,
every contribution is `bv = bv + c`. The cleanup pass turns it into the
readable version.
Invariant: at the reverse of any statement, every name it reads holds the
value it had when the forward sweep ran that statement.
"""

import copy

import gast

from .activity import primitive_and_arguments, tuple_leaves
from .normalize import assign, name, written_array
from . import shapes
from .names import names_in
from .ssa import assigned_names, read_names
from .templates import PerElement, fold, instantiate
from .writes import Writes, reads_in


def generate(fdef, namer, active, wrt, results, op_primitive, single_result=False, writes=None,
             callee=False, ranks=None, with_value=True):
    """Build the adjoint function of SSA `fdef`, whose returned names are `results`.

    `op_primitive(op_name)` returns the Primitive for an operator ("add", "neg").
    `single_result`: the result is the name `control` made, assigned once by
    whichever `return` ran; no loop saves or restores it. `writes` is the
    `writes.Writes` record of the function's writes into arrays.
    The adjoint of the function differentiated is `f_adjoint(*params, bresult=1.0)`
    returning `(value, gradient)`; that of a function it calls (`callee`) is
    `g_adjoint(*params, *seeds)` returning the gradient of every parameter.
    `ranks`: the parameters' numbers of dimensions, where known (see `shapes`).
    Without `with_value`, the adjoint returns `(None, gradient)`, and what only the
    value needed is dead code.
    """
    generator = _Generator(namer, active, wrt, results, op_primitive)
    generator.exempt = set(results) if single_result else set()
    generator.writes = writes if writes is not None else Writes({}, [], set(), {})
    generator.shapes = shapes.infer(fdef, op_primitive, ranks)
    generator.elements = shapes.element_writes(fdef, ranks)
    generator.callee = callee
    generator.with_value = with_value
    return generator.function(fdef)


def primal(fdef, writes=None):
    """The forward computation of SSA `fdef` alone, as the function of the same name:
    what a caller runs where the user's code calls it."""
    generator = _Generator(None, set(), [], [], None)
    generator.exempt = set()
    generator.writes = Writes({}, [], set(), {})
    generator.primal = True
    body = generator.forward(fdef.body[:-1], rerun=False, snapshots=False)
    new = gast.FunctionDef(name=fdef.name, args=copy.deepcopy(fdef.args),
                           body=body + [copy.deepcopy(fdef.body[-1])], decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return gast.copy_location(new, fdef)


def grow_stacks(fdef):
    """Before the pushes of a `while` loop (those cleanup kept), grow the stacks when full.

    The loop's stacks share one capacity, so one test serves them all:
    `if trips == len(stack_s): stack_s = grow(stack_s); stack_k = grow(stack_k)`.
    This runs after cleanup, so stacks nobody reads are gone and grow nothing.
    """
    for node in list(gast.walk(fdef)):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            out, index = [], 0
            while index < len(stmts):
                counter = getattr(stmts[index], "adjit_grow", None)
                if counter is None:
                    out.append(stmts[index])
                    index += 1
                    continue
                run = []
                while index < len(stmts) and getattr(stmts[index], "adjit_grow", None) == counter:
                    run.append(stmts[index])
                    index += 1
                stacks = [push.targets[0].value.id for push in run]
                full = gast.Compare(left=name(counter), ops=[gast.Eq()],
                                    comparators=[call("len", name(stacks[0]))])
                check = gast.If(test=full, orelse=[],
                                body=[assign(s, call("grow", name(s))) for s in stacks])
                out += [gast.copy_location(check, run[0])] + run
            stmts[:] = out
    return fdef


def call(func, *args):
    return gast.Call(func=name(func) if isinstance(func, str) else func, args=list(args), keywords=[])


def const(value):
    return gast.Constant(value=value, kind=None)


def binop(left, op, right):
    return gast.BinOp(left=left, op=op, right=right)


class _Generator:
    def __init__(self, namer, active, wrt, results, op_primitive):
        self.namer = namer
        self.active = active
        self.wrt = wrt
        self.results = results
        self.op_primitive = op_primitive
        self.loops = {}   # id(For) -> loop facts
        self.primal = False
        self.with_value = True
        self.tuples = {}  # name of a called function's tuple of results -> adjoint per element
        # Arrays whose writes the code being generated neither makes nor undoes: a
        # loop's reverse, for the arrays it writes but never reads.
        self.suppressed = set()
        self.rerun_without = {}    # id(loop) -> arrays its re-run need not write into
        # While a loop's body is generated: its statements whose values are saved
        # (forward sweep) or restored rather than recomputed (reverse re-run).
        self.saving = {}           # id(statement) -> (stack, slot, capacity)
        self.restoring = {}        # id(statement) -> (stack, slot)
        self.whole_flags = {}      # (id(loop), array) -> flag: the loop logs the whole array
        # While a loop's body is generated, its arrays logged whole: array -> the flag
        # that says so (each write logged only when it is false), or None where the
        # body runs only after the whole array was logged (no write logged).
        self.whole = {}
        # While a `for` loop's body is generated in the forward sweep: how many of its
        # iterations are left (this one included), which a loop inside that logs a whole
        # array tells `log_all` (room for them all at once: its log need not grow each time).
        self.remaining = None

    def adj(self, var):
        return self.namer.adjoint(var)

    def function(self, fdef):
        self.tree = fdef
        self.params = [a.id for a in fdef.args.args]
        body = fdef.body[:-1]
        for node in gast.walk(fdef):
            prim = getattr(node.value, "adjit_primitive", None) if isinstance(node, gast.Assign) \
                else None
            if prim is not None and prim.results > 1:
                target = node.targets[0].id
                self.tuples[target] = [self.namer.unique(f"b{target}_{k}")
                                       for k in range(prim.results)]
        self.inits = _adjoint_scopes(fdef, self.active | set(self.wrt))
        seeds = [self.adj(r) for r in self.results]
        out = []
        for param in self.writes.copy_params:
            # Writes go into the adjoint's own copy, never into the caller's array.
            out.append(gast.copy_location(assign(param, call(_spelled("np.copy"), name(param))), fdef))
        for param in self.params:
            if param in self.writes.logs:
                out.append(gast.copy_location(self.new_log(param), fdef))
        out += self.forward(body, rerun=False, snapshots=True)
        values = list(self.results)
        if not self.callee and not self.with_value:
            values = [None]
        elif not self.callee and self.writes:
            # Reversing writes puts old values back into arrays: keep the result's.
            values = [self.namer.unique("value")]
            out.append(assign(values[0], call("snapshot", name(self.results[0]))))
        elif not self.callee and self.results[0] not in self.exempt and any(
                self.results[0] in assigned_names(loop.body)
                for loop in gast.walk(fdef) if isinstance(loop, (gast.For, gast.While))):
            # Reversing the loops restores loop-carried names: keep the result.
            values = [self.namer.unique("value")]
            out.append(assign(values[0], name(self.results[0])))
        for result, seed in zip(self.results, seeds):
            if self.with_value or self.shapes.get(result) != shapes.SCALAR:
                out.append(assign(seed, call("seed_like", name(result), name(seed))))
        out.extend(self.init_adjoints(id(fdef.body), skip=set(self.results)))
        out.extend(self.reverse(body))
        grads = [name(self.adj(w)) for w in self.wrt]
        args = copy.deepcopy(fdef.args)
        for seed in seeds:
            args.args.append(gast.Name(id=seed, ctx=gast.Param(), annotation=None,
                                       type_comment=None))
        if self.callee:
            out.append(gast.Return(value=gast.Tuple(elts=grads, ctx=gast.Load())))
            args.defaults = []
        else:
            grad = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
            value = const(None) if values[0] is None else name(values[0])
            out.append(gast.Return(value=gast.Tuple(elts=[value, grad], ctx=gast.Load())))
            args.defaults.append(const(1.0))
        self.shape_witnesses(fdef, out)
        new = gast.FunctionDef(name=self.namer.unique(fdef.name + "_adjoint"), args=args, body=out,
                               decorator_list=[], returns=None, type_comment=None, type_params=[])
        return gast.copy_location(new, fdef)

    def shape_witnesses(self, fdef, body):
        """Where generated code reads a value only for its shape (`unbroadcast(g, v)`,
        `broadcast_like(g, v)`, `zeros_like(v)`, `seed_like(v, g)`), read instead an argument or a slice of
        one that certainly has the same shape (see `shapes`): `v` need not be computed
        for that, nor recomputed in a loop's reverse."""
        free = {}
        for p in self.params:
            free.setdefault(self.shapes.get(p), p)
        definitions = [t.id for node in gast.walk(fdef) if isinstance(node, gast.Assign)
                       for t in node.targets if isinstance(t, gast.Name)]
        for stmt in fdef.body:
            # (one definition, not in a loop or a branch: it holds throughout the reverse)
            if isinstance(stmt, gast.Assign) and not written_array(stmt) \
                    and isinstance(stmt.value, gast.Subscript) \
                    and definitions.count(stmt.targets[0].id) == 1:
                free.setdefault(self.shapes.get(stmt.targets[0].id), stmt.targets[0].id)
        free.pop(None, None)
        free.pop(shapes.SCALAR, None)
        for node in gast.walk(gast.Module(body=body, type_ignores=[])):
            if not isinstance(node, gast.Call) or not isinstance(node.func, gast.Name):
                continue
            position = {"unbroadcast": 1, "broadcast_like": 1, "zeros_like": 0,
                        "seed_like": 0}.get(node.func.id)
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if isinstance(arg, gast.Name):
                witness = free.get(self.shapes.get(arg.id))
                if witness is not None and witness != arg.id and arg.id not in free.values():
                    node.args[position] = name(witness)

    def init_adjoints(self, block_id, skip=()):
        out = []
        for v in self.inits.get(block_id, ()):
            if v in skip:
                continue
            if v in self.tuples:
                # A called function's results: one adjoint per element.
                for k, b in enumerate(self.tuples[v]):
                    element = gast.Subscript(value=name(v), slice=const(k), ctx=gast.Load())
                    out.append(assign(b, call("zeros_like", element)))
            else:
                out.append(assign(self.adj(v), call("zeros_like", name(v))))
        return out

    # ---- forward sweep -------------------------------------------------
    def forward(self, stmts, rerun, snapshots):
        out = []
        for stmt in stmts:
            if written_array(stmt) and self.primal:
                out.append(copy.deepcopy(stmt))
            elif written_array(stmt) and written_array(stmt) in self.suppressed:
                continue
            elif written_array(stmt):
                array = written_array(stmt)
                log = self.writes.logs[array]
                index = _index_value(stmt.targets[0].slice)
                save = assign(log, call("log_write", name(log), name(array), index))
                if array in self.whole and self.whole[array] is not None:
                    save = gast.If(test=gast.UnaryOp(op=gast.Not(), operand=name(self.whole[array])),
                                   body=[save], orelse=[])
                if array not in self.whole or self.whole[array] is not None:
                    out.append(gast.copy_location(save, stmt))
                out.append(copy.deepcopy(stmt))
            elif isinstance(stmt, gast.Assign):
                if rerun and (getattr(stmt, "adjit_backedge", False)
                              or stmt.targets[0].id in self.exempt):
                    continue
                target = stmt.targets[0].id
                if id(stmt) in self.restoring:
                    stack, slot = self.restoring[id(stmt)]
                    back = assign(target, call("restore", name(stack), slot, name(target)))
                    out.append(gast.copy_location(back, stmt))
                    continue
                out.append(copy.deepcopy(stmt))
                if id(stmt) in self.saving:
                    out.extend(self.save(stmt))
                if id(stmt) in self.writes.scalar_reads:
                    check = gast.Expr(value=call("must_be_scalar", name(target)))
                    out.append(gast.copy_location(check, stmt))
                if target in self.writes.logs and not getattr(stmt, "adjit_backedge", False):
                    out.append(gast.copy_location(self.new_log(target), stmt))
            elif isinstance(stmt, gast.If):
                new = gast.If(test=copy.deepcopy(stmt.test),
                              body=self.forward(stmt.body, False, snapshots) or [gast.Pass()],
                              orelse=self.forward(stmt.orelse, False, snapshots))
                out.append(gast.copy_location(new, stmt))
            elif isinstance(stmt, (gast.For, gast.While)):
                if snapshots:
                    out.extend(self.without(self.rerun_without.get(id(stmt), ()),
                                            self.forward_loop, stmt))
                else:
                    def loop_code(stmt=stmt):
                        new = copy.copy(stmt)
                        new.body = self.forward(stmt.body, False, False) + self.exit_check(stmt)
                        return [new]
                    out.extend(self.logged_loop(stmt, loop_code))
        return out

    def expensive(self, loop):
        """The statements of `loop`'s body (not nested in it) whose values are saved
        rather than recomputed in its reverse: matrix products, calls of the user's
        functions, and transcendental functions of arrays; none loop-carried, none an
        array written into, none a tuple of results."""
        if not isinstance(loop, gast.For) or self.primal:
            return []
        carried = self.loop_facts(loop)["stacks"]
        found = []
        for stmt in loop.body:
            if not isinstance(stmt, gast.Assign) or written_array(stmt) \
                    or getattr(stmt, "adjit_backedge", False):
                continue
            target, value = stmt.targets[0].id, stmt.value
            if target in carried or target in self.exempt or target in self.writes.logs \
                    or target in self.tuples:
                continue
            if isinstance(value, gast.BinOp) and isinstance(value.op, gast.MatMult):
                found.append(stmt)
            elif isinstance(value, gast.Call) and getattr(value, "adjit_primitive", None):
                prim = value.adjit_primitive
                if prim.callee is not None or prim.spelling in ("np.dot", "np.matmul") or (
                        prim.spelling in TRANSCENDENTAL
                        and self.shapes.get(target) != shapes.SCALAR):
                    found.append(stmt)
        return found

    def save(self, stmt):
        """After `stmt` in the forward sweep: its value into its stack (made at the
        loop's first iteration, when the value's type is known)."""
        target = stmt.targets[0].id
        stack, slot, capacity = self.saving[id(stmt)]
        first = gast.Compare(left=copy.deepcopy(slot), ops=[gast.Eq()], comparators=[const(0)])
        make = gast.If(test=first, orelse=[],
                       body=[assign(stack, call("stack_like", name(target), copy.deepcopy(capacity)))])
        push = gast.Assign(targets=[gast.Subscript(value=name(stack), slice=copy.deepcopy(slot),
                                                   ctx=gast.Store())],
                           value=name(target), type_comment=None)
        return [gast.copy_location(make, stmt), gast.copy_location(push, stmt)]

    def whole_candidates(self, loop):
        """The arrays `loop` writes but never reads, only in its own body (no loop inside
        writes them), with how many statements there write into each."""
        if not isinstance(loop, gast.For) or self.primal:
            return {}
        found, nested = {}, set()

        def visit(stmts):
            for stmt in stmts:
                array = written_array(stmt)
                if array is not None:
                    found[array] = found.get(array, 0) + 1
                elif isinstance(stmt, gast.If):
                    visit(stmt.body)
                    visit(stmt.orelse)
                elif isinstance(stmt, (gast.For, gast.While)):
                    nested.update(written_array(node) for node in gast.walk(stmt)
                                  if isinstance(node, gast.Assign) and written_array(node))
        visit(loop.body)
        return {a: k for a, k in found.items() if a not in nested
                and a in self.write_only(loop) and a not in self.suppressed}

    def logged_loop(self, loop, loop_code, trips=None):
        """`loop` (made by `loop_code()`, which generates its body) with what comes before
        it to log whole the arrays it writes but never reads, where it writes at least half
        as many elements as they hold (see `log_whole`). With one such array, the loop is
        generated twice, so that no iteration tests the flag: `if whole_a: log_a =
        log_all(log_a, a)` then the loop without logging its writes into `a`, `else:` the
        loop logging each (Numba does not take such a test out of the loop itself).
        With more, each write is logged `if not whole_a`."""
        flags, saves = self.log_whole(loop, trips)
        candidates = list(self.whole_candidates(loop))
        if len(candidates) != 1:
            whole = {a: self.whole_flags[(id(loop), a)] for a in candidates}
            ifs = [gast.copy_location(gast.If(test=name(whole[a]), body=[saves[a]], orelse=[]),
                                      loop) for a in candidates]
            return flags + ifs + self.scoped("whole", dict(self.whole, **whole), loop_code)
        (array,) = candidates
        logged = self.scoped("whole", dict(self.whole, **{array: None}), loop_code)
        each = self.scoped("whole", {a: f for a, f in self.whole.items() if a != array},
                           loop_code)
        choice = gast.If(test=name(self.whole_flags[(id(loop), array)]),
                         body=[saves[array]] + logged, orelse=each)
        return flags + [gast.copy_location(choice, loop)]

    def log_whole(self, loop, trips=None):
        """Before `loop`: for each array it writes but never reads, decide whether to log
        the whole array now (`whole_<a>`, when the loop writes at least half as many
        elements) rather than each element as it is written. Returns the flags'
        assignments, and for each array the statement logging it whole."""
        flags, saves = [], {}
        for array, k in self.whole_candidates(loop).items():
            key = (id(loop), array)
            if key not in self.whole_flags:
                self.whole_flags[key] = self.namer.unique("whole_" + array)
            flag = self.whole_flags[key]
            if trips is None:
                start, stop, step = _range_parts(loop)
                trips = call("trip_count", start, stop, step)
            writes = trips if k == 1 else binop(const(k), gast.Mult(), trips)
            dense = gast.Compare(left=binop(const(2), gast.Mult(), copy.deepcopy(writes)),
                                 ops=[gast.GtE()], comparators=[call("size_of", name(array))])
            log = self.writes.logs[array]
            room = [copy.deepcopy(self.remaining)] if self.remaining is not None else []
            save = assign(log, call("log_all", name(log), name(array), *room))
            flags.append(gast.copy_location(assign(flag, dense), loop))
            saves[array] = gast.copy_location(save, loop)
        return flags, saves

    def scoped(self, attribute, value, generate, *args):
        """`generate(*args)` with `self.<attribute>` set to `value` meanwhile."""
        before = getattr(self, attribute)
        setattr(self, attribute, value)
        try:
            return generate(*args)
        finally:
            setattr(self, attribute, before)

    def without(self, arrays, generate, *args):
        """`generate(*args)` for code that neither writes into `arrays` nor undoes writes."""
        return self.scoped("suppressed", self.suppressed | set(arrays), generate, *args)

    def write_only(self, loop):
        """The arrays `loop` writes into, outliving an iteration, that its body never reads."""
        return self.writes.write_only.get(id(loop), ())

    def plan_rerun(self, stmts, after=()):
        """For each loop in `stmts` (a re-run loop body): the arrays it writes but never
        reads that nothing after it in `stmts` reads either. Its reverse comes next and
        would undo those writes first: the re-run need not make them."""
        later_at = [set(after)]     # later_at[j]: what stmts[-j:] and `after` read
        for stmt in reversed(stmts[1:]):
            later_at.append(later_at[-1] | set(reads_in([stmt])))
        for stmt, later in zip(stmts, reversed(later_at)):
            if isinstance(stmt, (gast.For, gast.While)):
                self.rerun_without[id(stmt)] = [
                    a for a in self.write_only(stmt) if not self.writes.reads_any(a, later)]
            elif isinstance(stmt, gast.If):
                self.plan_rerun(stmt.body, later)
                self.plan_rerun(stmt.orelse, later)

    def new_log(self, array):
        return assign(self.writes.logs[array], call("undo_log", name(array)))

    def exit_check(self, loop):
        """`if breaking: break`, ending the body of a loop `break` may leave."""
        if not loop.adjit_exit:
            return []
        check = gast.If(test=name(loop.adjit_exit), body=[gast.Break()], orelse=[])
        return [gast.copy_location(check, loop)]

    def loop_facts(self, loop):
        """Trip count name, snapshot stacks and slot expression of `loop`.

        A `for` loop `break` cannot leave has its trip count before it starts
        (`trips`); other loops count the iterations they run (`done`), and a
        `while` loop's stacks grow as it goes (`growing`)."""
        key = id(loop)
        if key in self.loops:
            return self.loops[key]
        # Loop-carried names (assigned in the body, at any depth, and alive
        # outside it) are saved every iteration: the reverse iteration
        # restores them, and after the last one they hold their values
        # from before the loop again. Saves nobody reads are dead code.
        outside = self.defined_outside(loop)
        saved = [v for v in assigned_names(loop.body) if v in outside and v not in self.exempt]
        stacks = {h: self.namer.unique("stack_" + h) for h in saved}
        # Arrays written in the body that outlive an iteration: the height of
        # their undo log at the start of each iteration.
        heights = {a: self.namer.unique("stack_height_" + a)
                   for a in self.writes.across.get(key, ()) if a not in self.write_only(loop)}
        # Arrays written but never read in the body: the log's height before the loop.
        entry = {a: self.namer.unique("height_" + a) for a in self.write_only(loop)}
        if isinstance(loop, gast.While):
            done = self.namer.unique("trips")
            self.loops[key] = dict(growing=True, done=done, slot=name(done), stacks=stacks,
                                   heights=heights, entry=entry, saved={},
                                   k=self.namer.unique("k"))
            return self.loops[key]
        start, stop, step = _range_parts(loop)
        var = loop.target.id
        unit = isinstance(step, gast.Constant) and step.value == 1
        if unit:
            slot = name(var) if _is_zero(start) else binop(name(var), gast.Sub(), start)
        else:
            slot = binop(binop(name(var), gast.Sub(), start), gast.FloorDiv(), step)
        self.loops[key] = dict(
            start=start, stop=stop, step=step, unit=unit, slot=slot, growing=False,
            trips=self.namer.unique("trips_" + var), stacks=stacks, heights=heights, entry=entry,
            saved={},
            done=self.namer.unique("done_" + var) if loop.adjit_exit else None)
        # Values saved rather than recomputed (see `expensive`): id(statement) -> stack.
        self.loops[key]["saved"] = {id(stmt): self.namer.unique("stack_" + stmt.targets[0].id)
                                    for stmt in self.expensive(loop)}
        return self.loops[key]

    def defined_outside(self, loop):
        """Names assigned (or passed in) somewhere other than inside `loop`'s body."""
        found = set(self.params)

        def visit(stmts):
            for stmt in stmts:
                if stmt is loop:
                    if isinstance(loop, gast.For):
                        found.add(stmt.target.id)
                    continue
                if isinstance(stmt, gast.Assign) and not written_array(stmt):
                    found.add(stmt.targets[0].id)
                elif isinstance(stmt, gast.If):
                    visit(stmt.body)
                    visit(stmt.orelse)
                elif isinstance(stmt, gast.For):
                    found.add(stmt.target.id)
                    visit(stmt.body)
                elif isinstance(stmt, gast.While):
                    visit(stmt.body)
        visit(self.tree.body)
        return found

    def forward_loop(self, loop):
        facts = self.loop_facts(loop)
        out = []
        if facts["growing"]:
            capacity = const(16)
        else:
            capacity = name(facts["trips"])
            out.append(assign(facts["trips"],
                              call("trip_count", facts["start"], facts["stop"], facts["step"])))
        if facts["done"]:
            out.append(assign(facts["done"], const(0)))
        for array, height in facts["entry"].items():
            if array not in self.suppressed:
                out.append(assign(height, call("log_height", name(self.writes.logs[array]))))
        pushes = []
        saves = [(stack, name(var), name(var)) for var, stack in facts["stacks"].items()]
        saves += [(stack, const(0), call("log_height", name(self.writes.logs[array])))
                  for array, stack in facts["heights"].items()]
        for stack, like, value in saves:
            out.append(assign(stack, call("stack_like", like, capacity)))
            target = gast.Subscript(value=name(stack), slice=copy.deepcopy(facts["slot"]),
                                    ctx=gast.Store())
            push = gast.Assign(targets=[target], value=value, type_comment=None)
            if facts["growing"]:
                push.adjit_grow = facts["done"]     # see `grow_stacks`
            pushes.append(push)
        count = []
        if facts["growing"]:
            count.append(assign(facts["done"], binop(name(facts["done"]), gast.Add(), const(1))))
        elif facts["done"]:
            pushes.append(assign(facts["done"], binop(copy.deepcopy(facts["slot"]), gast.Add(),
                                                      const(1))))
        saving = {key: (stack, facts["slot"], name(facts["trips"]))
                  for key, stack in facts["saved"].items()}
        remaining = None if facts["growing"] else \
            binop(name(facts["trips"]), gast.Sub(), copy.deepcopy(facts["slot"]))

        def loop_code():
            new = copy.copy(loop)
            body = self.scoped("remaining", remaining, self.scoped, "saving", saving,
                               self.forward, loop.body, False, False)
            new.body = copy.deepcopy(pushes) + body + copy.deepcopy(count) + self.exit_check(loop)
            for node in new.body:
                if not hasattr(node, "lineno"):
                    gast.copy_location(node, loop)
            return [new]
        out += self.logged_loop(loop, loop_code, name(facts["trips"])) if not facts["growing"] \
            else loop_code()
        for stmt in out:
            gast.copy_location(stmt, loop)
        return out

    # ---- reverse sweep -------------------------------------------------
    def reverse(self, stmts):
        out = []
        for stmt in reversed(stmts):
            if isinstance(stmt, gast.Assign):
                out.extend(self.reverse_assign(stmt))
            elif isinstance(stmt, gast.If):
                body = self.init_adjoints(id(stmt.body)) + self.reverse(stmt.body)
                orelse = self.init_adjoints(id(stmt.orelse)) + self.reverse(stmt.orelse)
                if body or orelse:
                    new = gast.If(test=copy.deepcopy(stmt.test), body=body or [gast.Pass()],
                                  orelse=orelse)
                    out.append(gast.copy_location(new, stmt))
            elif isinstance(stmt, (gast.For, gast.While)):
                out.extend(self.reverse_loop(stmt))
        return out

    def reverse_loop(self, loop):
        # Even a loop with no adjoint statements is reversed: restoring its
        # loop-carried names gives earlier statements the values they read.
        # Cleanup removes whatever of it nothing reads.
        facts = self.loop_facts(loop)
        out = []
        for array, height in facts["entry"].items():
            if array not in self.suppressed and array not in self.rerun_without.get(id(loop), ()):
                # All the loop's writes into `array` undone at once: nothing in it reads them.
                undo = call("undo_to", name(self.writes.logs[array]), name(array), name(height))
                out.append(gast.copy_location(gast.Expr(value=undo), loop))
        self.plan_rerun(loop.body)
        return out + self.without(self.write_only(loop), self.reverse_loop_body, loop, facts)

    def reverse_loop_body(self, loop, facts):
        adjoint = self.init_adjoints(id(loop.body)) + self.reverse(loop.body)
        body = []
        if facts["growing"]:
            target = facts["k"]
            header = call("range", binop(name(facts["done"]), gast.Sub(), const(1)), const(-1),
                          const(-1))
            slot = name(target)
        elif facts["done"]:
            # As many iterations as ran, from the last one back.
            var = loop.target.id
            target = self.namer.unique("k_" + var)
            header = call("range", binop(name(facts["done"]), gast.Sub(), const(1)), const(-1),
                          const(-1))
            body.append(assign(var, binop(copy.deepcopy(facts["start"]), gast.Add(),
                                          binop(name(target), gast.Mult(),
                                                copy.deepcopy(facts["step"])))))
            slot = name(target)
        elif facts["unit"]:
            var = loop.target.id
            header = call("range", binop(copy.deepcopy(facts["stop"]), gast.Sub(), const(1)),
                          binop(copy.deepcopy(facts["start"]), gast.Sub(), const(1)), const(-1))
            target = var
            slot = facts["slot"]
        else:
            var = loop.target.id
            target = self.namer.unique("k_" + var)
            header = call("range", binop(name(facts["trips"]), gast.Sub(), const(1)), const(-1),
                          const(-1))
            body.append(assign(var, binop(copy.deepcopy(facts["start"]), gast.Add(),
                                          binop(name(target), gast.Mult(),
                                                copy.deepcopy(facts["step"])))))
            slot = name(target)
        for h, stack in facts["stacks"].items():
            body.append(assign(h, call("restore", name(stack), copy.deepcopy(slot), name(h))))
        for array, stack in facts["heights"].items():
            # Back to the arrays as they were when this iteration started.
            height = call("restore", name(stack), copy.deepcopy(slot), const(0))
            undo = call("undo_to", name(self.writes.logs[array]), name(array), height)
            body.append(gast.Expr(value=undo))
        restoring = {key: (stack, slot) for key, stack in facts["saved"].items()}
        body.extend(self.scoped("restoring", restoring, self.forward, loop.body, True, True))
        body.extend(adjoint)
        self.share_copies(body, loop, facts)
        new = gast.For(target=name(target, store=True), iter=fold(header), body=body, orelse=[],
                       type_comment=None)
        return [gast.copy_location(new, loop)]

    def share_copies(self, body, loop, facts):
        """In a reverse iteration's `body`: the copy `x = np.copy(y)` the re-run makes becomes
        `x = y` (no new array, no copy) where, for the rest of the iteration, nothing writes
        into `y`'s array or `x` (no write, undo or adjoint update into `y`, `x` or a name that
        may share their memory), `y` is an array written into somewhere (never a number,
        whose copy is an array), and `x` lives only in this iteration: `x` reads the same
        values as the copy would. (In the forward sweep the copy stays: later writes into
        `y` are what it is for.)"""
        for index, stmt in enumerate(body):
            if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
                continue
            prim = getattr(stmt.value, "adjit_primitive", None)
            if prim is None or prim.spelling != "np.copy" or len(stmt.value.args) != 1 \
                    or stmt.value.keywords or not isinstance(stmt.value.args[0], gast.Name):
                continue
            x, y = stmt.targets[0].id, stmt.value.args[0].id
            if x in facts["stacks"] or x in self.writes.logs or x in self.exempt \
                    or y not in self.writes.logs or not self.local_to(loop, x):
                continue    # (`y` written into somewhere: an array, never a number)
            shared = {x, y}
            for array, sharing in self.writes.sharing.items():
                if x in sharing or y in sharing:
                    shared |= sharing | {array}
            if not _writes_any(body[index + 1:], shared):
                stmt.value = name(y)

    def local_to(self, loop, var):
        """Whether `var` appears only in `loop`'s body."""
        inside = sum(1 for node in gast.walk(loop) if isinstance(node, gast.Name) and node.id == var)
        return inside == sum(1 for node in gast.walk(self.tree)
                             if isinstance(node, gast.Name) and node.id == var)

    def reverse_write(self, stmt):
        """`a[i] = v`: `v` gets the gradient of the elements written, which get no
        more, and the elements the write replaced are put back."""
        array = written_array(stmt)
        index = stmt.targets[0].slice
        out = []
        if array in self.active:
            b = self.adj(array)
            value = stmt.value
            if isinstance(value, gast.Name) and value.id in self.active:
                g = self.namer.temp("g")
                out.append(assign(g, call("grad_at", name(b), _index_value(index))))
                if id(stmt) in self.elements and self.shapes.get(value.id) == shapes.SCALAR:
                    out.append(self.accumulate(value.id, name(g)))  # a number into one element
                else:
                    out.append(self.accumulate(value.id, call("unbroadcast", name(g),
                                                              name(value.id))))
            out.append(assign(b, call("zero_at", name(b), _index_value(index))))
        if array not in self.suppressed:
            undo = call("undo_write", name(self.writes.logs[array]), name(array),
                        _index_value(index))
            out.append(gast.Expr(value=undo))
        for s in out:
            gast.copy_location(s, stmt)
        return out

    def reverse_assign(self, stmt):
        if written_array(stmt):
            return self.reverse_write(stmt)
        target = stmt.targets[0].id
        if target not in self.active:
            return []
        rhs = stmt.value
        g = name(self.adj(target))
        out = []
        if target in read_names(rhs):
            # `s = f(s)` (a back-edge): the incoming gradient must be read
            # before the gradient of the old `s` starts accumulating.
            incoming = self.namer.temp("g")
            out.append(assign(incoming, g))
            out.append(assign(g.id, call("zeros_like", name(g.id))))
            g = name(incoming)
        if isinstance(rhs, gast.Name):
            if rhs.id in self.active:
                out.append(self.accumulate(rhs.id, g))
        elif isinstance(rhs, gast.Subscript) and rhs.value.id in self.tuples:
            # `p = t[0]` from `t = g(x)`: the gradient of that result of `g`.
            out.append(self.accumulate_into(self.tuples[rhs.value.id][rhs.slice.value], g))
        elif isinstance(rhs, gast.Call) and rhs.adjit_primitive.callee is not None:
            out.extend(self.reverse_callee(stmt, g))
        elif isinstance(rhs, gast.Subscript):
            array = rhs.value.id
            if array in self.active:
                # Scatter-add into the array's adjoint, in place (see cleanup:
                # such adjoints are never aliased).
                b = self.adj(array)
                out.append(assign(b, call("add_at", name(b), _index_value(rhs.slice), g)))
        elif isinstance(rhs, (gast.BinOp, gast.UnaryOp, gast.Call)):
            prim, bound = primitive_and_arguments(rhs, self.op_primitive)
            if target in self.tuples:
                # Several results: `g` is the tuple of their adjoints.
                g = gast.Tuple(elts=[name(b) for b in self.tuples[target]], ctx=gast.Load())
            mapping = dict(bound, g=g, ans=name(target))
            for param, template in zip(prim.params, prim.grads):
                arg = bound.get(param)
                if template is None:
                    continue
                if isinstance(template, PerElement):
                    # A tuple of values: each element's gradient, `k` its position.
                    for k, leaf in tuple_leaves(arg):
                        if isinstance(leaf, gast.Name) and leaf.id in self.active:
                            position = const(k) if not isinstance(k, tuple) else gast.Tuple(
                                elts=[const(i) for i in k], ctx=gast.Load())
                            contribution = instantiate(template.template,
                                                       dict(mapping, k=position))
                            out.append(self.accumulate(leaf.id, contribution))
                    continue
                if not isinstance(arg, gast.Name) or arg.id not in self.active:
                    continue
                contribution = instantiate(template, mapping)
                if prim.broadcast and self.may_broadcast(arg.id, target):
                    contribution = call("unbroadcast", contribution, name(arg.id))
                out.append(self.accumulate(arg.id, contribution))
        if target in self.tuples:
            for b in self.tuples[target]:
                out.append(assign(b, call("zeros_like", name(b))))
        elif g.id == self.adj(target):
            # The value just reversed is gone; the one it replaced (an earlier
            # iteration's, say) has received no gradient yet. Cleanup drops
            # this reset wherever nothing reads it.
            out.append(assign(g.id, call("zeros_like", name(g.id))))
        for s in out:
            gast.copy_location(s, stmt)
        return out

    def reverse_callee(self, stmt, g):
        """`t = h(x, y)`: `grads = h_adjoint(x, y, bt)`, then each argument gets its gradient."""
        target = stmt.targets[0].id
        prim, bound = primitive_and_arguments(stmt.value, self.op_primitive)
        args = [copy.deepcopy(bound[p]) for p in prim.params]
        seeds = [name(b) for b in self.tuples[target]] if target in self.tuples else [g]
        grads = self.namer.temp("grads")
        out = [assign(grads, call(prim.spelling + "_adjoint", *args, *seeds))]
        for k, param in enumerate(prim.params):
            arg = bound[param]
            if isinstance(arg, gast.Name) and arg.id in self.active:
                element = gast.Subscript(value=name(grads), slice=const(k), ctx=gast.Load())
                out.append(self.accumulate(arg.id, element))
        return out

    def accumulate_into(self, b, contribution):
        return assign(b, binop(name(b), gast.Add(), contribution))

    def may_broadcast(self, operand, result):
        """Whether `operand`'s shape may differ from `result`'s."""
        shape = self.shapes.get(operand)
        return shape is None or shape != self.shapes.get(result)

    def accumulate(self, var, contribution):
        b = self.adj(var)
        return assign(b, binop(name(b), gast.Add(), contribution))


def _spelled(text):
    return gast.parse(text).body[0].value


# Functions whose values a loop's reverse restores rather than recomputes, for arrays.
TRANSCENDENTAL = {"np.exp", "np.log", "np.tanh", "np.sin", "np.cos", "np.tan", "np.sinh",
                  "np.cosh", "np.arctan", "np.arcsin", "np.arccos", "np.log1p", "np.expm1",
                  "np.power", "np.sqrt"}


def _range_parts(loop):
    """`(start, stop, step)` of a `for` loop over `range(...)`."""
    args = loop.iter.args
    if len(args) == 1:
        return const(0), args[0], const(1)
    return args[0], args[1], args[2] if len(args) == 3 else const(1)


def _index_value(index):
    """A subscript's index as a value to pass to a function: `1:n` is `slice(1, n, None)`."""
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e) for e in index.elts], ctx=gast.Load())
    if isinstance(index, gast.Slice):
        return call("slice", *[copy.deepcopy(b) if b is not None else const(None)
                               for b in (index.lower, index.upper, index.step)])
    return copy.deepcopy(index)


# Helpers that change an argument in place.
_MUTATING = {"undo_write", "undo_to", "log_write", "log_all", "add_at", "zero_at", "grow"}


def _writes_any(stmts, names):
    """Whether `stmts` may change an array one of `names` holds: a write `a[i] = v` into
    one, or a helper that changes its argument in place (`undo_to(log_a, a, h)`) given
    one; any call of a function not known (a user function's adjoint) given one too, and
    any call given one as `out=`."""
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store) \
                    and isinstance(node.value, gast.Name) and node.value.id in names:
                return True
            if isinstance(node, gast.Call) and not getattr(node, "adjit_primitive", None) \
                    and (not isinstance(node.func, gast.Name) or node.func.id in _MUTATING
                         or node.func.id.endswith("_adjoint")) \
                    and any(isinstance(a, gast.Name) and a.id in names for a in node.args):
                return True
            if isinstance(node, gast.Call) and any(
                    k.arg == "out" and isinstance(k.value, gast.Name) and k.value.id in names
                    for k in node.keywords):
                return True     # (`np.sum(a, out=x)`)
    return False


def _is_zero(node):
    return isinstance(node, gast.Constant) and node.value == 0


def _adjoint_scopes(fdef, names):
    """For each block, the names whose adjoint starts at zero when the block is reversed.

    A name's adjoint lives in the innermost block holding every statement whose
    reverse touches it (those assigning an active name: conditions and dead
    merges do not count), so it is reset each time that block is reversed, and
    the name is assigned there whenever its adjoint is used. A name `ssa` calls
    partial (it has no value where an earlier `return` left the function) has
    its adjoint in the `else` of the guard that skips what follows that return,
    which is reversed first and only when the name has a value.
    """
    paths = {}
    blocks = {}

    def visit(stmts, path):
        blocks[id(stmts)] = stmts
        for stmt in stmts:
            target = written_array(stmt) or (
                stmt.targets[0].id if isinstance(stmt, gast.Assign) else None)
            if target in names:
                for node in gast.walk(stmt):
                    if isinstance(node, gast.Name) and node.id in names:
                        paths.setdefault(node.id, []).append(path)
            if isinstance(stmt, gast.If):
                visit(stmt.body, path + (id(stmt.body),))
                visit(stmt.orelse, path + (id(stmt.orelse),))
            elif isinstance(stmt, (gast.For, gast.While)):
                visit(stmt.body, path + (id(stmt.body),))

    visit(fdef.body, (id(fdef.body),))
    for param in names:
        if param in [a.id for a in fdef.args.args]:
            paths.setdefault(param, []).append((id(fdef.body),))
    scopes = {}
    for var in sorted(paths, key=_order(fdef)):
        common = paths[var][0]
        for p in paths[var][1:]:
            n = 0
            while n < min(len(common), len(p)) and common[n] == p[n]:
                n += 1
            common = common[:n]
        scope = common[-1]
        if var in getattr(fdef, "adjit_partial", ()):
            last = [stmt for stmt in blocks[scope] if var in names_in(stmt)][-1]
            if isinstance(last, gast.If) and getattr(last, "adjit_exits", None) == (True, False):
                scope = id(last.orelse)
        scopes.setdefault(scope, []).append(var)
    return scopes


def _order(fdef):
    """Sort key: first appearance in the function, so output is deterministic."""
    first = {}
    for a in fdef.args.args:
        first.setdefault(a.id, len(first))
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name):
            first.setdefault(node.id, len(first))
    return lambda v: first.get(v, len(first))
