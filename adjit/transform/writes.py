"""Writes into arrays: which are safe to differentiate, and what each needs saved.

Input: SSA code (with `a[i] = v` statements, see `normalize`). Output: a
`Writes` record, or `TransformError` at the user's line for a write adjit
cannot differentiate correctly:

- the array written must be the function's own: an argument (the adjoint
  writes into a copy, never into the caller's array), or made by a call or
  an operation that returns a new array (`np.zeros`, `x.copy()`, `2 * x`),
  possibly through plain copies; never a slice or row of another array, or a
  view such as `x.T` (a write through it would change the other array);
- no other name for the same array (a copy `b = a`, a slice `a[1:]`, a row
  `a[i]`) may still be read after the write, because its gradient would be
  counted for the value it held before. An element read (`t = a[i]`, as in
  a swap through a temporary) is allowed: generated code checks that it is
  indeed a number (`must_be_scalar`), not a row;
- `b += v` rebinds `b` to a new value, which is what Python does for a
  number but not for an array (NumPy changes it in place): where another
  name for `b`'s value is used afterwards, generated code checks that the
  value is a number;
- inside a loop, the array must be either new in every iteration or the
  same one throughout.

Each written name gets an undo log: before every write, the forward sweep
saves the elements it overwrites, and the reverse sweep puts them back where
it reverses the write, so every statement's adjoint reads the array as it
was. A loop whose body writes into an array that lives across its
iterations also saves the log's height each iteration: a reverse iteration
first undoes that iteration's writes, then re-runs the body.

An array such a loop writes but never reads (its body reads no name that may
share its memory: `write_only`) needs none of that: the loop's reverse undoes
all the loop's writes at once, then runs without writing into the array, as
nothing in it reads the array.
Invariant: an array's value at each statement of the reverse sweep that reads
it is the value it had when the forward sweep ran the statement.
"""

import dataclasses

import gast

from .normalize import written_array
from .ssa import read_names

# Primitives whose result may share memory with their first argument.
VIEWS = {"transpose", "reshape", "ravel", "asarray", "squeeze", "expand_dims", "swapaxes",
         "moveaxis", "diagonal", "broadcast_to", "atleast_1d", "atleast_2d", "real", "T", "flip"}


@dataclasses.dataclass
class Writes:
    logs: dict              # written name -> its undo log's name
    copy_params: list       # arguments the adjoint must copy before writing into them
    scalar_reads: set       # ids of `t = a[i]` statements whose value must be a number
    across: dict            # id(loop) -> written names whose array outlives an iteration
    write_only: dict = dataclasses.field(default_factory=dict)  # id(loop) -> `across` names
    #                         the body never reads, through any name sharing their memory
    sharing: dict = dataclasses.field(default_factory=dict)     # written name -> names that
    #                         may share its memory (itself included)

    def __bool__(self):
        return bool(self.logs)

    def reads_any(self, array, names):
        """Whether `names` (names read somewhere) include one that may share `array`'s memory."""
        return not self.sharing.get(array, {array}).isdisjoint(names)


