"""`np.shape(x)` of a value known to be an array reads `x.shape`.

`x.shape` in the user's code is normalised to `np.shape(x)`, which also serves
numbers. Where the gradient is specialised to its arguments' ranks, a value of
certain rank 1 or more is an array, and its attribute says the same more cheaply:
Numba's `np.shape` goes through `np.asarray`, whose module imports
`scipy.linalg` when cached machine code is loaded (about 0.2 s of a warm start).
"""

import gast

from .names import walk


def read_attributes(fdef, ranks):
    """Rewrite `fdef` in place; `ranks` maps names to their number of dimensions."""
    for node in walk(fdef):
        for field, value in gast.iter_fields(node):
            if _is_shape_of_array(value, ranks):
                setattr(node, field, _attribute(value))
            elif isinstance(value, list):
                value[:] = [_attribute(v) if _is_shape_of_array(v, ranks) else v for v in value]
    return fdef


def _is_shape_of_array(node, ranks):
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and isinstance(node.func.value, gast.Name) and node.func.value.id == "np"
            and node.func.attr == "shape" and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], gast.Name)
            and isinstance(ranks.get(node.args[0].id), int) and ranks[node.args[0].id] >= 1)


def _attribute(call):
    return gast.copy_location(
        gast.Attribute(value=call.args[0], attr="shape", ctx=gast.Load()), call)
