"""Elementwise array statements over one iteration space, lowered to one loop.

Vectorised code makes an array for each step of an expression, and its adjoint
more: rosenbrock's `np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)`
has an adjoint of six array statements and two adds into slices of `bx`. Each is
a pass over memory and a fresh array (8 MB at 10^6 elements: page faults, not
arithmetic, dominate). Where every array in a run of statements has the same
length, provably, the run is one loop over that length instead:

    bsub4 = bresult * 100.0 * 2 * (x[1:] - x[:-1] ** 2)           for k in range(x.shape[0] - 1):
    bx = add_at(bx, slice(None, -1, None), e(x[:-1], bsub4))  ->     bsub4 = bresult * 100.0 * 2 * (x[k + 1] - x[k] ** 2)
    bx = add_at(bx, slice(1, None, None), bsub4)                      bx = add_at(bx, k, e(x[k], bsub4))
                                                                      bx = add_at(bx, k + 1, bsub4)

and `accumulate` then keeps the adds to `bx[k]` and `bx[k + 1]` in a sliding
window of sums. Lengths are proved, not assumed: a slice `a[s:-t]` (constant
`s >= 0`, `t > 0`, or missing ends) of a 1-D array has length `max(0, len(a) - s - t)`,
so slices of one array (or of arrays made `zeros_like` it) with the same `s + t`
have one length; any other pair of arrays is left alone.

A run is a sequence of statements of one block, each one of:

- an elementwise statement (`+ - *`, unary minus, `/` by a non-zero constant, `**`
  a constant exponent that cannot raise, one-argument NumPy ufuncs) whose arrays
  are 1-D and of the run's length: it moves into the loop, its name now an element
  (`broadcast_like(s, w)` of a number is `s` there; an `unbroadcast(g, w)` that
  sums nothing is `g`);
- a slice `v = a[s:-t]` of such an array: its reads become `a[k + s]`;
- an add `b = add_at(b, slice(s, -t, None), e)` into a 1-D array, `e` elementwise:
  it becomes `b = add_at(b, k + s, e)`; so does `b = b + e` for an adjoint updated
  in place (`cleanup` keeps such an array its own, so adding in place is the same);
- a sum `t = np.sum(e)` or `t = unbroadcast(e, w)` of a number `w`, maybe plus a
  number: `t` starts before the loop and adds an element a step (only the
  rounding changes); nothing in the run reads it before the loop completes it;
- any other pure statement (numbers, allocations): it moves before the loop.

What moves must be safe to move: no statement of the run reads an array it adds
into, nor one that may share its array (a slice of it: the adds would interleave
with the reads); no statement reassigns a name an earlier one read; an element
name is assigned nowhere else in the function; and what is read after the run
(an array the primal returns, a slice the reverse needs again) or by a statement
before the loop stays an array, computed before the loop. Division by a number
that may be zero and integer powers that may be negative stay array operations:
on numbers Numba would raise where NumPy gives `inf`.

Runs on a specialised adjoint (`pipeline`), where the ranks of names are known.
"""

import copy
import dataclasses

import gast

from .accumulate import is_add
from .cleanup import updated_in_place
from .names import names_in, walk
from .normalize import assign, name
from .shapes import UNSET, settle, slice_bounds

# One-argument NumPy functions that compute the same number on an element as on
# an array (ufuncs, with NumPy's handling of domain errors on numbers too).
_UFUNCS = frozenset({"exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh",
                     "sinh", "cosh", "arctan", "abs", "absolute", "negative", "square", "sign"})
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult)
# Calls that only allocate or compute: a statement made of them may move before the loop.
_PURE_CALLS = frozenset({"zeros_like", "broadcast_like", "seed_like", "slice", "np.copy",
                         "np.zeros_like", "np.ones_like", "np.empty_like"})
_SAME_SHAPE = {"zeros_like": 0, "broadcast_like": 1, "np.copy": 0, "np.zeros_like": 0,
               "np.ones_like": 0, "np.empty_like": 0}   # call -> the argument it has the shape of


