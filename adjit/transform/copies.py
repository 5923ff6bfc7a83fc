"""Copy coalescing: compute straight into the name a copy would fill.

Input: SSA code. Output: the same code where a temporary that is computed
and then only copied once, by the very next statement (`mul5 = z_2 * z_2`
then `z_3 = mul5`), is replaced by computing into the copy's target
(`z_3 = z_2 * z_2`). Normalisation and SSA merges leave such pairs; the
generated code should not show them.
Invariant: only a name read exactly once, by the copy right after its
definition, disappears; back-edge copies are kept unless the back-edge may
compute into the loop-carried name (see `ssa.reads_no_result`).
"""

import gast

from .names import walk
from .normalize import written_array
from .ssa import reads_no_result


def coalesce(fdef):
    reads = {}
    for node in walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
    params = {a.id for a in fdef.args.args}
    _block(fdef.body, reads, params)
    return fdef


def _block(stmts, reads, params):
    changed = True
    while changed:
        changed = False
        for index in range(len(stmts) - 1):
            first, second = stmts[index], stmts[index + 1]
            if _coalescable(first, second, reads, params):
                temp = first.targets[0].id
                first.targets[0].id = second.targets[0].id
                if getattr(second, "adjit_backedge", False):
                    first.adjit_backedge = True
                reads[temp] = 0
                del stmts[index + 1]
                changed = True
                break
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            _block(stmt.body, reads, params)
            _block(stmt.orelse, reads, params)
        elif isinstance(stmt, (gast.For, gast.While)):
            _block(stmt.body, reads, params)


def _coalescable(first, second, reads, params):
    if not (isinstance(first, gast.Assign) and isinstance(second, gast.Assign)):
        return False
    if written_array(first) or written_array(second):
        return False
    temp = first.targets[0].id
    value = second.value
    if not (isinstance(value, gast.Name) and value.id == temp) or temp in params:
        return False
    if reads.get(temp, 0) != 1 or getattr(first, "adjit_backedge", False):
        return False
    target = second.targets[0].id
    if target in {n.id for n in walk(first.value) if isinstance(n, gast.Name)}:
        return False
    return not getattr(second, "adjit_backedge", False) or reads_no_result(first.value)
