"""Assert statements in test code, rewritten so that a failure says what the values were.

`assert candidate(3) == 7` becomes, in effect:

    __tf_0 = candidate(3)
    __tf_1 = 7
    if not __tf_check(__tf_0 == __tf_1, "==", __tf_0, __tf_1):
        __tf_fail("==", __tf_0, __tf_1, <source>, <message>)

Each operand is evaluated once, in order, and chained comparisons keep their
short-circuit. Only the test code is rewritten, never the candidate's.

`__tf_check` also refuses a pass that only an `__eq__` could claim: when one
side is plain data (numbers, strings, lists, dicts…) and the other is not, the
two are compared as canonical values (values.py), so an object whose `__eq__`
always says True does not pass `assert candidate(x) == 7`.
"""

import ast

from . import compare, values

# A copy of the builtins as they were at import, before any program ran: the
# functions below look names up here, so a program that patches the
# builtins module (sorted, isinstance, bool…) does not change how they work.
__builtins__ = dict(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))

FAIL_NAME = "__tracefix_assert_fail__"
CHECK_NAME = "__tracefix_assert_check__"

_OPERATORS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


class AssertionDetails(AssertionError):
    """An AssertionError that carries the compared values."""

    def __init__(self, message, details):
        super().__init__(message)
        self.tracefix_details = details


class _Rewriter(ast.NodeTransformer):
    def __init__(self, source):
        self.source = source
        self.counter = 0

    def _temporary(self):
        name = f"__tf_{self.counter}"
        self.counter += 1
        return name

    def visit_Assert(self, node):
        source = ast.get_source_segment(self.source, node.test) or ""
        message = node.msg if node.msg is not None else ast.Constant(value=None)
        statements = []
        if isinstance(node.test, ast.Compare):
            names = [self._temporary() for _ in range(len(node.test.comparators) + 1)]
            operands = [node.test.left, *node.test.comparators]
            statements.append(_assign(names[0], operands[0]))
            # Evaluate the right operand of each link only if the previous
            # links held, as Python's chained comparison does.
            for index, operator in enumerate(node.test.ops):
                statements.append(_assign(names[index + 1], operands[index + 1]))
                symbol = _OPERATORS.get(type(operator), "?")
                comparison = ast.Compare(
                    left=_load(names[index]), ops=[operator], comparators=[_load(names[index + 1])]
                )
                check = ast.Call(
                    func=_load(CHECK_NAME),
                    args=[comparison, ast.Constant(symbol), _load(names[index]), _load(names[index + 1])],
                    keywords=[],
                )
                fail = ast.Expr(
                    ast.Call(
                        func=_load(FAIL_NAME),
                        args=[
                            ast.Constant(symbol),
                            _load(names[index]),
                            _load(names[index + 1]),
                            ast.Constant(source),
                            message,
                        ],
                        keywords=[],
                    )
                )
                statements.append(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=check), body=[fail], orelse=[]))
        else:
            name = self._temporary()
            statements.append(_assign(name, node.test))
            fail = ast.Expr(
                ast.Call(
                    func=_load(FAIL_NAME),
                    args=[ast.Constant("truthy"), _load(name), ast.Constant(None), ast.Constant(source), message],
                    keywords=[],
                )
            )
            statements.append(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=_load(name)), body=[fail], orelse=[]))
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements


def _assign(name, value):
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _load(name):
    return ast.Name(id=name, ctx=ast.Load())


def rewrite(source, filename="<test>"):
    """Compile test code with its asserts rewritten; raises SyntaxError like compile()."""
    tree = ast.parse(source, filename=filename)
    tree = _Rewriter(source).visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


def calls_check_at_top_level(source):
    """True when the test code itself calls check(...) at module level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            function = statement.value.func
            if isinstance(function, ast.Name) and function.id == "check":
                return True
    return False


_PLAIN = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)


def _is_plain(value, depth=0):
    if type(value) not in _PLAIN:
        return False
    if depth > 4:
        return True
    if type(value) in (list, tuple, set, frozenset):
        return all(_is_plain(item, depth + 1) for item in list(value)[:50])
    if type(value) is dict:
        return all(_is_plain(key, depth + 1) and _is_plain(item, depth + 1) for key, item in list(value.items())[:50])
    return True


def make_helpers(repr_limit):
    def check(result, symbol, left, right):
        try:
            outcome = bool(result)
        except BaseException:
            return False
        if symbol in ("==", "!=") and _is_plain(left) != _is_plain(right):
            # One side is plain data, the other a custom object: trust only
            # the canonical comparison, never the object's __eq__.
            same = compare.equal(values.canonical(right), values.canonical(left))
            return same if symbol == "==" else not same
        return outcome

    def fail(symbol, left, right, source, message):
        left_text = values.bounded_repr(left, repr_limit)
        right_text = values.bounded_repr(right, repr_limit) if symbol != "truthy" else None
        if symbol == "truthy":
            description = f"assert {source}: the value was {left_text}"
        else:
            description = f"assert {source}: {left_text} {symbol} {right_text} is false"
        if message is not None:
            description = f"{values.bounded_repr(message, repr_limit)}; {description}"
        raise AssertionDetails(
            description,
            {"operator": symbol, "left": left_text, "right": right_text, "source": source},
        )

    return {CHECK_NAME: check, FAIL_NAME: fail}