def lower(fdef, ranks, namer):
    """Lower the runs of `fdef` (in place) to loops; returns the ranks that changed
    (element names, now numbers, and the loop counters)."""
    stores, loads = {}, {}
    for node in walk(fdef):
        if isinstance(node, gast.Name):
            counts = stores if isinstance(node.ctx, gast.Store) else loads
            counts[node.id] = counts.get(node.id, 0) + 1
    changed = {}
    facts = _facts(fdef, ranks, stores)
    _Lowering(ranks, stores, loads, namer, changed, facts).block(fdef.body)
    if changed:
        _drop_unread(fdef, loads)
    return changed


def _drop_unread(fdef, loads_before):
    """Remove the slices and elementwise arrays that a loop now reads through their
    base instead (`x[k + 1]` for `item1 = x[1:]` assigned elsewhere)."""
    while True:
        loads = {}
        for node in walk(fdef):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                loads[node.id] = loads.get(node.id, 0) + 1
        dead = set()
        for node in walk(fdef):
            for field in ("body", "orelse"):
                stmts = getattr(node, field, None)
                if not isinstance(stmts, list):
                    continue
                for stmt in stmts:
                    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                            and isinstance(stmt.targets[0], gast.Name)
                            and loads_before.get(stmt.targets[0].id, 0) > 0
                            and loads.get(stmt.targets[0].id, 0) == 0
                            and (_view(stmt.value) is not None
                                 or _elementwise_leaves(stmt.value) is not None)):
                        dead.add(id(stmt))
                stmts[:] = [stmt for stmt in stmts if id(stmt) not in dead]
        if not dead:
            return


def _facts(fdef, ranks, stores):
    """What is true of names wherever they are read (`_Facts`).

    A name's length is known where every value assigned to it has that length
    (`b = zeros_like(x)`, `b = add_at(b, ...)`, `d = a - c`, `v = x[1:]`), resting on
    names assigned at most once; a name's place, where it is assigned once a slice of
    a name assigned at most once; a name's sources, the names whose arrays a value
    assigned to it may share (`_shared`)."""
    definitions = {}
    for node in walk(fdef):
        if (isinstance(node, gast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], gast.Name)
                and ranks.get(node.targets[0].id) in (1, None)):
            definitions.setdefault(node.targets[0].id, []).append(node.value)

    def length(value, lengths):
        if isinstance(value, gast.Name):
            found = lengths.get(value.id, UNSET)
            if found is None or value.id not in definitions:
                stable = stores.get(value.id, 0) <= 1 and ranks.get(value.id) == 1
                return (value.id, 0) if stable else None
            return found
        if _is_add_value(value) or _spelling(getattr(value, "func", None)) == "zero_at":
            return length(value.args[0], lengths)
        if isinstance(value, gast.Call):
            k = _SAME_SHAPE.get(_spelling(value.func))
            if k is not None and len(value.args) > k:
                return length(value.args[k], lengths)
            if _spelling(value.func) == "unbroadcast" and len(value.args) == 2:
                return length(value.args[1], lengths)
        view = _view(value)
        if view is not None:
            base = length(view[0], lengths)
            return base if base in (None, UNSET) else (base[0], base[1] + view[1] + view[2])
        leaves = _elementwise_leaves(value)
        if leaves is None:
            return None
        found = {length(leaf, lengths) for leaf in leaves
                 if isinstance(leaf, gast.Name) and ranks.get(leaf.id) != 0}
        if UNSET in found:
            return UNSET
        return found.pop() if len(found) == 1 else None

    sources = {}
    for node in walk(fdef):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            sources.setdefault(node.targets[0].id, set()).update(_shared(node.value))
    lengths = {v: r for v, r in settle(definitions, {}, length).items() if isinstance(r, tuple)}
    places, changed = {}, True
    while changed:
        changed = False
        for v, values in definitions.items():
            view = _view(values[0])
            if v in places or len(values) != 1 or stores.get(v) != 1 or view is None:
                continue
            base, start = places.get(view[0].id, (view[0].id, 0))
            if stores.get(base, 0) <= 1 and (view[0].id == base or view[0].id in places):
                places[v] = (base, start + view[1])
                changed = True
    return _Facts(lengths, places, sources, updated_in_place(fdef),
                  {a.id for a in fdef.args.args})


