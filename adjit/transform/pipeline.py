"""The compiler pipeline: function source in, adjoint module text out.

source -> refuse -> control -> normalize -> ssa -> copies -> writes -> activity -> reverse -> cleanup
-> accumulate, elementwise_loops, invariant_reads, array_shape (specialised to ranks only) -> fuse (on copies, at emission) -> emit.
Each pass is a pure function of its input tree; this module only strings
them together. The user's namespace and the rules come in through callbacks,
so the compiler never imports the runtime: `resolve_call(source, call_node)`
gives the Primitive of a call, `resolve_global(source, name_node)` the number
a global name holds, `resolve_method(source, call_node, attr)` the Primitive
of an array method, `op_primitive(op_name)` the Primitive of an operator.
A call of a user function resolves to a Primitive whose `callee` is that
function's `Unit`: it is transformed in turn, and the module holds its
primal and adjoint beside the adjoint of the function differentiated.
"""

import copy
import dataclasses
import hashlib
import inspect

import gast

from . import (accumulate, activity, array_shape, cleanup, control, copies, elementwise_loops,
               emit, forward, fuse, invariant_reads, normalize, refuse, reverse, shapes, ssa, writes)
from . import source as source_pass
from .names import Namer, names_in


@dataclasses.dataclass
class Generated:
    """The result of transforming one function."""

    text: str            # the module source
    function: str        # name of the adjoint function in it
    line_map: dict       # generated line -> user line
    params: list         # the user's parameter names
    wrt: tuple           # names differentiated, in order
    filename: str        # the user's file
    externals: dict = dataclasses.field(default_factory=dict)   # name -> object to give the module


@dataclasses.dataclass(eq=False)
class Unit:
    """One function to transform, with the callbacks that resolve the names in it.

    A callee's `functions` (its primal and its adjoint) are generated the first
    time a caller needs them and reused by every later caller; `callees` are
    the units they call in turn."""

    source: object
    resolve_call: object        # (source, call_node) -> Primitive
    resolve_global: object      # (source, name_node) -> number
    resolve_method: object      # (source, call_node, attr) -> Primitive
    functions: list = None
    callees: list = None
    externals: dict = None      # name -> object its generated code calls (custom gradients)


def read_function(func, callee=False):
    """Read `func`'s source and refuse anything adjit cannot differentiate.

    A function called by a differentiated one (`callee`) may return a tuple."""
    source = source_pass.get_source(func)
    refuse.check(source, tuple_return=callee)
    return source


def parameters(source):
    return [a.id for a in source.tree.args.args]


def adjoint_module(unit, wrt, op_primitive, helper_names, fingerprint="", ranks=None,
                   with_value=True):
    """Transform `unit` (its source from `read_function`) into the module of its adjoint
    w.r.t. `wrt`, with the primal and adjoint of every function it calls.

    `ranks` (parameter -> number of dimensions, 0 for a number) specialises the
    adjoint to arguments of those ranks (see `shapes`). Without `with_value` it
    returns None for the value, and computes only what the gradient needs."""
    source = unit.source
    adjoint, callees = _transform(unit, wrt, op_primitive, helper_names, (unit,), ranks=ranks,
                                  with_value=with_value)
    called = _closure(callees)
    functions = [f for callee in called for f in callee.functions]
    _check_distinct_names(source, functions + [adjoint])
    externals = dict(unit.externals)
    for callee in called:
        externals.update(callee.externals)
    helpers = set()
    for f in functions + [adjoint]:
        helpers |= emit.helpers_used(f, helper_names)
    # Emitted fused (single-use temporaries inlined); the trees stay one operation a line.
    kept = set().union(*(names_in(u.source.tree) for u in [unit] + called))
    emitted = fuse.fused(functions + [adjoint], keep=kept)
    text = emit.module_text(emitted, helpers, f"{source.name} in {source.filename}"
                            + _specialisation(ranks, with_value),
                            fingerprint, jitable=[f.name for f in functions],
                            externals=[(name, _digest(obj)) for name, obj in sorted(externals.items())])
    # Only the differentiated function's own lines map to the user's file.
    line_map = emit.line_map(text, [None] * len(functions) + emitted[-1:])
    return Generated(text=text, function=adjoint.name, line_map=line_map,
                     params=parameters(source), wrt=tuple(wrt), filename=source.filename,
                     externals=externals)


def _specialisation(ranks, with_value):
    """How the header describes a module specialised to its arguments' ranks."""
    known = {p: r for p, r in (ranks or {}).items() if r is not None}
    if not known and with_value:
        return ""
    kinds = ", ".join(f"{p} a number" if r == 0 else f"{p} {r}-D" for p, r in known.items())
    return f", for {kinds}" + ("" if with_value else " (gradient only)")