def analyse(source, fdef, namer):
    """Check every write in SSA `fdef`; return what the adjoint must save (see module doc)."""
    params = [a.id for a in fdef.args.args]
    sites = []              # (write statement, enclosing loops)
    definitions = {}        # name -> [(statement, enclosing loops)]

    def visit(stmts, loops):
        for stmt in stmts:
            if written_array(stmt):
                sites.append((stmt, loops))
            elif isinstance(stmt, gast.Assign):
                definitions.setdefault(stmt.targets[0].id, []).append((stmt, loops))
            elif isinstance(stmt, gast.If):
                visit(stmt.body, loops)
                visit(stmt.orelse, loops)
            elif isinstance(stmt, (gast.For, gast.While)):
                visit(stmt.body, loops + (stmt,))

    visit(fdef.body, ())
    augmented = [stmt for stmt, _ in sum(definitions.values(), [])
                 if getattr(stmt, "adjit_augmented", False)]
    if not sites and not augmented:
        return Writes({}, [], set(), {})
    owner = _Owner(source, params, definitions)
    across = {}
    for stmt, loops in sites:
        array = written_array(stmt)
        owner.check(array, stmt)
        for loop in loops:
            if owner.new_each_iteration(array, loop):
                continue
            if not owner.same_throughout(array, loop):
                raise source.error(
                    f"`{array}` is sometimes a new array in each iteration of the loop and "
                    "sometimes not; adjit cannot follow writes into it. Make it one or the "
                    "other (e.g. `.copy()` it at the start of the iteration)", stmt)
            across.setdefault(id(loop), [])
            if array not in across[id(loop)]:
                across[id(loop)].append(array)
    facts_at = {}
    _aliases(fdef.body, set(), facts_at)
    live_after = {}
    _liveness(fdef.body, set(), live_after)
    scalar_reads = set()
    copy_params = []
    for stmt, _ in sites:
        array = written_array(stmt)
        for param in _copied_from(definitions, array, params):
            if param not in copy_params:
                copy_params.append(param)
        for other in _sharing(array, stmt, facts_at, live_after):
            # `other` is made from `array` by copies and element reads: a number
            # (checked when it runs) unless it is a plain copy or a slice.
            link = _link(definitions, other, array, need_element=True)
            if link is None:
                raise source.error(
                    f"`{other}` shares its memory with `{array}` (it is a copy of the name, a "
                    f"slice or a view) and is used after this write changes `{array}`; adjit "
                    f"cannot differentiate that. Use `.copy()` where `{other}` is made", stmt)
            scalar_reads.add(id(link))
    for stmt in augmented:
        # `b += v` changes an array `b` in place (a number it rebinds, as adjit does):
        # then no other name for `b`'s array may be used after it.
        old, new = stmt.value.left.id, stmt.targets[0].id
        for other in _sharing(old, stmt, facts_at, live_after):
            if other == new:
                continue    # the value this line makes (a loop's back-edge copies it to `old`)
            link = _link(definitions, other, old) or _link(definitions, old, other)
            if link is None:
                raise source.error(
                    f"`{other}` shares its memory with `{old}` (a copy of the name, a slice or "
                    f"a view) and is used after this line changes `{old}` in place; adjit "
                    f"cannot differentiate that. Use `.copy()` where `{other}` is made", stmt)
            scalar_reads.add(id(link))      # harmless for numbers: checked when it runs
    logs = {}
    for stmt, _ in sites:
        array = written_array(stmt)
        if array not in logs:
            logs[array] = namer.unique("log_" + array)
    sharing = {array: _sharing_class(definitions, array) for array in logs}
    loops = {id(loop): loop for _, enclosing in sites for loop in enclosing}
    write_only = {}
    for key, arrays in across.items():
        read = set(reads_in(loops[key].body))
        write_only[key] = [a for a in arrays if sharing[a].isdisjoint(read)]
    return Writes(logs, copy_params, scalar_reads, across, write_only, sharing)


def reads_in(stmts):
    """The names `stmts` read, at any depth; the array a write `a[i] = v` goes into is
    not read by it (its index and value are)."""
    found = []
    for stmt in stmts:
        if written_array(stmt):
            found += read_names(stmt.targets[0].slice) + read_names(stmt.value)
            continue
        for field in ("body", "orelse"):
            found += reads_in(getattr(stmt, field, None) or [])
        for field in ("value", "test", "iter"):
            part = getattr(stmt, field, None)
            if isinstance(part, gast.AST):
                found += read_names(part)
    return found


def _sharing_class(definitions, array):
    """`array` and every name that may share its memory, by any chain of copies, slices
    and views in either direction (wherever in the function they are made)."""
    neighbours = {}
    for var, stmts in definitions.items():
        for stmt, _ in stmts:
            source = _alias_source(stmt.value)
            if source is not None:
                neighbours.setdefault(var, set()).add(source)
                neighbours.setdefault(source, set()).add(var)
    found, frontier = set(), [array]
    while frontier:
        var = frontier.pop()
        if var not in found:
            found.add(var)
            frontier.extend(neighbours.get(var, ()))
    return found


def _sharing(array, stmt, facts_at, live_after):
    """The names that may share memory with `array` at `stmt` and are read after it."""
    found = []
    for pair in facts_at.get(id(stmt), ()):
        if array not in pair:
            continue
        (other,) = pair - {array}
        if other in live_after.get(id(stmt), ()) and other not in found:
            found.append(other)
    return found


def _slices(value):
    """Whether `value` is `a[...]` with a slice in its index: certainly a view of `a`."""
    if not isinstance(value, gast.Subscript):
        return False
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    return any(isinstance(p, gast.Slice) for p in parts)


def _source_of(value):
    """`(name, is_element_read)` when `value` is a copy `b` or an element read `b[i]`
    of a name (a slice `b[1:]` is a view: None)."""
    if isinstance(value, gast.Name):
        return value.id, False
    if isinstance(value, gast.Subscript) and not _slices(value):
        return value.value.id, True
    return None, False


def _link(definitions, start, target, need_element=False):
    """How `start` came to share `target`'s memory: through chains of copies and
    element reads from a common source (`target` itself, or a value both were read
    from). Returns the definition of `start` its chain begins with (one runtime
    check there covers it), or None when there is no such chain. With
    `need_element`, `start`'s chain must read an element on the way (a chain of
    plain copies is the very array)."""
    sources = set(_ancestors(definitions, target))
    for var, first, element in _ancestors(definitions, start, with_hops=True):
        if var in sources and first is not None and (element or not need_element):
            return first
    return None


def _ancestors(definitions, start, with_hops=False):
    """`start` and the names it is a copy or element read of, transitively (with the
    first definition on the way and whether the way reads an element)."""
    frontier, seen, found = [(start, None, False)], set(), []
    while frontier:
        var, first, element = frontier.pop(0)
        if var in seen:
            continue
        seen.add(var)
        found.append((var, first, element) if with_hops else var)
        for stmt, _ in definitions.get(var, ()):
            source, read = _source_of(stmt.value)
            if source is not None:
                frontier.append((source, first or stmt, element or read))
    return found