@dataclasses.dataclass
class _Facts:
    lengths: dict       # name -> length (see `_Run`)
    places: dict        # name -> place
    sources: dict       # name -> the names whose arrays its values may share
    in_place: set       # adjoints updated in place: never sharing their array (`cleanup`)
    params: set         # the function's parameters (not an element's name: they have values)


_FRESH = frozenset({"zeros_like", "broadcast_like", "np.copy", "np.zeros_like", "np.ones_like",
                    "np.empty_like"})


def _shared(value):
    """The names whose arrays `value` may share (be, or be a view of): none for
    arithmetic and calls that make a new array, the array for an add, else any."""
    if isinstance(value, (gast.Constant, gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp)):
        return set()
    if isinstance(value, gast.Call):
        spelled = _spelling(value.func)
        if spelled in _FRESH or spelled and spelled.startswith("np.") and spelled[3:] in _UFUNCS:
            return set()
        if spelled in ("add_at", "zero_at") and value.args and isinstance(value.args[0], gast.Name):
            return {value.args[0].id}
    return names_in(value)


def _view(value):
    """(array, s, t) for `array[s:-t]` (see `shapes.slice_bounds`), else None."""
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
            and isinstance(value.slice, gast.Slice):
        bounds = slice_bounds(value.slice.lower, value.slice.upper, value.slice.step)
        if bounds is not None:
            return (value.value, *bounds)
    return None


class _Lowering:
    def __init__(self, ranks, stores, loads, namer, changed, facts):
        self.ranks = ranks
        self.stores = stores
        self.loads = loads
        self.namer = namer
        self.changed = changed
        self.facts = facts

    def block(self, stmts):
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                    self.block(inner)
        out, k = [], 0
        while k < len(stmts):
            run = _Run(self.ranks, self.stores, self.facts)
            end = k
            while end < len(stmts) and run.take(stmts[end]):
                end += 1
            if end == k:
                out.append(stmts[k])
                k += 1
                continue
            out.extend(self.rewrite(run, stmts[k:end]))
            k = end
        stmts[:] = out

    def rewrite(self, run, stmts):
        """The statements of a run: unchanged if it adds or sums into nothing."""
        if not run.adds and not run.sums:
            return stmts
        read_in_run = {}
        for stmt in stmts:
            for node in walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                    read_in_run[node.id] = read_in_run.get(node.id, 0) + 1
        escaping = {v for v in run.elements
                    if self.loads.get(v, 0) > read_in_run.get(v, 0)}
        run.keep_arrays(escaping | run.arrays)
        counter = self.namer.unique("k")
        self.changed[counter] = 0
        before, starts, body = [], [], []
        for stmt, kind in run.kinds:
            if kind == "before":
                before.append(stmt)
            elif kind == "element":
                target = stmt.targets[0].id
                self.changed[target] = 0
                value = run.element_of(run.element_value.get(id(stmt), stmt.value), counter)
                if isinstance(value, gast.Name) and value.id not in run.elements \
                        and run.rank(value.id) == 0:
                    run.same[target] = value    # `bmul8 = bresult`: read bresult instead
                else:
                    body.append(assign(target, value, like=stmt))
            elif kind == "sum":
                target = stmt.targets[0].id
                start, summed = run.summed(stmt.value)
                if start is None:
                    start = gast.Constant(value=0.0, kind=None)
                if not (isinstance(start, gast.Name) and start.id == target):
                    starts.append(assign(target, start, like=stmt))
                total = gast.BinOp(left=name(target), op=gast.Add(),
                                   right=run.element_of(summed, counter))
                body.append(assign(target, total, like=stmt))
            elif kind == "add":
                array = stmt.targets[0].id
                start, value = run.add_parts[id(stmt)]
                call = gast.Call(func=name("add_at"),
                                 args=[name(array), _plus(counter, start),
                                       run.element_of(value, counter)], keywords=[])
                body.append(assign(array, call, like=stmt))
            # a slice read only in the loop ("view") needs no statement of its own
        root, less = run.space
        bound = gast.Subscript(value=gast.Attribute(value=name(root), attr="shape",
                                                    ctx=gast.Load()),
                               slice=gast.Constant(value=0, kind=None), ctx=gast.Load())
        if less:
            bound = gast.BinOp(left=bound, op=gast.Sub(), right=gast.Constant(value=less, kind=None))
        loop = gast.For(target=name(counter, store=True),
                        iter=gast.Call(func=name("range"), args=[bound], keywords=[]),
                        body=body, orelse=[], type_comment=None)
        gast.copy_location(loop, body[0])
        return before + starts + [loop]


