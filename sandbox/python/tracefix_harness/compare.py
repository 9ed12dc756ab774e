"""Equality of canonical values (see values.py), decided outside the candidate.

Rules (architecture/overview.md, "Tests"): numbers compare by value, floats with a relative
tolerance (default 1e-6) and a small absolute one for values near zero; NaN
equals NaN (a test expecting NaN passes on NaN); tuples and lists are both
lists here, so they are equal when their items are; True equals 1 as in
Python. Objects that could not be serialised (`$opaque`) never equal anything:
an object that only claims equality cannot pass.
"""

import json
import math

# A copy of the builtins as they were at import, before any program ran: the
# functions below look names up here, so a program that patches the
# builtins module (sorted, isinstance, bool…) does not change how they work.
__builtins__ = dict(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))

DEFAULT_RELATIVE_TOLERANCE = 1e-6
DEFAULT_ABSOLUTE_TOLERANCE = 1e-9


def _as_number(value):
    value_type = type(value)
    if value_type is int or value_type is float or value_type is bool:
        return value
    if value_type is dict and "$f" in value and len(value) == 1:
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[value["$f"]]
    return None


def _numbers_equal(expected, actual, relative, absolute):
    if type(expected) is not float and type(actual) is not float:
        return expected == actual
    expected = float(expected)
    actual = float(actual)
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return expected == actual
    return math.isclose(expected, actual, rel_tol=relative, abs_tol=absolute)


def equal(expected, actual, relative=DEFAULT_RELATIVE_TOLERANCE, absolute=DEFAULT_ABSOLUTE_TOLERANCE):
    expected_number = _as_number(expected)
    actual_number = _as_number(actual)
    if expected_number is not None or actual_number is not None:
        if expected_number is None or actual_number is None:
            return False
        return _numbers_equal(expected_number, actual_number, relative, absolute)
    if type(expected) is not type(actual):
        return False
    if expected is None or type(expected) is str:
        return expected == actual
    if type(expected) is list:
        return len(expected) == len(actual) and all(
            equal(left, right, relative, absolute) for left, right in zip(expected, actual)
        )
    if type(expected) is dict:
        return _tagged_equal(expected, actual, relative, absolute)
    return False


def _key(item):
    return json.dumps(item, sort_keys=True)


def _tagged_equal(expected, actual, relative, absolute):
    if "$dict" in expected and "$dict" in actual:
        expected_pairs = {_key(key): value for key, value in expected["$dict"]}
        actual_pairs = {_key(key): value for key, value in actual["$dict"]}
        if expected_pairs.keys() != actual_pairs.keys():
            return False
        return all(equal(value, actual_pairs[key], relative, absolute) for key, value in expected_pairs.items())
    if "$set" in expected and "$set" in actual:
        return sorted(map(_key, expected["$set"])) == sorted(map(_key, actual["$set"]))
    if "$c" in expected and "$c" in actual:
        return all(equal(left, right, relative, absolute) for left, right in zip(expected["$c"], actual["$c"]))
    if "$b" in expected and "$b" in actual:
        return expected["$b"] == actual["$b"]
    if "$obj" in expected and "$obj" in actual:
        return expected["$obj"] == actual["$obj"] and equal(
            {"$dict": sorted(expected["attrs"].items())},
            {"$dict": sorted(actual["attrs"].items())},
            relative,
            absolute,
        )
    return False


def normalize_output(text):
    """stdio comparison: trailing whitespace of each line and trailing blank lines are ignored."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)
