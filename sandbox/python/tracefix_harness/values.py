"""Values crossing the sandbox boundary.

`canonical` turns a Python value into plain JSON data (tagged where JSON has no
type for it). It runs inside the candidate's process, but it never calls the
candidate's own methods for builtin types: subclasses are read through the base
type's slots, so an `int` subclass whose `__eq__` always says True serialises
as its integer value and is compared as that. Comparison happens in the fork
server on this data only (see compare.py).

`bounded_repr` is the human-readable form shown in reports, prompts and traces:
never longer than asked, cheap on huge containers.
"""

import math
import re
import reprlib
import types

# A copy of the builtins as they were at import, before any program ran: the
# functions below look names up here, so a program that patches the
# builtins module (sorted, isinstance, bool…) does not change how they work.
__builtins__ = dict(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))

# Containers materialised from iterators/generators are capped: an endless
# generator must not hang serialisation.
MAX_ITEMS = 100_000
MAX_DEPTH = 64

_ITERATOR_TYPES = (
    types.GeneratorType,
    type(iter([])),
    type(iter(())),
    type(iter(range(0))),
    type(iter("")),
    type(iter({})),
    type(iter(set())),
    type({}.keys()),
    type({}.values()),
    type({}.items()),
    map,
    filter,
    zip,
    range,
    reversed,
    enumerate,
)


def _float(value):
    if math.isnan(value):
        return {"$f": "nan"}
    if math.isinf(value):
        return {"$f": "inf" if value > 0 else "-inf"}
    return value


def _sort_key(item):
    import json

    return json.dumps(item, sort_keys=True, default=str)


def _normalize_key(item):
    # {1.0} == {1} in Python: integral floats are keyed as ints.
    if type(item) is float and item.is_integer():
        return int(item)
    return item


def canonical(value, _depth=0, _active=None):
    """Plain JSON data for `value`; see the module docstring."""
    if _depth > MAX_DEPTH:
        return {"$deep": True}
    if value is None:
        return None
    value_type = type(value)
    # Exact builtin scalars first (the common case, no isinstance walk).
    if value_type is bool:
        return value
    if value_type is int:
        return value
    if value_type is float:
        return _float(value)
    if value_type is str:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, complex):
        return {"$c": [_float(value.real), _float(value.imag)]}
    if isinstance(value, (bytes, bytearray)):
        return {"$b": bytes(value).hex()}

    if _active is None:
        _active = set()
    identity = id(value)
    if identity in _active:
        return {"$cycle": True}
    _active.add(identity)
    try:
        return _canonical_container(value, _depth, _active)
    finally:
        _active.discard(identity)


def _canonical_container(value, depth, active):
    next_depth = depth + 1
    if isinstance(value, (list, tuple)):
        iterator = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        return [canonical(item, next_depth, active) for item in iterator]
    if isinstance(value, dict):
        pairs = [
            [canonical(_normalize_key(key), next_depth, active), canonical(item, next_depth, active)]
            for key, item in dict.items(value)
        ]
        pairs.sort(key=lambda pair: _sort_key(pair[0]))
        return {"$dict": pairs}
    if isinstance(value, (set, frozenset)):
        items = [canonical(_normalize_key(item), next_depth, active) for item in set.__iter__(set(value))]
        items.sort(key=_sort_key)
        return {"$set": items}
    type_name = _qualified_name(type(value))
    if type_name in ("fractions.Fraction", "decimal.Decimal"):
        return _float(float(value))
    if type_name == "collections.deque" or isinstance(value, _ITERATOR_TYPES):
        items = []
        for item in value:
            if len(items) >= MAX_ITEMS:
                items.append({"$truncated": True})
                break
            items.append(canonical(item, next_depth, active))
        return items
    if type_name.startswith("numpy.") and hasattr(value, "tolist"):
        return canonical(value.tolist(), next_depth, active)
    # A user-defined object: compared structurally, by type name and
    # attributes, never through its own __eq__.
    attributes = {}
    try:
        instance_dict = object.__getattribute__(value, "__dict__")
    except AttributeError:
        instance_dict = None
    if isinstance(instance_dict, dict):
        for key, item in dict.items(instance_dict):
            if isinstance(key, str):
                attributes[key] = canonical(item, next_depth, active)
    for slot in _slots_of(type(value)):
        try:
            attributes[slot] = canonical(object.__getattribute__(value, slot), next_depth, active)
        except AttributeError:
            pass
    if instance_dict is None and not attributes:
        return {"$opaque": type_name, "repr": bounded_repr(value, 200)}
    return {"$obj": type_name, "attrs": attributes}


def _slots_of(cls):
    names = []
    for klass in getattr(cls, "__mro__", ()):
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name not in ("__dict__", "__weakref__"):
                names.append(name)
    return names


def _qualified_name(cls):
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", getattr(cls, "__name__", "?"))
    return f"{module}.{name}" if module and module != "builtins" else name


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class _BoundedRepr(reprlib.Repr):
    def __init__(self, limit):
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = 8
        self.maxlist = 8
        self.maxarray = 8
        self.maxdict = 6
        self.maxset = 6
        self.maxfrozenset = 6
        self.maxdeque = 8
        self.maxstring = max(limit, 8)
        self.maxlong = max(limit, 20)
        self.maxother = max(limit, 20)

    def repr_int(self, value, level):
        if value.bit_length() > 4000:
            return f"<int with {value.bit_length()} bits>"
        return super().repr_int(value, level)

    def repr_instance(self, value, level):
        try:
            text = repr(value)
        except BaseException as error:  # a hostile __repr__ must not break the trace
            return f"<{type(value).__name__} object (repr raised {type(error).__name__})>"
        # Default reprs carry a memory address (noise to a model, different
        # on every run) and the harness's module name for the program.
        text = _ADDRESS.sub("", text).replace("<solution.", "<")
        if len(text) > self.maxother:
            return text[: self.maxother - 1] + "…"
        return text


_repr_cache = {}


def bounded_repr(value, limit=80):
    """repr(value), at most `limit` characters, cheap on big containers."""
    helper = _repr_cache.get(limit)
    if helper is None:
        helper = _repr_cache[limit] = _BoundedRepr(limit)
    try:
        text = helper.repr(value)
    except BaseException as error:
        text = f"<{type(value).__name__} object (repr raised {type(error).__name__})>"
    if len(text) > limit:
        text = text[: max(limit - 1, 1)] + "…"
    return text


def truncate(text, limit):
    """`text` cut to at most `limit` characters, marked when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def materialize(value):
    """A generator or iterator as the list of its items (capped); any other value as it is."""
    if isinstance(value, _ITERATOR_TYPES) and not isinstance(value, range):
        items = []
        for item in value:
            if len(items) >= MAX_ITEMS:
                break
            items.append(item)
        return items
    return value
