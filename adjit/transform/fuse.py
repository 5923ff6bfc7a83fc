"""Fusion pass: inline single-use temporaries, so elementwise chains read (and compile) as one expression.

Input: generated `FunctionDef`s (adjoints, primals, tangents), one operation per
statement. Output: copies in which a compiler temporary (`pow3`, `bsub8`) whose
value is read exactly once, by a later statement of the same statement list, is
replaced by its expression there:

    pow3 = item2 ** 2
    sub4 = item1 - pow3      ->     sub4 = x[1:] - x[:-1] ** 2
    item1 = x[1:]

Numba fuses a nested elementwise expression into one loop; a chain of named
temporaries costs one array (and one pass over memory) per step. Only emission
uses this pass (`pipeline`): forward mode transforms the unfused trees.

When an expression `t = E` moves down to the one statement reading `t`:

- `E` is pure: operators, comparisons, constants, names, subscript loads, tuples,
  slices and calls of NumPy functions, `math` functions and the runtime helpers
  that only compute (`PURE_HELPERS`); any other call (a user function's primal or
  adjoint, a custom gradient, `add_at`) stays where it is;
- `t` is a compiler temporary (its name is not one the user wrote, nor the adjoint
  or tangent of one: `keep`), and every read of `t` in the function is the first
  mention of `t` after a plain `t = ...` in the same statement list, once, in a
  plain statement (not an `if` test or loop header, not a `return`): so each read
  sees exactly the assignment just above it, in the same run of the list, and no
  value of `t` is loop-carried or read after a loop;
- no statement between the two reassigns a name `E` reads or may change an array
  in place (a write `a[i] = v`, an expression statement such as `undo_write(...)`,
  a call that is not pure), and in the reading statement no impure call runs before
  `t` is read.

Invariant: the function computes the same values, in the same order of floating-
point operations (the expression keeps its tree); only when pure expressions are
evaluated changes, and only across statements that cannot change what they read.
"""

import re

import gast

from .names import walk

# Runtime helpers (adjit.runtime.helpers.HELPERS) that compute a value from their
# arguments and change nothing: moving a call of one is moving arithmetic. Left out,
# so barriers: add_at, zero_at, log_write, undo_write, undo_to, grow (change an array
# or a stack in place), must_be_scalar (a check), undo_log, log_height, stack_like,
# restore (stacks and logs: kept where the sweep puts them).
PURE_HELPERS = frozenset({
    "zeros_like", "seed_like", "unbroadcast", "broadcast_like", "size_of", "extremum_grad",
    "dot_grad_left", "dot_grad_right", "log_or_zero", "trip_count", "snapshot", "grad_at",
    "grad_or_zero", "tangent_like", "sort_tangent", "prod_others_tangent", "cumprod_tangent",
    "cholesky_tangent", "eigvalsh_tangent", "eigh_tangent",
    "reshape_to", "sum_axis", "mean_axis", "prod_axis", "max_axis", "min_axis", "var_axis",
    "std_axis", "norm_axis", "cumsum_axis", "cumprod_axis", "unreduce", "reduced_size",
    "centered", "prod_others", "extremum_share", "one_if_zero", "cumsum_grad", "cumprod_grad",
    "clip_of", "clip_inside", "clip_below", "clip_above",
    "matmul_of", "inner_of", "tensordot_of", "tensordot_grad_left", "tensordot_grad_right",
    "einsum_of", "einsum_grad_first", "einsum_grad_second", "diag_grad", "diagonal_of",
    "diagonal_grad", "flat_copy", "squeeze_of", "transpose_back", "tile_of", "tile_grad",
    "repeat_of", "repeat_grad", "take_grad", "sort_grad", "cholesky_grad", "eigvalsh_grad",
    "astype_of", "astype_grad", "concatenate_of", "concatenate_piece", "stack_piece",
    "vstack_piece", "hstack_piece", "eigh_grad",
})

PURE_BUILTINS = frozenset({"slice", "abs", "min", "max", "float", "int", "len"})

# NumPy functions that write into an argument.
_NUMPY_WRITERS = frozenset({"copyto", "put", "put_along_axis", "place", "putmask",
                            "fill_diagonal", "random", "seterr", "save", "savetxt"})

# A temporary's name ends in the counter of `Namer.temp`: a letter, then digits.
_TEMPORARY = re.compile(r"\w*[A-Za-z]\d+")


