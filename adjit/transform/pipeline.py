"""The compiler pipeline: function source in, adjoint module text out.

source -> refuse -> control -> normalize -> ssa -> copies -> writes -> activity -> reverse -> cleanup -> emit.
Each pass is a pure function of its input tree; this module only strings
them together. The user's namespace and the rules come in through callbacks,
so the compiler never imports the runtime: `resolve_call(source, call_node)`
gives the Primitive of a call, `resolve_global(source, name_node)` the number
a global name holds, `resolve_method(source, call_node, attr)` the Primitive
of an array method, `op_primitive(op_name)` the Primitive of an operator.
"""

import copy
import dataclasses

from . import activity, cleanup, control, copies, emit, normalize, refuse, reverse, ssa, writes
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


def read_function(func):
    """Read `func`'s source and refuse anything adjit cannot differentiate."""
    source = source_pass.get_source(func)
    refuse.check(source)
    return source


def parameters(source):
    return [a.id for a in source.tree.args.args]


def adjoint_module(source, wrt, resolve_call, resolve_global, resolve_method, op_primitive,
                   helper_names, fingerprint=""):
    """Transform `source` (from `read_function`) into the module of its adjoint w.r.t. `wrt`."""
    reserved = set(helper_names) | {"np", "math"}
    namer = Namer(names_in(source.tree) | reserved)
    tree = control.lower(source, copy.deepcopy(source.tree), namer)
    single_result = getattr(tree, "adjit_result", None)
    tree = normalize.normalize(source, tree, namer, lambda call: resolve_call(source, call),
                               lambda node: resolve_global(source, node),
                               lambda call, attr: resolve_method(source, call, attr))
    tree = ssa.to_ssa(source, tree, namer, reserved, result=single_result)
    tree = copies.coalesce(tree)
    written = writes.analyse(source, tree, namer)
    result = tree.body[-1].value.id
    active = activity.active_names(tree, wrt, result, op_primitive)
    adjoint = reverse.generate(tree, namer, active, list(wrt), result, op_primitive,
                               single_result=bool(single_result), writes=written)
    cleanup.cleanup(adjoint)
    helpers = emit.helpers_used(adjoint, helper_names)
    text = emit.module_text([adjoint], helpers, f"{source.name} in {source.filename}", fingerprint)
    return Generated(text=text, function=adjoint.name, line_map=emit.line_map(text, [adjoint]),
                     params=parameters(source), wrt=tuple(wrt), filename=source.filename)