class _Run:
    """The statements of one run, as they are taken, and what is known of its arrays.

    A 1-D array's `length` is `(root, less)`: `max(0, len(root) - less)`; its
    `place` is `(base, start)`: element k of it is `base[start + k]`."""

    def __init__(self, ranks, stores, facts):
        self.ranks = ranks
        self.stores = stores
        self.kinds = []         # (statement, "before" | "element" | "view" | "add" | "sum")
        self.space = None       # the length of every array in the loop
        self.facts = facts      # what is known throughout the function (`_facts`)
        self.length = {}        # name -> length, for the 1-D arrays the run defines
        self.place = {}         # name -> place, likewise
        self.elements = set()   # names of elements (element and view statements)
        self.loop_reads = set()     # names the statements in the loop read
        self.adds = set()       # arrays the run adds into
        self.sums = set()       # numbers the run sums into (complete after the loop only)
        self.add_parts = {}     # id(add statement) -> (s, value): adds value into b[s + k]
        self.arrays = set()     # slices needed as arrays before the loop
        self.element_value = {}     # id(statement) -> g, for `broadcast_like(g, w)` and
        #                             `unbroadcast(g, w)`: the element is g's
        self.read = set()       # names read so far
        self.other_length = False   # the statement last tried is elementwise over another
        self.same = {}          # element name -> the number it is a copy of (not emitted)

    # -- what is known of a name -------------------------------------------------------

    def made_from(self, names):
        """`names` and every name whose array one of them may share, transitively: an
        array read in the loop must not share one it adds into (a slice of it would
        change under the adds)."""
        found, todo = set(), list(names)
        while todo:
            v = todo.pop()
            if v not in found:
                found.add(v)
                if self.ranks.get(v) != 0:      # a number shares no array
                    todo.extend(self.facts.sources.get(v, ()))
        return found

    def in_loop(self, reads, length):
        """Whether a statement over `length` reading `reads` may join the loop; if so,
        note them (the loop's bound reads the length's root)."""
        if self.space not in (None, length) or self.made_from(reads) & self.adds:
            return False
        self.space = length
        self.loop_reads |= reads
        self.read |= reads | {length[0]}
        return True

    def length_of(self, v):
        return self.length.get(v) or self.facts.lengths.get(v, (v, 0))

    def place_of(self, v):
        return self.place.get(v) or self.facts.places.get(v, (v, 0))

    def rank(self, v):
        """0 or 1 where known: from the ranks, or from a length proved (a call the
        ranks do not know, such as a gradient's `np.cos(x)`, may have one)."""
        r = self.ranks.get(v)
        if isinstance(r, int):
            return r
        return 1 if v in self.length or v in self.facts.lengths else None

    # -- taking a statement ------------------------------------------------------------

    def take(self, stmt):
        """Whether `stmt` joins the run (then it is recorded)."""
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            return False
        self.drop_unbroadcasts(stmt)
        target, value = stmt.targets[0].id, stmt.value
        reads = names_in(value)
        if target in self.sums:
            return self.take_sum(stmt, target, value, reads, more=True)
        if reads & self.sums:
            return False        # reading a sum before the loop completes it
        added = self.added(stmt)
        if added is not None:
            return self.take_add(stmt, target, reads, *added)
        if target in self.read or target in self.adds | self.elements | self.sums:
            return False        # reassigning what the run read: moving would reorder
        if reads & self.adds:
            return False        # reading an array the run adds into
        if self.rank(target) == 0 and self.take_sum(stmt, target, value, reads):
            return True
        if self.stores.get(target) == 1 and self.rank(target) in (1, None) \
                and target not in reads | self.facts.params:
            self.other_length = False
            if self.take_view(stmt, target, value, reads) or \
                    self.take_element(stmt, target, value, reads):
                return True
            if self.other_length:
                return False    # elementwise over another length: the next run's
        if not _pure(value):
            return False
        self.arrays |= reads & self.elements    # read before the loop: arrays there too
        self.record(stmt, "before", target, reads)
        length = self.allocated_length(value)
        if length is None and _elementwise_leaves(value) is not None:
            length = self.common_length(_elementwise_leaves(value))
        if length not in (None, "number") and self.rank(target) == 1:
            self.length[target] = length
        return True

    def drop_unbroadcasts(self, stmt):
        """`unbroadcast(g, w)` inside `stmt` is `g` where `g` and `w` are 1-D of one
        length (it sums nothing): then the expression around it may be elementwise."""
        for node in gast.walk(stmt):
            for field, value in gast.iter_fields(node):
                if _spelling(getattr(value, "func", None)) == "unbroadcast" and \
                        len(value.args) == 2 and isinstance(value.args[1], gast.Name) and \
                        self.rank(value.args[1].id) == 1:
                    leaves = _elementwise_leaves(value.args[0])
                    length = None if leaves is None else self.common_length(leaves)
                    if length not in (None, "number") and \
                            length == self.common_length([value.args[1]]):
                        setattr(node, field, value.args[0])

    def record(self, stmt, kind, target, reads):
        self.kinds.append((stmt, kind))
        self.read |= reads
        if kind in ("element", "view"):
            self.elements.add(target)

    def take_view(self, stmt, target, value, reads):
        """`v = a[s:-t]` of a 1-D array `a`."""
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                and isinstance(value.slice, gast.Slice)):
            return False
        array = value.value.id
        bounds = slice_bounds(value.slice.lower, value.slice.upper, value.slice.step)
        if bounds is None or self.rank(array) != 1:
            return False
        if array in self.elements and array not in self.place:
            self.arrays.add(array)      # a slice of an element: the element is an array
        s, t = bounds
        root, less = self.length_of(array)
        base, start = self.place_of(array)
        self.length[target] = (root, less + s + t)
        self.place[target] = (base, start + s)
        self.record(stmt, "view", target, reads)
        return True

    def take_element(self, stmt, target, value, reads):
        spelled = _spelling(getattr(value, "func", None))
        shaped = spelled in ("broadcast_like", "unbroadcast") and len(value.args) == 2 \
            and not value.keywords and _elementwise_leaves(value.args[0]) is not None \
            and isinstance(value.args[1], gast.Name) and self.rank(value.args[1].id) == 1
        if shaped:
            # `g` given the shape of `w`: each element is g's, where g is a number spread
            # over `w` or an array of `w`'s length (an `unbroadcast` that sums nothing)
            length = self.common_length([value.args[1]])
            if self.common_length(_elementwise_leaves(value.args[0])) not in ("number", length):
                return False
            self.element_value[id(stmt)] = value.args[0]
        else:
            leaves = _elementwise_leaves(value)
            length = None if leaves is None else self.common_length(leaves)
        if length in (None, "number"):
            return False
        if self.space not in (None, length):
            self.other_length = True
            return False
        if not self.in_loop(reads, length):
            return False
        self.length[target] = length
        self.record(stmt, "element", target, reads)
        return True

    def added(self, stmt):
        """(value, (s, t)) where `stmt` adds `value` into `b[s:-t]`: `b = add_at(b,
        slice(...), value)`, or `b = b + value` (`b - e`: value `-e`) for an adjoint
        updated in place (its array is its own: adding in place is the same)."""
        target, value = stmt.targets[0].id, stmt.value
        if is_add(stmt):
            bounds = _slice_call_bounds(value.args[1])
            return None if bounds is None else (value.args[2], bounds)
        if not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub))
                and target in self.facts.in_place):
            return None
        if isinstance(value.left, gast.Name) and value.left.id == target:
            other = value.right
            if isinstance(value.op, gast.Sub):
                other = gast.UnaryOp(op=gast.USub(), operand=other)
            return other, (0, 0)
        if isinstance(value.op, gast.Add) and isinstance(value.right, gast.Name) \
                and value.right.id == target:
            return value.left, (0, 0)
        return None

    def take_add(self, stmt, target, reads, value, bounds):
        others = reads - {target}
        if (others & self.adds or target in self.read or target in self.elements
                or target in names_in(value) or self.rank(target) != 1):
            return False
        if self.place_of(target) != (target, 0):
            return False        # an add into a slice of another array
        leaves = _elementwise_leaves(value)
        if leaves is None:
            return False
        s, t = bounds
        root, less = self.length_of(target)
        region = (root, less + s + t)
        length = self.common_length(leaves)
        if length is None or (length != "number" and length != region):
            return False
        if target in self.made_from(self.loop_reads | others) or not self.in_loop(others, region):
            return False
        self.read.discard(target)   # (the root of its own length: the adds keep it)
        self.kinds.append((stmt, "add"))
        self.add_parts[id(stmt)] = (s, value)
        self.read |= others
        self.adds.add(target)
        return True

    def take_sum(self, stmt, target, value, reads, more=False):
        """`t = np.sum(e)`, `t = unbroadcast(e, w)` of a number `w`, or either plus a
        number `a`: `e` elementwise over the run's length; `more`: `t = t + np.sum(e)`
        where the run already sums into `t`."""
        found = self.summed(value)
        if found is None:
            return False
        start, summed = found
        if more and not (isinstance(start, gast.Name) and start.id == target
                         and not (names_in(summed) & self.sums)):
            return False
        leaves = _elementwise_leaves(summed)
        if leaves is None:
            return False
        length = self.common_length(leaves)
        if length in (None, "number") or not self.in_loop(reads, length):
            return False
        self.record(stmt, "sum", target, reads)
        self.sums.add(target)
        return True

    def summed(self, value):
        """(what the sum starts from, what it sums) for the forms `take_sum` takes."""
        if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            inner = self.summed(value.operand)
            if inner is not None and inner[0] is None:
                return None, gast.UnaryOp(op=gast.USub(), operand=inner[1])
            return None
        if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub)):
            pairs = [(value.left, value.right)]
            if isinstance(value.op, gast.Add):
                pairs.append((value.right, value.left))
            for start, other in pairs:
                inner = self.summed(other)
                if inner is not None and inner[0] is None and (
                        isinstance(start, gast.Name) and self.rank(start.id) == 0
                        or isinstance(start, gast.Constant) and type(start.value) is float):
                    summed = inner[1]
                    if isinstance(value.op, gast.Sub):
                        summed = gast.UnaryOp(op=gast.USub(), operand=summed)
                    return start, summed
            return None
        if not (isinstance(value, gast.Call) and not value.keywords):
            return None
        spelled = _spelling(value.func)
        if spelled == "np.sum" and len(value.args) == 1:
            return None, value.args[0]
        if spelled == "unbroadcast" and len(value.args) == 2 and isinstance(
                value.args[1], gast.Name) and self.rank(value.args[1].id) == 0:
            return None, value.args[0]
        return None

    def common_length(self, leaves):
        """The length all 1-D leaves share ("number" when there are none), else None."""
        found = set()
        for leaf in leaves:
            if isinstance(leaf, gast.Constant):
                continue
            r = self.rank(leaf.id)
            if r == 1:
                found.add(self.length_of(leaf.id))
            elif r != 0:
                return None
        if not found:
            return "number"
        return found.pop() if len(found) == 1 else None

    def allocated_length(self, value):
        """The length of an array made like another (`zeros_like(x)`), else None."""
        if isinstance(value, gast.Call):
            spelled = _spelling(value.func)
            k = _SAME_SHAPE.get(spelled)
            if k is not None and len(value.args) > k and isinstance(value.args[k], gast.Name) \
                    and self.rank(value.args[k].id) == 1:
                return self.length_of(value.args[k].id)
        return None

    # -- rewriting ---------------------------------------------------------------------

    def keep_arrays(self, escaping):
        """Element statements whose value is read after the run stay array statements
        before the loop, with every element statement they read."""
        keep = set()
        todo = [v for v in escaping]
        defs = {stmt.targets[0].id: stmt for stmt, kind in self.kinds
                if kind in ("element", "view")}
        while todo:
            v = todo.pop()
            if v in keep or v not in defs:
                continue
            keep.add(v)
            todo.extend(n.id for n in walk(defs[v].value) if isinstance(n, gast.Name))
        self.kinds = [(stmt, "before" if kind in ("element", "view") and
                       stmt.targets[0].id in keep else kind) for stmt, kind in self.kinds]
        self.elements -= keep
        for v in keep:          # an array now, read by its own elements
            self.place[v] = (v, 0)

    def element_of(self, expr, counter):
        """`expr` with each 1-D array it reads replaced by its element at `counter`."""
        expr = copy.deepcopy(expr)
        for node in list(gast.walk(expr)):
            for field, value in gast.iter_fields(node):
                if isinstance(value, gast.Name):
                    setattr(node, field, self.element_read(value, counter))
                elif isinstance(value, list):
                    value[:] = [self.element_read(v, counter) if isinstance(v, gast.Name) else v
                                for v in value]
        if isinstance(expr, gast.Name):
            return self.element_read(expr, counter)
        return expr

    def element_read(self, node, counter):
        v = node.id
        if isinstance(node.ctx, gast.Load) and v in self.same:
            return name(self.same[v].id)
        if not isinstance(node.ctx, gast.Load) or v in self.elements and v not in self.place:
            return node         # a number, or an element the loop computes
        if self.rank(v) != 1:
            return node
        base, start = self.place_of(v)
        return gast.Subscript(value=name(base), slice=_plus(counter, start), ctx=gast.Load())