def fused(functions, keep=(), prefixes="b"):
    """Fused deep copies of `functions` (the originals are left as they are).

    `keep`: the names the user wrote (never inlined, nor are `prefixes + name`,
    their adjoints and tangents)."""
    out = []
    for fdef in functions:
        fdef = _copy(fdef)
        fuse(fdef, keep, prefixes)
        out.append(fdef)
    return out


def _copy(node):
    """A copy of the tree `node`: its fields and source positions only (not the notes other
    passes leave on nodes, such as a call's Primitive, which emission does not read)."""
    if isinstance(node, list):
        return [_copy(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = type(node).__new__(type(node))
    for field in node._fields:
        setattr(new, field, _copy(getattr(node, field, None)))
    for attribute in node._attributes:
        if hasattr(node, attribute):
            setattr(new, attribute, getattr(node, attribute))
    return new


def fuse(fdef, keep=(), prefixes="b"):
    """Inline the single-use temporaries of `fdef`, in place; returns it."""
    keep = set(keep) | {a.id for a in fdef.args.args}
    _Fuser(fdef, keep, prefixes).run()
    return fdef


def is_temporary(name, keep, prefixes="b"):
    """Whether `name` is a compiler temporary: shaped like one (`mul3`, `bsub8`) and
    neither a name in `keep` nor one of those with adjoint/tangent prefixes."""
    if name in keep or not _TEMPORARY.fullmatch(name):
        return False
    rest = name
    while rest and rest[0] in prefixes:
        rest = rest[1:]
        if rest in keep:
            return False
    return True


# ---- analysis ------------------------------------------------------------------

_COMPOUND = (gast.If, gast.For, gast.While)
_SIMPLE = (gast.Assign, gast.Expr)
_READ, _KILLED, _THROUGH = "read", "killed", "through"


def _names(node, ctx=None):
    """Names in `node` (a statement or expression), as a list, with `ctx` if given."""
    return [n.id for n in walk(node) if isinstance(n, gast.Name)
            and (ctx is None or isinstance(n.ctx, ctx))]


def _header(stmt):
    """The expressions a compound statement evaluates itself (test, iterator, target)."""
    if isinstance(stmt, gast.For):
        return [stmt.target, stmt.iter]
    return [stmt.test]


def _escapes(stmt):
    """Whether a `break` or `continue` in `stmt` may leave it (not bound to a loop inside)."""
    if isinstance(stmt, (gast.Break, gast.Continue)):
        return True
    if isinstance(stmt, gast.If):
        return any(_escapes(s) for s in stmt.body + stmt.orelse)
    return False


class _Facts:
    """What the pass asks of one statement, computed once (a statement inlined into is
    looked at afresh; the compound statements around it keep a superset of names)."""

    __slots__ = ("names", "stores", "writes", "jumps", "definition")

    def __init__(self, names, stores, writes, jumps, definition=None):
        self.names = names
        self.stores = stores
        self.writes = writes
        self.jumps = jumps
        self.definition = definition


def _nodes(node):
    """Every node of `node`'s tree (in no particular order): a fast `gast.walk`."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)


def _simple_facts(stmt, nodes=None):
    names, stores, count = set(), set(), {}
    writes = jumps = False
    for node in _nodes(stmt) if nodes is None else nodes:
        if isinstance(node, gast.Name):
            names.add(node.id)
            count[node.id] = count.get(node.id, 0) + 1
            if isinstance(node.ctx, gast.Store):
                stores.add(node.id)
        elif isinstance(node, (gast.Break, gast.Continue)):
            jumps = True
        elif isinstance(node, gast.Call):
            writes = writes or not pure_function(node.func) or any(
                k.arg is None or k.arg == "out" for k in node.keywords)
        elif isinstance(node, gast.Assign):
            writes = writes or not all(isinstance(t, gast.Name) for target in node.targets
                                       for t in _flat_targets(target))
        elif isinstance(node, gast.stmt) and not isinstance(
                node, (gast.If, gast.For, gast.While, gast.Pass, gast.Return)):
            writes = True                # Expr (a call for its effect), AugAssign, ...
    definition = None
    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and count[stmt.targets[0].id] == 1):
        definition = stmt.targets[0].id
    return _Facts(frozenset(names), frozenset(stores), writes, jumps, definition)


class _Fuser:
    def __init__(self, fdef, keep, prefixes):
        self.fdef = fdef
        self.keep = keep
        self.prefixes = prefixes
        self.parents = {}            # id(statement list) -> (enclosing list, compound statement)
        self.known = {}              # id(statement) -> its _Facts
        self._index(fdef.body)

    def _index(self, stmts):
        for stmt in stmts:
            if isinstance(stmt, _COMPOUND):
                for body in (stmt.body, stmt.orelse):
                    self.parents[id(body)] = (stmts, stmt)
                    self._index(body)

    def facts(self, stmt):
        found = self.known.get(id(stmt))
        if found is None:
            if isinstance(stmt, _COMPOUND):
                # The header's facts, and those of the statements inside (each known once).
                header = [n for e in _header(stmt) for n in _nodes(e)]
                found = _simple_facts(stmt, header)
                inner = [self.facts(s) for s in stmt.body + stmt.orelse]
                found = _Facts(found.names.union(*(f.names for f in inner)),
                               found.stores.union(*(f.stores for f in inner)),
                               found.writes or any(f.writes for f in inner),
                               found.jumps or any(f.jumps for f in inner))
            else:
                found = _simple_facts(stmt)
            self.known[id(stmt)] = found
        return found

    def mentioned(self, stmt):
        return self.facts(stmt).names

    def run(self):
        # One backward pass over each list: inlining `t = E` into a later statement
        # never enables a later definition, only earlier ones, which come after it.
        for body in self._bodies(self.fdef.body):
            p = len(body) - 1
            while p >= 0:
                self.inline(body, p)
                p -= 1

    def _bodies(self, stmts):
        yield stmts
        for stmt in list(stmts):
            if isinstance(stmt, _COMPOUND):
                yield from self._bodies(stmt.body)
                yield from self._bodies(stmt.orelse)

    def inline(self, body, p):
        """Inline `body[p]` (`t = E`) into the one statement reading `t`, if that is safe."""
        stmt = body[p]
        t = self.facts(stmt).definition
        if (t is None or not is_temporary(t, self.keep, self.prefixes)
                or not is_pure(stmt.value)):
            return False
        q = next((k for k in range(p + 1, len(body)) if t in self.mentioned(body[k])), None)
        if q is None or not isinstance(body[q], _SIMPLE):
            return False
        reads = set(_names(stmt.value))
        for between in body[p + 1:q]:
            facts = self.facts(between)
            if facts.writes or facts.jumps or not reads.isdisjoint(facts.stores):
                return False
        site = _read_site(body[q], t)
        if site is None or self.live_after(body, q, t):
            return False
        parent, field, index = site
        if (field == "right" and isinstance(parent, gast.BinOp)
                and isinstance(parent.op, (gast.Add, gast.Sub))
                and isinstance(stmt.value, gast.UnaryOp) and isinstance(stmt.value.op, gast.USub)):
            # `a + -(e)` reads `a - e` (the same number: subtraction adds the negation)
            parent.op = gast.Sub() if isinstance(parent.op, gast.Add) else gast.Add()
            parent.right = stmt.value.operand
        elif index is None:
            setattr(parent, field, stmt.value)
        else:
            getattr(parent, field)[index] = stmt.value
        self.known.pop(id(body[q]), None)
        self.known.pop(id(stmt), None)
        del body[p]
        return True

    def live_after(self, body, q, t, jumped=False):
        """Whether the value `t` holds after `body[q]` may be read (conservatively)."""
        outcome, jumps = self.scan(body, q + 1, t)
        jumped = jumped or jumps
        if outcome == _READ:
            return True
        if outcome == _KILLED and not jumped:
            return False
        if id(body) not in self.parents:
            return False                 # the end of the function (a `return` reads its names)
        outer, compound = self.parents[id(body)]
        j = next(k for k, s in enumerate(outer) if s is compound)
        if isinstance(compound, (gast.For, gast.While)):
            # Round again (the header, then the body from its start), or leave the loop;
            # a `break` or `continue` in the body goes to one of these two.
            if any(t in _names(e) for e in _header(compound)):
                return True
            if self.scan(body, 0, t)[0] == _READ:
                return True
            jumped = False
        return self.live_after(outer, j, t, jumped)

    def scan(self, stmts, start, t):
        """What comes first for the value of `t` from `stmts[start]` on: a read (`_READ`),
        a plain assignment (`_KILLED`) or the end of `stmts` (`_THROUGH`); and whether a
        `break`/`continue` may leave `stmts` on the way."""
        jumped = False
        for stmt in stmts[start:]:
            if t not in self.mentioned(stmt):
                jumped = jumped or _escapes(stmt)
                continue
            if self.facts(stmt).definition == t:
                return _KILLED, jumped
            if isinstance(stmt, gast.If):
                if t in _names(stmt.test):
                    return _READ, jumped
                (a, ja), (b, jb) = self.scan(stmt.body, 0, t), self.scan(stmt.orelse, 0, t)
                if _READ in (a, b):
                    return _READ, jumped
                jumped = jumped or ja or jb
                if a == b == _KILLED:
                    return _KILLED, jumped
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                # The body may run no time, or leave by a `break`: go on after the loop too.
                if any(t in _names(e) for e in _header(stmt)) or self.scan(stmt.body, 0, t)[0] == _READ:
                    return _READ, jumped
                continue
            return _READ, jumped
        return _THROUGH, jumped


def is_pure(node):
    """Whether evaluating expression `node` has no effect but its value (and
    depends on nothing but the names and arrays it reads)."""
    if isinstance(node, (gast.Constant, gast.Name)):
        return isinstance(node, gast.Constant) or isinstance(node.ctx, gast.Load)
    if isinstance(node, gast.BinOp):
        return is_pure(node.left) and is_pure(node.right)
    if isinstance(node, gast.UnaryOp):
        return is_pure(node.operand)
    if isinstance(node, gast.BoolOp):
        return all(is_pure(v) for v in node.values)
    if isinstance(node, gast.Compare):
        return is_pure(node.left) and all(is_pure(c) for c in node.comparators)
    if isinstance(node, gast.Subscript):
        return isinstance(node.ctx, gast.Load) and is_pure(node.value) and is_pure(node.slice)
    if isinstance(node, gast.Slice):
        return all(part is None or is_pure(part) for part in (node.lower, node.upper, node.step))
    if isinstance(node, (gast.Tuple, gast.List)):
        return isinstance(node.ctx, gast.Load) and all(is_pure(e) for e in node.elts)
    if isinstance(node, gast.Attribute):
        # A module's constant or type (np.pi, np.float32), an array's shape (x.shape).
        return isinstance(node.value, gast.Name) and (node.value.id in ("np", "math")
                                                      or node.attr == "shape")
    if isinstance(node, gast.Call):
        return (pure_function(node.func) and all(is_pure(a) for a in node.args)
                and all(k.arg is not None and k.arg != "out" and is_pure(k.value)
                        for k in node.keywords))
    return False


def pure_function(func):
    """Whether `func` (a call's function) is a NumPy or math function or a pure helper."""
    if isinstance(func, gast.Name):
        return func.id in PURE_HELPERS or func.id in PURE_BUILTINS
    if not isinstance(func, gast.Attribute):
        return False
    owner = func.value
    if isinstance(owner, gast.Name):
        return ((owner.id == "np" and func.attr not in _NUMPY_WRITERS)
                or owner.id == "math")
    return (isinstance(owner, gast.Attribute) and owner.attr == "linalg"
            and isinstance(owner.value, gast.Name) and owner.value.id == "np")


def _flat_targets(target):
    if isinstance(target, (gast.Tuple, gast.List)):
        for e in target.elts:
            yield from _flat_targets(e)
    else:
        yield target


# ---- rewriting -----------------------------------------------------------------

def _read_site(stmt, t):
    """Where `stmt` reads `t`, as (parent, field, index or None), if `E` can go there:
    not in an assignment target, and no impure call in `stmt` except those the read
    is an argument of (which run after it)."""
    found = []
    ancestors = []

    def visit(node, path):
        for field, value in gast.iter_fields(node):
            items = value if isinstance(value, list) else [value]
            for k, child in enumerate(items):
                if not isinstance(child, gast.AST):
                    continue
                if isinstance(child, gast.Name) and child.id == t and isinstance(child.ctx, gast.Load):
                    found.append((node, field, k if isinstance(value, list) else None))
                    ancestors.append(list(path))
                visit(child, path + [child])

    if isinstance(stmt, gast.Assign):
        for target in stmt.targets:
            if t in _names(target):
                return None
        visit(stmt, [stmt])
    else:
        visit(stmt, [stmt])
    if len(found) != 1:
        return None
    enclosing = {id(n) for n in ancestors[0]}
    for node in walk(stmt):
        if isinstance(node, gast.Call) and id(node) not in enclosing:
            if not (pure_function(node.func) and all(k.arg is not None and k.arg != "out"
                                                     for k in node.keywords)):
                return None
    return found[0]