def _copied_from(definitions, array, params):
    """The arguments whose array `array` may be, through plain copies: the adjoint
    writes into copies of those, never into the caller's arrays."""
    found, frontier, seen = [], [array], set()
    while frontier:
        var = frontier.pop()
        if var in seen:
            continue
        seen.add(var)
        if var in params:
            found.append(var)
        for stmt, _ in definitions.get(var, ()):
            if isinstance(stmt.value, gast.Name):
                frontier.append(stmt.value.id)
    return found


class _Owner:
    """Where each written array comes from."""

    def __init__(self, source, params, definitions):
        self.source = source
        self.params = params
        self.definitions = definitions

    def check(self, array, stmt):
        reason = self.not_own(array, set())
        if reason:
            raise self.source.error(f"cannot write into `{array}` here: {reason}", stmt)

    def not_own(self, var, seen):
        """Why `var` may not be written into, or None when it may."""
        if var in self.params or var in seen:
            return None
        seen.add(var)
        for stmt, _ in self.definitions.get(var, ()):
            value = stmt.value
            if isinstance(value, gast.Name):
                reason = self.not_own(value.id, seen)
                if reason:
                    return reason
            elif isinstance(value, gast.Subscript):
                return (f"it is part of `{value.value.id}` (a row or slice is a view, and a write "
                        f"would change `{value.value.id}` too); make it with `.copy()`")
            elif _is_view(value):
                return "it may share memory with another array (a view); make it with `.copy()`"
        return None

    def new_each_iteration(self, var, loop):
        """Every definition of `var` is in `loop`'s body and makes a new array."""
        defs = self.definitions.get(var, ())
        if var in self.params or not defs:
            return False
        for stmt, loops in defs:
            if loop not in loops:
                return False
            if isinstance(stmt.value, gast.Name) and not self.new_each_iteration(stmt.value.id, loop):
                return False
        return True

    def same_throughout(self, var, loop):
        """`var` names one array for the whole loop: assigned only outside it, or
        loop-carried (assigned before it and by the body's back-edge)."""
        for stmt, loops in self.definitions.get(var, ()):
            if loop in loops and not getattr(stmt, "adjit_backedge", False):
                return False
        return True


def _is_view(value):
    return isinstance(value, gast.Call) and getattr(value, "adjit_primitive", None) is not None \
        and value.adjit_primitive.name in VIEWS


def _alias_source(value):
    """The name whose memory the value of `value` may share."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, gast.Subscript):
        return value.value.id
    if _is_view(value) and value.args and isinstance(value.args[0], gast.Name):
        return value.args[0].id
    return None


def _aliases(stmts, facts, facts_at):
    """Forward pass: which pairs of names may share memory before each write."""
    for stmt in stmts:
        if written_array(stmt) or getattr(stmt, "adjit_augmented", False):
            facts_at.setdefault(id(stmt), set()).update(facts)
        if written_array(stmt):
            continue
        if isinstance(stmt, gast.Assign):
            var = stmt.targets[0].id
            facts = {p for p in facts if var not in p}
            source = _alias_source(stmt.value)
            if source and source != var:
                new = {frozenset((var, source))}
                new |= {frozenset((var, *(p - {source}))) for p in facts if source in p}
                facts |= new
        elif isinstance(stmt, gast.If):
            facts = _aliases(stmt.body, set(facts), facts_at) | \
                _aliases(stmt.orelse, set(facts), facts_at)
        elif isinstance(stmt, (gast.For, gast.While)):
            head = set(facts)
            while True:
                end = _aliases(stmt.body, set(head), facts_at)
                if end <= head:
                    break
                head |= end
            facts = head
    return facts


def _liveness(stmts, live, live_after):
    """Backward pass: the names read after each write (in this or a later iteration)."""
    for stmt in reversed(stmts):
        if getattr(stmt, "adjit_augmented", False):
            live_after.setdefault(id(stmt), set()).update(live)
        if written_array(stmt):
            live_after.setdefault(id(stmt), set()).update(live)
            live = live | set(read_names(stmt))
        elif isinstance(stmt, gast.Assign):
            live = (live - {stmt.targets[0].id}) | set(read_names(stmt.value))
        elif isinstance(stmt, gast.If):
            live = _liveness(stmt.body, set(live), live_after) | \
                _liveness(stmt.orelse, set(live), live_after) | set(read_names(stmt.test))
        elif isinstance(stmt, (gast.For, gast.While)):
            header = set(read_names(stmt.iter if isinstance(stmt, gast.For) else stmt.test))
            head = set(header)
            while True:
                start = _liveness(stmt.body, live | head, live_after)
                if start <= head:
                    break
                head |= start
            live = live | head
        elif isinstance(stmt, gast.Return):
            live = live | set(read_names(stmt))
    return live
