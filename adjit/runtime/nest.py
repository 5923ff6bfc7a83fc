"""Nested structures of tensors, as `tf.nest` sees them: lists, tuples, namedtuples and
dicts (in sorted key order) hold leaves; anything else is a leaf.

The tape flattens its targets and sources with `flatten` and gives gradients
back in the shape of the sources with `pack_like`.
"""


def flatten(structure):
    """The leaves of `structure`, in order."""
    leaves = []
    _flatten(structure, leaves)
    return leaves


def _flatten(structure, leaves):
    if isinstance(structure, dict):
        for key in sorted(structure, key=_sort_key):
            _flatten(structure[key], leaves)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten(item, leaves)
    else:
        leaves.append(structure)


def _sort_key(key):
    return (type(key).__name__, key) if not isinstance(key, (int, float)) else ("", key)


def pack_like(structure, leaves):
    """`leaves` arranged as `structure` is (the inverse of `flatten`)."""
    it = iter(leaves)
    packed = _pack(structure, it)
    return packed


def _pack(structure, it):
    if isinstance(structure, dict):
        items = {key: _pack(structure[key], it) for key in sorted(structure, key=_sort_key)}
        return type(structure)((key, items[key]) for key in structure)
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*[_pack(item, it) for item in structure])
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(item, it) for item in structure)
    return next(it)