def _transform(unit, wrt, op_primitive, helper_names, stack, callee=False, ranks=None,
               with_value=True):
    """The adjoint FunctionDef of `unit` (and, for a callee, its primal), and the units it calls."""
    source = unit.source
    reserved = set(helper_names) | {"np", "math"}
    names = names_in(source.tree)
    # `g_adjoint` is what a called function `g`'s adjoint is named: never a local.
    namer = Namer(names | reserved | {n + "_adjoint" for n in names if n != source.name})
    tree = control.lower(source, copy.deepcopy(source.tree), namer)
    single_result = getattr(tree, "adjit_result", None)     # names each `return` assigns
    tree = normalize.normalize(source, tree, namer, lambda call: unit.resolve_call(source, call),
                               lambda node: unit.resolve_global(source, node),
                               lambda call, attr: unit.resolve_method(source, call, attr))
    callees = _callees(source, tree, op_primitive, helper_names, stack)
    unit.externals = {}
    for node in gast.walk(tree):
        prim = getattr(node, "adjit_primitive", None) if isinstance(node, gast.Call) else None
        if prim is not None:
            unit.externals.update(prim.externals)
    tree = ssa.to_ssa(source, tree, namer, reserved, result=single_result)
    tree = copies.coalesce(tree)
    written = writes.analyse(source, tree, namer)
    if callee and written.copy_params:
        raise source.error(
            f"`{source.name}` writes into its argument `{written.copy_params[0]}`; adjit "
            "differentiates calls only to functions that leave their arguments unchanged "
            "(write into a `.copy()`)", source.tree)
    returned = tree.body[-1].value
    results = [returned.id] if isinstance(returned, gast.Name) else [e.id for e in returned.elts]
    active = activity.active_names(tree, wrt, results, op_primitive)
    adjoint = reverse.generate(tree, namer, active, list(wrt), results, op_primitive,
                               single_result=bool(single_result), writes=written, callee=callee,
                               ranks=ranks, with_value=with_value)
    cleanup.cleanup(adjoint)
    reverse.grow_stacks(adjoint)
    if ranks:
        known = shapes.ranks_of(tree, ranks)
        accumulate.spread_late(adjoint)
        adjoint_ranks = accumulate.adjoint_ranks(adjoint, known)
        adjoint_ranks.update(elementwise_loops.lower(adjoint, adjoint_ranks, namer))
        accumulate.regroup(adjoint, adjoint_ranks)
        invariant_reads.hoist(adjoint, adjoint_ranks)
        array_shape.read_attributes(adjoint, known)
    if callee:
        primal = reverse.primal(tree, writes=written)
        cleanup.cleanup(primal)
        return [primal, adjoint], callees
    return adjoint, callees


def _callees(source, tree, op_primitive, helper_names, stack):
    """Generate (once) the functions of every user function `tree` calls."""
    found = []
    for node in gast.walk(tree):
        prim = getattr(node, "adjit_primitive", None) if isinstance(node, gast.Call) else None
        if prim is None or prim.callee is None:
            continue
        unit = prim.callee
        if unit in stack:
            chain = " -> ".join(u.source.name for u in stack[stack.index(unit):] + (unit,))
            raise source.error(f"recursion ({chain}) cannot be differentiated", node)
        if unit.functions is None:
            params = parameters(unit.source)
            unit.functions, unit.callees = _transform(unit, params, op_primitive, helper_names,
                                                      stack + (unit,), callee=True)
        if unit not in found:
            found.append(unit)
    return found


def _digest(obj):
    """A short hash of a function's source (its code when there is none)."""
    function = getattr(obj, "py_func", obj)
    try:
        text = inspect.getsource(function)
    except (OSError, TypeError):
        text = repr(getattr(function, "__code__", function))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _closure(units):
    """`units` and everything they call, callees before callers, each once."""
    ordered = []

    def visit(unit):
        if unit in ordered:
            return
        for inner in unit.callees:
            visit(inner)
        ordered.append(unit)
    for unit in units:
        visit(unit)
    return ordered


def _check_distinct_names(source, functions):
    seen = {}
    for f in functions:
        if f.name in seen:
            raise source.error(f"two different functions make the generated `{f.name}`; adjit "
                               "needs the functions it differentiates to have distinct names",
                               source.tree)
        seen[f.name] = f


# ---- forward mode: tangent modules -------------------------------------------------

@dataclasses.dataclass
class Functions:
    """Generated functions before emission: what the tangent transform reads."""

    functions: list      # FunctionDefs the entry may call (callees' primals and adjoints)
    entry: object        # the FunctionDef differentiated
    externals: dict      # name -> object to give the module
    source: object       # the user's Source (for errors and line numbers)