def _is_add_value(value):
    return (isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id == "add_at" and len(value.args) == 3 and not value.keywords
            and isinstance(value.args[0], gast.Name))


def _slice_call_bounds(index):
    """The bounds of `slice(s, stop, step)` as `shapes.slice_bounds`, else None."""
    if not (isinstance(index, gast.Call) and isinstance(index.func, gast.Name)
            and index.func.id == "slice" and len(index.args) == 3 and not index.keywords):
        return None
    return slice_bounds(*index.args)


def _spelling(func):
    if isinstance(func, gast.Name):
        return func.id
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        return f"{func.value.id}.{func.attr}"
    return None


def _elementwise_leaves(expr):
    """The names and constants `expr` combines elementwise, else None."""
    if isinstance(expr, gast.Name):
        return [expr]
    if isinstance(expr, gast.Constant):
        return [expr] if type(expr.value) in (int, float) else None
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return _elementwise_leaves(expr.operand)
    if isinstance(expr, gast.BinOp):
        if isinstance(expr.op, gast.Div):
            divisor = expr.right
            if not (isinstance(divisor, gast.Constant) and type(divisor.value) in (int, float)
                    and divisor.value != 0):
                return None
        elif isinstance(expr.op, gast.Pow):
            exponent = expr.right
            if not (isinstance(exponent, gast.Constant) and (
                    type(exponent.value) is float
                    or type(exponent.value) is int and exponent.value >= 0)):
                return None
        elif not isinstance(expr.op, _ARITHMETIC):
            return None
        left, right = _elementwise_leaves(expr.left), _elementwise_leaves(expr.right)
        return None if left is None or right is None else left + right
    if (isinstance(expr, gast.Call) and len(expr.args) == 1 and not expr.keywords
            and isinstance(expr.func, gast.Attribute) and isinstance(expr.func.value, gast.Name)
            and expr.func.value.id == "np" and expr.func.attr in _UFUNCS):
        return _elementwise_leaves(expr.args[0])
    return None


def _pure(expr):
    """Whether evaluating `expr` earlier changes nothing: arithmetic, reads, and calls
    that only allocate or compute."""
    for node in walk(expr):
        if isinstance(node, gast.Call):
            spelled = _spelling(node.func)
            if spelled not in _PURE_CALLS and not (
                    spelled and spelled.startswith("np.") and spelled[3:] in _UFUNCS):
                return False
        elif isinstance(node, (gast.Lambda, gast.NamedExpr, gast.Yield, gast.Await)):
            return False
    return True


def _plus(counter, start):
    if start == 0:
        return name(counter)
    return gast.BinOp(left=name(counter), op=gast.Add(), right=gast.Constant(value=start, kind=None))
