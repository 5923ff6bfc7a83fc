"""`tf.Module`: a container whose Variables (in attributes, lists, dicts and sub-modules) it lists.

    class Linear(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    model.trainable_variables        # (b, w): attributes in sorted order, as TensorFlow
"""

from ..runtime.tensor import Variable


class Module:
    """TensorFlow's `tf.Module`: `variables`, `trainable_variables`, `submodules`."""

    def __init__(self, name=None):
        self._module_name = name or type(self).__name__.lower()

    @property
    def name(self):
        return getattr(self, "_module_name", type(self).__name__.lower())

    def _walk(self, seen):
        """Variables and sub-modules reachable from this module's attributes, in order."""
        for key in sorted(vars(self)):
            if key.startswith("_module"):
                continue
            yield from _walk(vars(self)[key], seen)

    @property
    def variables(self):
        return tuple(x for x in self._walk(set()) if isinstance(x, Variable))

    @property
    def trainable_variables(self):
        return tuple(v for v in self.variables if v.trainable)

    @property
    def submodules(self):
        return tuple(x for x in self._walk(set()) if isinstance(x, Module))


def _walk(value, seen):
    if id(value) in seen:
        return
    if isinstance(value, Variable):
        seen.add(id(value))
        yield value
    elif isinstance(value, Module):
        seen.add(id(value))
        yield value
        yield from value._walk(seen)
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _walk(value[key], seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item, seen)