def primal_functions(unit, op_primitive, helper_names):
    """The primal of `unit` as generated code (normalised, one operation per line), with
    the functions of every user function it calls: what `adjit.jvp` differentiates."""
    source = unit.source
    reserved = set(helper_names) | {"np", "math"}
    names = names_in(source.tree)
    namer = Namer(names | reserved | {n + "_adjoint" for n in names if n != source.name})
    tree = control.lower(source, copy.deepcopy(source.tree), namer)
    single_result = getattr(tree, "adjit_result", None)
    tree = normalize.normalize(source, tree, namer, lambda call: unit.resolve_call(source, call),
                               lambda node: unit.resolve_global(source, node),
                               lambda call, attr: unit.resolve_method(source, call, attr))
    callees = _callees(source, tree, op_primitive, helper_names, (unit,))
    externals = {}
    for node in gast.walk(tree):
        prim = getattr(node, "adjit_primitive", None) if isinstance(node, gast.Call) else None
        if prim is not None:
            externals.update(prim.externals)
    tree = ssa.to_ssa(source, tree, namer, reserved, result=single_result)
    tree = copies.coalesce(tree)
    written = writes.analyse(source, tree, namer)
    primal = reverse.primal(tree, writes=written)
    # Writes go into the function's own copy, never into the caller's array.
    primal.body[:0] = [gast.copy_location(normalize.assign(p, gast.Call(
        func=normalize.spelled("np.copy"), args=[normalize.name(p)], keywords=[])), primal)
        for p in written.copy_params]
    cleanup.cleanup(primal)
    called = _closure(callees)
    functions = [f for callee in called for f in callee.functions]
    _check_distinct_names(source, functions + [primal])
    for callee in called:
        externals.update(callee.externals)
    return Functions(functions, primal, externals, source)


def adjoint_functions(unit, wrt, op_primitive, helper_names):
    """`adjoint_module`'s functions before emission: the adjoint of `unit` w.r.t. `wrt`
    and the functions of every user function it calls."""
    adjoint, callees = _transform(unit, wrt, op_primitive, helper_names, (unit,))
    called = _closure(callees)
    functions = [f for callee in called for f in callee.functions]
    _check_distinct_names(unit.source, functions + [adjoint])
    externals = dict(unit.externals)
    for callee in called:
        externals.update(callee.externals)
    return Functions(functions, adjoint, externals, unit.source)


def tangent_module(generated, wrt, resolve_tangent, op_tangent, helper_names, fingerprint="",
                   prefix="d"):
    """The module of the tangent of `generated.entry` (a `Functions`) w.r.t. `wrt`:
    `<entry>_tangent(*params, *tangents of wrt)` returning `(result, tangent)`.

    `resolve_tangent(call, spelling)` gives the `forward.TangentRule` of a call,
    `op_tangent(op_name)` that of an operator. Returns the `Generated` module and the
    `Functions` it holds (whose entry is the tangent: it can be differentiated again)."""
    source = generated.source
    reserved = set(helper_names) | {"np", "math", generated.entry.name}
    functions = {f.name: f for f in generated.functions}
    made = forward.tangent_functions(functions, generated.entry, wrt, resolve_tangent,
                                     op_tangent, source, reserved, prefix)
    for fdef in made:
        _tidy(fdef)
    tangent = made[-1]
    every = list(generated.functions) + made[:-1]
    _check_distinct_names(source, every + [tangent])
    helpers = set()
    for f in every + [tangent]:
        helpers |= emit.helpers_used(f, helper_names)
    externals = generated.externals
    emitted = fuse.fused(every + [tangent], keep=names_in(source.tree), prefixes="b" + prefix)
    text = emit.module_text(emitted, helpers,
                            f"{source.name} in {source.filename} (forward mode)", fingerprint,
                            jitable=[f.name for f in every],
                            externals=[(name, _digest(obj)) for name, obj in sorted(externals.items())])
    line_map = emit.line_map(text, [None] * len(every) + emitted[-1:])
    params = [a.id for a in tangent.args.args]
    module = Generated(text=text, function=tangent.name, line_map=line_map, params=params,
                       wrt=tuple(wrt), filename=source.filename, externals=externals)
    return module, Functions(every, tangent, externals, source)


def _tidy(fdef):
    """Cleanup for tangent code: copies and dead code. (Not `b = b + c` -> `b = c` at a
    known zero: a tangent array written in place must not become another's alias.)"""
    changed = True
    while changed:
        cleanup._propagate_copies(fdef.body)
        changed = cleanup._dead_code(fdef)
