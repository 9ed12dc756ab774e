"""Edits of a Python program on its syntax tree, for the trace-guided repair
search (src/shared/schema/edits.ts is the contract).

Hostile programs reach this module: it parses and compiles them, never runs
them, and only in a throwaway child of the fork server, with limits
(server.py, op "edits"). Nothing here recurses on the syntax tree (ast.walk
and this module's own walk are iterative; ast.unparse is never used), so a
deep tree costs time, not the stack; the time is bounded by a deadline
checked between candidates, the answer by a count and a byte budget.

Each edit replaces the source text of one node (or whole lines, for the
statement edits) and leaves every other character of the program as it
was: comments, quotes and layout survive. Every edited program compiles;
edits that change nothing or repeat an earlier program are dropped.
"""

import ast
import bisect
import json
import re
import time
import warnings
from difflib import SequenceMatcher
from itertools import chain

# The order of the operator families at one site: cheap, likely edits first.
OPERATOR_ORDER = (
    "comparison",
    "off_by_one",
    "constant",
    "binary_operator",
    "boolean_operator",
    "augmented_operator",
    "call",
    "negate_condition",
    "variable",
    "argument_order",
    "return_value",
    "unwrap",
    "wrap",
    "delete_statement",
    "move_statement",
    "duplicate_statement",
    "insert_break",
    "insert_continue",
    "copy_statement",
)

SECONDS = 2.0
# The edited programs of one answer, as JSON: beyond this, edits are dropped.
MAX_BYTES = 4 << 20
MAX_LIMIT = 5_000
MAX_CODE_CHARS = 512 << 10
MAX_NODES = 150_000
MAX_SITES = 500
# Alternatives tried per node, where a node has many (names in scope, statements to copy).
MAX_CHOICES = 8
# Argument pairs swapped per call.
MAX_SWAPS = 4
# Token sequences longer than this are compared by common prefix and suffix only.
DIFF_TOKENS = 400
# Numbers longer than this are not edited (str() of a huge int is slow, or refused).
MAX_NUMBER_DIGITS = 40


class TooLarge(Exception):
    """The program has more nodes than this module walks."""


# -- the source text -------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_TRAILER = re.compile(r"[ \t\f]*(?:#[^\r\n]*)?(?:\r\n|\r|\n)?")
_TOKEN = re.compile(
    r"""[rRbBuUfF]{0,2}(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")"""
    r"|#[^\r\n]*|[^\W\d]\w*|\d[\w.]*|\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@<>=!]=|\S"
)
_NEWLINE = re.compile(r"\r\n|\r|\n")


class Source:
    """The program's text, with the conversions from ast positions (UTF-8 byte columns) to text offsets."""

    def __init__(self, code):
        self.code = code
        self.lines = [match.group(0) for match in _LINE.finditer(code)]
        self.starts = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)
        first = _NEWLINE.search(code)
        self.newline = first.group(0) if first else "\n"
        self.ascii = [line.isascii() for line in self.lines]
        # Per line that is not ASCII: the text offset of each UTF-8 byte offset (made when first needed).
        self._columns = {}

    def offset(self, lineno, column):
        if lineno - 1 >= len(self.lines):
            return len(self.code)
        if self.ascii[lineno - 1]:
            return self.starts[lineno - 1] + column
        return self.starts[lineno - 1] + self._columns_of(lineno - 1)[column]

    def _columns_of(self, index):
        """Once per line, so that a long line with many nodes costs its length once, not per node."""
        columns = self._columns.get(index)
        if columns is None:
            columns = []
            for position, char in enumerate(self.lines[index]):
                columns.extend([position] * len(char.encode("utf-8", "surrogatepass")))
            columns.append(len(self.lines[index]))
            self._columns[index] = columns
        return columns

    def span(self, node):
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node):
        start, end = self.span(node)
        return self.code[start:end]

    def line_start(self, lineno):
        return self.starts[lineno - 1] if lineno - 1 < len(self.starts) else len(self.code)

    def line_end(self, lineno):
        """The offset just past line `lineno` and its line ending."""
        return self.line_start(lineno + 1) if lineno < len(self.lines) else len(self.code)

    def enclosed(self, start, end):
        """Is the text at start..end alone between brackets `(` and `)`? Then any expression fits there."""
        before = start - 1
        while before >= 0 and self.code[before] in " \t\f\r\n\\":
            before -= 1
        return before >= 0 and self.code[before] == "(" and self._next_significant(end) == ")"

    def _next_significant(self, position):
        code = self.code
        while position < len(code):
            char = code[position]
            if char == "#":
                newline = _NEWLINE.search(code, position)
                position = newline.end() if newline else len(code)
            elif char in " \t\f\r\n\\":
                position += 1
            else:
                return char
        return ""

    def operator_span(self, start, end):
        """The operator between two operands (start..end): the text left when the
        whitespace, comments, line continuations and brackets around it are skipped."""
        code = self.code
        first = last = None
        position = start
        while position < end:
            char = code[position]
            if char == "#":
                newline = _NEWLINE.search(code, position, end)
                position = newline.end() if newline else end
                continue
            if char not in " \t\f\r\n\\()":
                if first is None:
                    first = position
                last = position + 1
            position += 1
        return (first, last) if first is not None else None

    def whole_lines(self, statement):
        """(start, end) of the lines that hold exactly this statement (a trailing comment included), or None."""
        start, end = self.span(statement)
        line_start = self.line_start(statement.lineno)
        if self.code[line_start:start].strip(" \t\f") != "":
            return None
        trailer = _TRAILER.match(self.code, end)
        line_end = self.line_end(statement.end_lineno)
        if trailer is None or trailer.end() != line_end:
            return None
        return line_start, line_end

    def indentation(self, statement):
        start = self.line_start(statement.lineno)
        return self.code[start : self.offset(statement.lineno, statement.col_offset)]

    def first_line(self, statement):
        """A statement's first line, as shown in an edit's before/after."""
        return self.text(statement).split("\n", 1)[0].split("\r", 1)[0].strip()


def tokens(text):
    return [token for token in _TOKEN.findall(text) if not token.startswith("#")]


def token_distance(before, after):
    """Tokens replaced plus tokens inserted, from `before` to `after`."""
    old, new = tokens(before), tokens(after)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    old, new = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if len(old) + len(new) > DIFF_TOKENS or not old or not new:
        return len(old) + len(new)
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return sum(max(i2 - i1, 0) + max(j2 - j1, 0) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


# -- precedence: where a replacement needs brackets ---------------------------------------

ATOM = 16
UNARY = 12
POWER = 13
NOT = 4
COMPARE = 5
OR = 2
AND = 3
_BINARY_PRECEDENCE = {
    ast.BitOr: 6,
    ast.BitXor: 7,
    ast.BitAnd: 8,
    ast.LShift: 9,
    ast.RShift: 9,
    ast.Add: 10,
    ast.Sub: 10,
    ast.Mult: 11,
    ast.MatMult: 11,
    ast.Div: 11,
    ast.FloorDiv: 11,
    ast.Mod: 11,
    ast.Pow: POWER,
}
_NODE_PRECEDENCE = {
    ast.NamedExpr: -1,
    ast.Starred: -1,
    ast.Yield: -1,
    ast.YieldFrom: -1,
    ast.Lambda: 0,
    ast.IfExp: 1,
    ast.Compare: COMPARE,
    ast.Await: 14,
}


def precedence(node):
    kind = type(node)
    if kind is ast.BinOp:
        return _BINARY_PRECEDENCE[type(node.op)]
    if kind is ast.UnaryOp:
        return NOT if isinstance(node.op, ast.Not) else UNARY
    if kind is ast.BoolOp:
        return OR if isinstance(node.op, ast.Or) else AND
    return _NODE_PRECEDENCE.get(kind, ATOM)


def needs_brackets(parent, field, inner):
    """Does an expression of precedence `inner` need brackets as `parent`'s `field`?"""
    kind = type(parent)
    if kind is ast.BinOp:
        outer = precedence(parent)
        if outer == POWER:
            # `**` groups to the right, and takes a unary operand there: `2 ** -1`.
            return inner <= outer if field == "left" else inner < UNARY
        return inner < outer or (inner == outer and field == "right")
    if kind is ast.UnaryOp:
        return inner < precedence(parent)
    if kind is ast.BoolOp:
        return inner <= precedence(parent)
    if kind is ast.Compare:
        return inner <= COMPARE
    if kind is ast.IfExp:
        return inner <= 1 if field != "orelse" else inner < 0
    if (kind, field) in ((ast.Attribute, "value"), (ast.Subscript, "value"), (ast.Call, "func"), (ast.Await, "value")):
        return inner < ATOM
    if kind is ast.Starred:
        return inner <= COMPARE
    return inner < 0


# -- the tree, indexed by line ------------------------------------------------------------

_SCOPE_OWNERS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Fields whose expressions are not values of the program (annotations), or
# whose positions differ between Python versions (inside f-strings).
_SKIPPED_FIELDS = frozenset(("annotation", "returns", "type_comment", "type_params"))
# Fields of a scope owner evaluated in the enclosing scope.
_OUTER_FIELDS = frozenset(("decorator_list", "bases", "keywords", "args"))
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_OWNER_TYPES = frozenset(_SCOPE_OWNERS)
# Nodes with nothing below them worth a visit: contexts and operators (shared singletons).
_LEAVES = frozenset(kind for base in (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop) for kind in base.__subclasses__())
_WALKED_FIELDS = {}


def walked_fields(kind):
    """The fields of a node class the walk descends into (none below an f-string)."""
    fields = _WALKED_FIELDS.get(kind)
    if fields is None:
        fields = () if kind is ast.JoinedStr else tuple(field for field in kind._fields if field not in _SKIPPED_FIELDS)
        _WALKED_FIELDS[kind] = fields
    return fields


class Tree:
    """The parsed program: per line its expressions and statements (in source
    order); per node its parent, field, scope and index in its field; per
    scope its names in order of first binding."""

    def __init__(self, source, module):
        self.source = source
        self.module = module
        # id(node) -> (parent, field, scope, index in the field's list)
        self.info = {}
        self.names = {id(module): {}}
        self.outer = {}
        self.at_line = {}
        self.statements = []
        self._cache = {}
        self._walk(module)

    def _walk(self, module):
        """Every node once, parents before children, in source order; iterative (a deep tree costs no stack)."""
        stack = [(module, None, None, module, 0)]
        count = 0
        while stack:
            item = stack.pop()
            node = item[0]
            count += 1
            if count > MAX_NODES:
                raise TooLarge()
            self.info[id(node)] = item[1:]
            kind = type(node)
            inner = self._enter(node, item[3]) if kind in _OWNER_TYPES else item[3]
            self._record(node, kind, item[3])
            children = self._children(node, kind, item[3], inner)
            children.reverse()
            stack.extend(children)

    def _enter(self, node, scope):
        """The scope of `node`'s body: a new one (`node` owns a scope)."""
        if node is self.module:
            return scope
        self.names[id(node)] = {}
        self.outer[id(node)] = scope
        if isinstance(node, _FUNCTIONS):
            arguments = node.args
            for argument in (*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs, arguments.kwarg):
                if argument is not None:
                    self.names[id(node)][argument.arg] = None
        return node

    def _record(self, node, kind, scope):
        if kind is ast.Name:
            if type(node.ctx) is ast.Store:
                self.names[id(scope)].setdefault(node.id, None)
        elif kind is ast.ExceptHandler and node.name:
            self.names[id(scope)].setdefault(node.name, None)
        if isinstance(node, (ast.expr, ast.stmt)):
            self.at_line.setdefault(node.lineno, []).append(node)
            if isinstance(node, ast.stmt):
                self.statements.append(node)

    @staticmethod
    def _children(node, kind, scope, inner):
        children = []
        owner = kind in _OWNER_TYPES
        for field in walked_fields(kind):
            value = getattr(node, field, None)
            child_scope = scope if owner and field in _OUTER_FIELDS else inner
            if type(value) is list:
                for index, child in enumerate(value):
                    if isinstance(child, ast.AST) and type(child) not in _LEAVES:
                        children.append((child, node, field, child_scope, index))
            elif isinstance(value, ast.AST) and type(value) not in _LEAVES:
                children.append((value, node, field, child_scope, 0))
        return children

    def scope_of(self, node):
        info = self.info.get(id(node))
        return info[2] if info is not None else self.module

    def index_of(self, node):
        info = self.info.get(id(node))
        return info[3] if info is not None else -1

    def parent(self, node):
        info = self.info.get(id(node))
        return (info[0], info[1]) if info is not None else (None, None)

    def nodes(self, line, kinds):
        return [node for node in self.at_line.get(line, ()) if isinstance(node, kinds)]

    def statements_at(self, line):
        return [node for node in self.at_line.get(line, ()) if isinstance(node, ast.stmt)]

    def cached(self, key, make):
        """`make()`, once per key: generators ask the same of a scope at every site."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def names_in_scope(self, node):
        """Parameters and locals of the node's scope, then (for lambdas and
        comprehensions) those of the scopes around it, up to a function."""
        scope = self.scope_of(node)
        return self.cached(("names", id(scope)), lambda: self._names_from(scope))

    def other_names(self, node):
        """The names in scope at a Name node, without its own."""
        return [name for name in self.names_in_scope(node) if name != node.id]

    def _names_from(self, scope):
        names = {}
        while True:
            names.update(self.names.get(id(scope), {}))
            if not isinstance(scope, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                return list(names)
            scope = self.outer[id(scope)]

    def function_of(self, node):
        """The function whose body holds `node` (through lambdas and comprehensions), or None."""
        scope = self.scope_of(node)
        while not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if scope is self.module or isinstance(scope, ast.ClassDef):
                return None
            scope = self.outer[id(scope)]
        return scope

    def in_loop(self, statement):
        """Would a `break` placed beside `statement` belong to a loop of the same function?"""
        node = statement
        while True:
            parent, field = self.parent(node)
            if parent is None or isinstance(parent, (*_FUNCTIONS, ast.ClassDef)):
                return False
            if isinstance(parent, _LOOPS) and field == "body":
                return True
            node = parent


def load(code):
    """The program's Tree, or None when it does not compile (or is too large to edit)."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        return None
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
        return Tree(Source(code), ast.parse(code))
    except Exception:  # SyntaxError, and the too deep or too large: RecursionError, MemoryError, TooLarge
        return None


# -- candidates -------------------------------------------------------------------------


class Candidate:
    """One edit before it is checked: the text at start..end becomes `text`."""

    __slots__ = ("line", "operator", "node", "start", "end", "text", "before", "after", "size")

    def __init__(self, line, operator, node, start, end, text, before, after, size=None):
        self.line = line
        self.operator = operator
        self.node = node
        self.start = start
        self.end = end
        self.text = text
        self.before = before
        self.after = after
        self.size = size


def splice(code, start, replacements):
    """`code` from `start` on, with (from, to, text) replacements (absolute offsets, in order, not overlapping)."""
    pieces = []
    position = start
    for begin, end, text in replacements:
        pieces.append(code[position:begin])
        pieces.append(text)
        position = end
    return "".join(pieces), position


def replacement(tree, operator, node, text, inner, pieces=None):
    """The candidate that replaces `node`'s text with `text` (of precedence
    `inner`), bracketed where its place needs it. With `pieces`, `text` is
    None and the node's own text is edited piece by piece instead."""
    source = tree.source
    start, end = source.span(node)
    original = source.code[start:end]
    if pieces is not None:
        body, position = splice(source.code, start, pieces)
        text = body + source.code[position:end]
    parent, field = tree.parent(node)
    multiline = "\n" in text and "\n" not in original
    if (multiline or needs_brackets(parent, field, inner)) and not source.enclosed(start, end):
        text = f"({text})"
    return Candidate(node.lineno, operator, type(node).__name__, start, end, text, original, text)


def bracketed(tree, node, inner):
    """The node's text, in brackets when an operator of precedence `inner` will take it as an operand.
    (A node's own brackets are outside its text: they stay where they are.)"""
    text = tree.source.text(node)
    return f"({text})" if precedence(node) < inner else text


# -- operators: comparison, binary, boolean, augmented -----------------------------------

_COMPARISONS = {
    ast.Lt: (ast.LtE, ast.Gt, ast.GtE),
    ast.LtE: (ast.Lt, ast.GtE, ast.Gt),
    ast.Gt: (ast.GtE, ast.Lt, ast.LtE),
    ast.GtE: (ast.Gt, ast.LtE, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BINARY_SIBLINGS = {
    ast.Add: (ast.Sub, ast.Mult),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div, ast.FloorDiv, ast.Add, ast.Pow),
    ast.Div: (ast.FloorDiv, ast.Mult),
    ast.FloorDiv: (ast.Div, ast.Mod, ast.Mult),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
    ast.LShift: (ast.RShift,),
    ast.RShift: (ast.LShift,),
    ast.BitAnd: (ast.BitOr, ast.BitXor),
    ast.BitOr: (ast.BitAnd, ast.BitXor),
    ast.BitXor: (ast.BitOr, ast.BitAnd),
    ast.MatMult: (ast.Mult,),
}
_SYMBOLS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.MatMult: "@",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.And: "and",
    ast.Or: "or",
}


def operator_piece(source, left_end, right_start, symbol):
    """(from, to, symbol): the operator between two operands replaced, spaced where a word would touch its neighbours."""
    found = source.operator_span(left_end, right_start)
    if found is None:
        return None
    start, end = found
    code = source.code
    if symbol[0].isalpha() and start > 0 and (code[start - 1].isalnum() or code[start - 1] in "_'\""):
        symbol = " " + symbol
    if symbol[-1].isalpha() and end < len(code) and (code[end].isalnum() or code[end] in "_'\""):
        symbol = symbol + " "
    return start, end, symbol


def comparison_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.Compare):
        operands = [node.left, *node.comparators]
        for index, operator in enumerate(node.ops):
            left_end = source.span(operands[index])[1]
            right_start = source.span(operands[index + 1])[0]
            for sibling in _COMPARISONS.get(type(operator), ()):
                piece = operator_piece(source, left_end, right_start, _SYMBOLS[sibling])
                if piece is not None:
                    yield replacement(tree, "comparison", node, None, COMPARE, [piece])


def binary_edits(tree, line):
    for node in tree.nodes(line, ast.BinOp):
        for sibling in _BINARY_SIBLINGS.get(type(node.op), ()):
            candidate = binary_swap(tree, node, sibling)
            if candidate is not None:
                yield candidate


def binary_swap(tree, node, sibling):
    """`a op b` → `a sibling b`; where the precedence changes, operands are bracketed to keep the tree's shape."""
    source = tree.source
    (left_start, left_end), (right_start, right_end) = source.span(node.left), source.span(node.right)
    piece = operator_piece(source, left_end, right_start, _SYMBOLS[sibling])
    if piece is None:
        return None
    new = _BINARY_PRECEDENCE[sibling]
    pieces = [piece]
    if new != precedence(node):
        probe = ast.BinOp(op=sibling())
        for child, (start, end), field in ((node.left, (left_start, left_end), "left"), (node.right, (right_start, right_end), "right")):
            if needs_brackets(probe, field, precedence(child)) and not source.enclosed(start, end):
                pieces += [(start, start, "("), (end, end, ")")]
        pieces.sort(key=lambda item: (item[0], item[1]))
    return replacement(tree, "binary_operator", node, None, new, pieces)


def boolean_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.BoolOp):
        sibling = ast.Or if isinstance(node.op, ast.And) else ast.And
        pieces = []
        for left, right in zip(node.values, node.values[1:]):
            piece = operator_piece(source, source.span(left)[1], source.span(right)[0], _SYMBOLS[sibling])
            if piece is None:
                break
            pieces.append(piece)
        else:
            # `and` and `or` are associative: swapping every operator of the
            # node keeps its meaning as a tree even where Python regroups it.
            yield replacement(tree, "boolean_operator", node, None, ATOM, pieces)


def widened_condition_edits(tree, line):
    """A condition that misses a case: `c` → `c or not v` for a name in scope,
    and `v is None or c` where `c` reads an attribute of `v` (the missing guard)."""
    for node in tree.nodes(line, (ast.If, ast.While)):
        test = node.test
        if isinstance(test, ast.Constant):
            continue
        text = bracketed(tree, test, AND)
        guarded = []
        for inner in ast.walk(test):
            if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and inner.value.id not in guarded:
                guarded.append(inner.value.id)
        for name in guarded[:MAX_SWAPS]:
            yield replacement(tree, "boolean_operator", test, f"{name} is None or {text}", OR)
        for name in tree.names_in_scope(node)[:MAX_CHOICES]:
            yield replacement(tree, "boolean_operator", test, f"{text} or not {name}", OR)


def augmented_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.AugAssign):
        for sibling in _BINARY_SIBLINGS.get(type(node.op), ()):
            piece = operator_piece(source, source.span(node.target)[1], source.span(node.value)[0], _SYMBOLS[sibling] + "=")
            if piece is not None:
                yield replacement(tree, "augmented_operator", node, None, ATOM, [piece])


# -- constants and off-by-one ----------------------------------------------------------------


def number_of(node):
    """The number a node spells (`3`, `-2.5`), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number_of(node.operand) if isinstance(node.operand, ast.Constant) else None
        return -inner if inner is not None else None
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
            return None
        if isinstance(value, int) and abs(value) >= 10**MAX_NUMBER_DIGITS:
            return None
        return value
    return None


def number_text(value):
    return repr(value)


def is_negated_number(tree, node):
    """A constant inside `-n`: edited as the number `-n`, never on its own."""
    parent, _ = tree.parent(node)
    return isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) and number_of(parent) is not None


def constant_edits(tree, line):
    for node in tree.nodes(line, (ast.Constant, ast.UnaryOp, ast.List)):
        parent, _ = tree.parent(node)
        if isinstance(parent, ast.Expr) or isinstance(node, ast.Constant) and is_negated_number(tree, node):
            continue
        for text, inner in constant_choices(tree, node):
            yield replacement(tree, "constant", node, text, inner)
        if isinstance(node, ast.Constant) and isinstance(parent, (ast.If, ast.While)) and parent.test is node:
            # `while True:` that should have been `while queue:`
            for name in tree.names_in_scope(node)[:MAX_CHOICES]:
                yield replacement(tree, "constant", node, name, ATOM)


def constant_choices(tree, node):
    """(text, precedence) of each replacement of a constant, in order."""
    number = number_of(node)
    if number is not None:
        seen = {number}
        for value in (number + 1, number - 1, 0, 1, -1, -number):
            if value not in seen:
                seen.add(value)
                yield number_text(value), UNARY if value < 0 else ATOM
        return
    if isinstance(node, ast.List):
        if node.elts and isinstance(node.ctx, ast.Load):
            yield "[]", ATOM
        return
    if not isinstance(node, ast.Constant):
        return
    if node.value is True or node.value is False or node.value is None:
        for other in ("True", "False", "None"):
            if other != repr(node.value):
                yield other, ATOM
    elif isinstance(node.value, str) and node.value:
        quote = "'" if tree.source.text(node).lstrip("rRuUbBfF")[:1] == "'" else '"'
        yield quote * 2, ATOM


def shifted(tree, node, delta):
    """(text, precedence) of `node` + delta: `n - 1` + 1 is `n`, `2` + 1 is `3`, otherwise `e + 1`."""
    number = number_of(node)
    if number is not None and isinstance(number, int):
        value = number + delta
        return number_text(value), UNARY if value < 0 else ATOM
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        step = number_of(node.right)
        if isinstance(step, int) and isinstance(node.right, ast.Constant):
            return shifted_step(tree, node, (step if isinstance(node.op, ast.Add) else -step) + delta)
    sign = "+" if delta > 0 else "-"
    return f"{bracketed(tree, node, 10)} {sign} {abs(delta)}", 10


def shifted_step(tree, node, value):
    """`left ± k` with its step changed to `value` (0: `left` alone)."""
    source = tree.source
    start = source.span(node)[0]
    left_end, right_start = source.span(node.left)[1], source.span(node.right)[0]
    found = source.operator_span(left_end, right_start)
    left_text = source.code[start : found[0]].rstrip() if found else source.text(node.left)
    if value == 0:
        inner = ATOM if source.enclosed(*source.span(node.left)) else precedence(node.left)
        return left_text, inner
    right_start, right_end = source.span(node.right)
    if (value > 0) == isinstance(node.op, ast.Add):
        # The same sign: only the number changes, the layout stays.
        return source.code[start:right_start] + str(abs(value)) + source.code[right_end : source.span(node)[1]], 10
    return f"{left_text} {'+' if value > 0 else '-'} {abs(value)}", 10


def is_range_call(node):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and 1 <= len(node.args) <= 3
        and not node.keywords
        and not any(isinstance(argument, ast.Starred) for argument in node.args)
    )


def bounds_of(tree, node):
    """The expressions an off-by-one edit shifts, in order: a range's stop
    and start; an index, each index of a tuple (`dp[i - 1, j]`), a slice's
    bounds; a `len(...)`; the numeric arguments of a recursive call
    (`search(mid, hi)`)."""
    if isinstance(node, ast.Subscript):
        index = node.slice
        return [bound for item in (index.elts if isinstance(index, ast.Tuple) else (index,)) for bound in index_bounds(item)]
    if is_range_call(node):
        return [node.args[0]] if len(node.args) == 1 else [node.args[1], node.args[0]]
    if called(node) == "len" and len(node.args) == 1:
        return [node]
    if called(node) is not None and called(node) == getattr(tree.function_of(node), "name", None):
        return [argument for argument in node.args if isinstance(argument, (ast.Name, ast.BinOp))]
    return []


def index_bounds(index):
    if isinstance(index, ast.Slice):
        return [bound for bound in (index.upper, index.lower) if bound is not None]
    if isinstance(index, ast.Starred) or isinstance(index, ast.Constant) and type(index.value) is not int:
        return []
    return [index]


def off_by_one_edits(tree, line):
    for node in tree.nodes(line, (ast.Call, ast.Subscript)):
        for bound in bounds_of(tree, node):
            for delta in (1, -1):
                text, inner = shifted(tree, bound, delta)
                yield replacement(tree, "off_by_one", bound, text, inner)


# -- names, calls, arguments, conditions, returns ----------------------------------------------


def is_call_target(tree, node):
    parent, field = tree.parent(node)
    return isinstance(parent, ast.Call) and field == "func"


def variable_edits(tree, line):
    for node in tree.nodes(line, ast.Name):
        if not isinstance(node.ctx, ast.Load) or is_call_target(tree, node):
            continue
        choices = tree.other_names(node)
        for name in choices[:MAX_CHOICES]:
            yield replacement(tree, "variable", node, name, ATOM)


def attribute_edits(tree, line):
    """`node.outgoing` → `node.incoming`: another attribute name the program reads."""
    source = tree.source
    names = tree.cached(("attributes",), lambda: list(dict.fromkeys(node.attr for node in ast.walk(tree.module) if isinstance(node, ast.Attribute))))
    for node in tree.nodes(line, ast.Attribute):
        if not isinstance(node.ctx, ast.Load) or is_call_target(tree, node):
            continue
        end = source.span(node)[1]
        start = end - len(node.attr)
        if source.code[start:end] != node.attr:
            continue
        for name in [name for name in names if name != node.attr][:MAX_CHOICES]:
            yield replacement(tree, "variable", node, None, ATOM, [(start, end, name)])


def adjusted_argument_edits(tree, line):
    """`f(x, k)` → `f(x, k - n)` (or `+ n`): an argument that forgot an amount at hand."""
    for node in tree.nodes(line, ast.Name):
        parent, field = tree.parent(node)
        if not isinstance(node.ctx, ast.Load) or (type(parent).__name__, field) != ("Call", "args"):
            continue
        for name in tree.other_names(node)[:MAX_CHOICES]:
            for symbol in ("-", "+"):
                yield replacement(tree, "variable", node, f"{node.id} {symbol} {name}", _BINARY_PRECEDENCE[ast.Add])


def call_to_name_edits(tree, line):
    """A value computed by a call that was already at hand: `f(x, y)` → `v`."""
    for node in tree.nodes(line, ast.Call):
        parent, field = tree.parent(node)
        if (type(parent).__name__, field) not in _VALUE_FIELDS:
            continue
        for name in tree.names_in_scope(node)[:MAX_CHOICES]:
            yield replacement(tree, "variable", node, name, ATOM)


_CALL_SIBLINGS = {
    "min": ("max",),
    "max": ("min",),
    "any": ("all",),
    "all": ("any",),
    "sorted": ("reversed",),
    "reversed": ("sorted",),
    "sum": ("len",),
    "len": ("sum",),
    "floor": ("ceil",),
    "ceil": ("floor",),
    "int": ("round",),
    "round": ("int",),
    "bisect_left": ("bisect_right",),
    "bisect_right": ("bisect_left",),
    "bisect": ("bisect_left",),
}
_METHOD_SIBLINGS = {
    **_CALL_SIBLINGS,
    "append": ("extend",),
    "extend": ("append",),
    "appendleft": ("append",),
    "popleft": ("pop",),
    "lower": ("upper",),
    "upper": ("lower",),
    "islower": ("isupper",),
    "isupper": ("islower",),
    "isdigit": ("isalpha",),
    "isalpha": ("isdigit",),
    "startswith": ("endswith",),
    "endswith": ("startswith",),
    "index": ("find",),
    "find": ("index", "rfind"),
    "rfind": ("find",),
    "rindex": ("index",),
    "strip": ("lstrip", "rstrip"),
    "lstrip": ("strip", "rstrip"),
    "rstrip": ("strip", "lstrip"),
    "split": ("rsplit",),
    "rsplit": ("split",),
    "keys": ("values", "items"),
    "values": ("keys", "items"),
    "items": ("keys", "values"),
    "sort": ("reverse",),
    "reverse": ("sort",),
    "remove": ("discard",),
    "discard": ("remove",),
}


def call_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            start, end = source.span(func)
            for sibling in _CALL_SIBLINGS.get(func.id, ()):
                if sibling == "reversed" and node.keywords:
                    continue  # reversed() takes no `key=`
                yield replacement(tree, "call", node, None, ATOM, [(start, end, sibling)])
        elif isinstance(func, ast.Attribute):
            yield from method_swaps(tree, node, func)


def method_swaps(tree, node, func):
    source = tree.source
    end = source.span(func)[1]
    start = end - len(func.attr)
    if source.code[start:end] != func.attr:
        return  # an identifier Python normalised (NFKC): its spelling in the text differs
    for sibling in _METHOD_SIBLINGS.get(func.attr, ()):
        yield replacement(tree, "call", node, None, ATOM, [(start, end, sibling)])
    if func.attr == "pop" and not node.keywords and len(node.args) <= 1:
        arguments = "()" if node.args else "(0)"
        if not node.args or number_of(node.args[0]) == 0:
            yield replacement(tree, "call", node, source.code[source.span(node)[0] : end] + arguments, ATOM)


def argument_order_edits(tree, line):
    yield from call_argument_swaps(tree, line)
    yield from operand_swaps(tree, line)
    yield from tuple_swaps(tree, line)


# Operators whose operands do not commute (`+` does not for strings and lists).
_ORDERED = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.MatMult, ast.Add)


def operand_swaps(tree, line):
    """`a - b` → `b - a`, each operand bracketed as its new side needs."""
    source = tree.source
    for node in tree.nodes(line, ast.BinOp):
        if not isinstance(node.op, _ORDERED):
            continue
        pieces = []
        for child, other, field in ((node.left, node.right, "left"), (node.right, node.left, "right")):
            start, end = source.span(child)
            text = source.text(other)
            if needs_brackets(node, field, precedence(other)) and not source.enclosed(start, end):
                text = f"({text})"
            pieces.append((start, end, text))
        yield replacement(tree, "argument_order", node, None, precedence(node), pieces)


def call_argument_swaps(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.Call):
        arguments = node.args
        if len(arguments) < 2 or any(isinstance(argument, ast.Starred) for argument in arguments):
            continue
        for index in range(min(len(arguments) - 1, MAX_SWAPS)):
            first, second = arguments[index], arguments[index + 1]
            (first_start, first_end), (second_start, second_end) = source.span(first), source.span(second)
            pieces = [(first_start, first_end, source.text(second)), (second_start, second_end, source.text(first))]
            yield replacement(tree, "argument_order", node, None, ATOM, pieces)


def tuple_swaps(tree, line):
    """`d[j, k]` → `d[k, j]`: neighbouring elements of a tuple change places."""
    source = tree.source
    for node in tree.nodes(line, ast.Tuple):
        elements = node.elts
        if not isinstance(node.ctx, ast.Load) or any(isinstance(element, ast.Starred) for element in elements):
            continue
        for index in range(min(len(elements) - 1, MAX_SWAPS)):
            first, second = elements[index], elements[index + 1]
            pieces = [(*source.span(first), source.text(second)), (*source.span(second), source.text(first))]
            yield replacement(tree, "argument_order", node, None, ATOM, pieces)


def negate_condition_edits(tree, line):
    for node in tree.nodes(line, (ast.If, ast.While, ast.IfExp)):
        test = node.test
        if isinstance(test, ast.Constant):
            continue
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            # What follows `not`, with the operand's own brackets if it has them.
            text = tree.source.text(test)[3:].lstrip()
            inner = ATOM if tree.source.enclosed(*tree.source.span(test.operand)) else precedence(test.operand)
        else:
            text = "not " + bracketed(tree, test, NOT)
            inner = NOT
        yield replacement(tree, "negate_condition", test, text, inner)


def return_value_edits(tree, line):
    for node in tree.nodes(line, ast.Return):
        current = tree.source.text(node.value) if node.value is not None else ""
        for text in return_choices(tree, node, current):
            yield return_replacement(tree, node, text)


def return_choices(tree, node, current):
    """Other values the function returns elsewhere, then its parameters and locals (one-line texts)."""
    seen = {current}
    choices = []
    for text in returned_texts(tree, tree.scope_of(node)):
        if text not in seen:
            seen.add(text)
            choices.append(text)
            if len(choices) == MAX_CHOICES:
                return choices
    for name in tree.names_in_scope(node):
        if name not in seen:
            seen.add(name)
            choices.append(name)
    return choices[:MAX_CHOICES]


def returned_texts(tree, scope):
    """The one-line values the function returns, in order, each once."""

    def collect():
        texts = {}
        for statement in scope_statements(tree, scope):
            if isinstance(statement, ast.Return) and statement.value is not None:
                text = tree.source.text(statement.value)
                if "\n" not in text and "\r" not in text:
                    texts.setdefault(text, None)
        return list(texts)

    return tree.cached(("returns", id(scope)), collect)


def scope_statements(tree, scope):
    """The statements of one function (or module, or class body), in source order."""

    def collect():
        return [statement for statement in tree.statements if tree.scope_of(statement) is scope]

    return tree.cached(("statements", id(scope)), lambda: sorted(collect(), key=lambda statement: statement.lineno))


def extended_return_edits(tree, line):
    """`return e` → `return v + e`: a result that forgot a part at hand (a list, a count)."""
    for node in tree.nodes(line, ast.Return):
        if node.value is None or "\n" in tree.source.text(node.value):
            continue
        value = bracketed(tree, node.value, _BINARY_PRECEDENCE[ast.Add] + 1)
        for name in tree.names_in_scope(node)[:MAX_CHOICES]:
            yield return_replacement(tree, node, f"{name} + {value}")


def return_replacement(tree, node, text):
    source = tree.source
    if node.value is None:
        return replacement(tree, "return_value", node, "return " + text, ATOM)
    start, end = source.span(node.value)
    return replacement(tree, "return_value", node, None, ATOM, [(start, end, text)])


# -- wrapping and unwrapping -------------------------------------------------------------------

WRAPPERS = ("abs", "len", "int", "str", "list", "sorted")
# Where a value is used: the places a wrapped value can be a fix.
_VALUE_FIELDS = frozenset(
    (
        ("Assign", "value"),
        ("AugAssign", "value"),
        ("AnnAssign", "value"),
        ("Return", "value"),
        ("Call", "args"),
        ("keyword", "value"),
        ("Compare", "left"),
        ("Compare", "comparators"),
        ("BinOp", "left"),
        ("BinOp", "right"),
        ("For", "iter"),
        ("comprehension", "iter"),
        ("Subscript", "slice"),
    )
)


def wrap_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, (ast.Name, ast.Subscript, ast.Attribute, ast.Call, ast.BinOp)):
        parent, field = tree.parent(node)
        if (type(parent).__name__, field) not in _VALUE_FIELDS or not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            continue
        if called(node) in _NOT_WRAPPED:
            continue  # `abs(len(x))`, `sorted(range(n))`: never the fix, and many
        text = source.text(node)
        for wrapper in WRAPPERS:
            if called(node) == wrapper or isinstance(parent, ast.Call) and called(parent) == wrapper:
                continue
            yield replacement(tree, "wrap", node, f"{wrapper}({text})", ATOM)


def list_wrap_edits(tree, line):
    """`return []` → `return [[]]`, `x = v` → `x = [v]`: one level of list missing."""
    for node in tree.nodes(line, (ast.Return, ast.Assign)):
        value = node.value
        if value is None or "\n" in tree.source.text(value):
            continue
        yield replacement(tree, "wrap", value, f"[{tree.source.text(value)}]", ATOM)


def slice_edits(tree, line):
    """A sequence that should have lost its head: `f(a, b)` → `f(a, b[1:])`, `for x in arr` → `for x in arr[k:]`."""
    for node in tree.nodes(line, ast.Name):
        parent, field = tree.parent(node)
        if not isinstance(node.ctx, ast.Load) or (type(parent).__name__, field) not in _SLICED_FIELDS:
            continue
        starts = ["1", *tree.other_names(node)[:MAX_SWAPS]]
        for start in starts:
            yield replacement(tree, "wrap", node, f"{node.id}[{start}:]", ATOM)


_SLICED_FIELDS = frozenset((("Call", "args"), ("For", "iter"), ("comprehension", "iter")))


def bounded_assignment_edits(tree, line):
    """`best = value` → `best = max(best, value)` (or min, or `max(0, value)`): a running bound that forgot itself."""
    for node in tree.nodes(line, ast.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) or "\n" in tree.source.text(node.value):
            continue
        target, value = node.targets[0].id, tree.source.text(node.value)
        for text in (f"max({target}, {value})", f"min({target}, {value})", f"max(0, {value})"):
            yield replacement(tree, "wrap", node.value, text, ATOM)


# Calls whose value wrapping does not change in a way a fix needs.
_NOT_WRAPPED = frozenset((*WRAPPERS, "range", "enumerate", "zip", "print"))


def called(node):
    """The name a call calls directly (`len` in `len(x)`), or None."""
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def unwrap_edits(tree, line):
    source = tree.source
    for node in tree.nodes(line, ast.Call):
        if called(node) not in WRAPPERS or len(node.args) != 1:
            continue
        argument = node.args[0]
        if isinstance(argument, (ast.Starred, ast.GeneratorExp)):
            continue
        text = source.text(argument)
        inner = -1 if isinstance(argument, ast.Tuple) and not text.startswith("(") else precedence(argument)
        yield replacement(tree, "unwrap", node, text, inner)


def call_to_argument_edits(tree, line):
    """`yield flatten(x)` → `yield x`: a call that should not have been made (the wrappers are above)."""
    source = tree.source
    for node in tree.nodes(line, ast.Call):
        if called(node) in WRAPPERS or node.keywords or is_call_target(tree, node):
            continue
        for argument in node.args[:MAX_SWAPS]:
            if isinstance(argument, (ast.Starred, ast.GeneratorExp)):
                continue
            text = source.text(argument)
            inner = -1 if isinstance(argument, ast.Tuple) and not text.startswith("(") else precedence(argument)
            yield replacement(tree, "unwrap", node, text, inner)


# -- statements: whole lines ------------------------------------------------------------------

_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Break, ast.Continue, ast.Delete, ast.Raise, ast.Pass, ast.Assert)
_COPYABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Break, ast.Continue)
_JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)
_NOT_MOVED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def editable_statements(tree, line):
    """Statements that start this line and hold whole lines: (statement, (start, end))."""
    found = []
    for statement in tree.statements_at(line):
        if isinstance(statement, _NOT_MOVED) or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        lines = tree.source.whole_lines(statement)
        if lines is not None and not tree.source.first_line(statement).startswith("elif"):
            found.append((statement, lines))
    return found


def block_of(tree, statement):
    """The statement list holding `statement`, and its index there."""
    parent, field = tree.parent(statement)
    body = getattr(parent, field, None) if parent is not None else None
    index = tree.index_of(statement)
    if not isinstance(body, list) or not 0 <= index < len(body) or body[index] is not statement:
        return None, -1
    return body, index


def delete_edits(tree, line):
    source = tree.source
    for statement, (start, end) in editable_statements(tree, line):
        body, _ = block_of(tree, statement)
        # A block cannot be empty: its only statement becomes `pass`.
        text = source.indentation(statement) + "pass" + source.newline if body is not None and len(body) == 1 else ""
        removed = source.code[start:end]
        size = len(tokens(removed)) + (1 if text else 0)
        yield Candidate(statement.lineno, "delete_statement", type(statement).__name__, start, end, text, source.first_line(statement), text.strip(), size)


def duplicate_edits(tree, line):
    source = tree.source
    for statement, (start, end) in editable_statements(tree, line):
        if not isinstance(statement, _SIMPLE) or isinstance(statement, (*_JUMPS, ast.Pass)):
            continue
        text = ensure_newline(source, end, source.code[start:end])
        yield Candidate(statement.end_lineno + 1, "duplicate_statement", type(statement).__name__, end, end, text, "", source.first_line(statement), len(tokens(text)))


def ensure_newline(source, at, text):
    """`text` (whole lines) inserted at `at`: a last line without its line ending gets one first."""
    if at == len(source.code) and source.code and source.code[-1] not in "\r\n":
        return source.newline + text.rstrip("\r\n")
    return text if text.endswith(("\n", "\r")) else text + source.newline


def move_edits(tree, line):
    for statement, lines in editable_statements(tree, line):
        body, index = block_of(tree, statement)
        if body is None:
            continue
        for other_index in (index + 1, index - 1):
            if 0 <= other_index < len(body):
                candidate = swap_statements(tree, statement, lines, body[other_index])
                if candidate is not None:
                    yield candidate


def swap_statements(tree, statement, lines, other):
    """`statement` and its neighbour `other` change places (the lines between them stay)."""
    source = tree.source
    if isinstance(other, _NOT_MOVED):
        return None
    other_lines = source.whole_lines(other)
    if other_lines is None:
        return None
    (upper, upper_lines), (lower, lower_lines) = sorted(((statement, lines), (other, other_lines)), key=lambda item: item[1][0])
    upper_text = source.code[slice(*upper_lines)]
    lower_text = source.code[slice(*lower_lines)]
    if not lower_text.endswith(("\n", "\r")):
        # The last line of the program had no line ending: it still has none.
        lower_text += source.newline
        upper_text = upper_text.rstrip("\r\n")
    between = source.code[upper_lines[1] : lower_lines[0]]
    text = lower_text + between + upper_text
    size = 2 * min(len(tokens(source.code[slice(*upper_lines)])), len(tokens(source.code[slice(*lower_lines)])))
    return Candidate(upper.lineno, "move_statement", type(statement).__name__, upper_lines[0], lower_lines[1], text, source.first_line(upper), source.first_line(lower), size)


def insertion_point(tree, statement, lines):
    """Where a `break`/`continue` goes for this statement: (offset, indentation, line) or None.
    After a simple statement or a block; for an `if`, at the end of its body
    (`if found: ...; break`, the usual missing jump)."""
    source = tree.source
    if isinstance(statement, ast.If):
        last = statement.body[-1]
        last_lines = source.whole_lines(last)
        if last_lines is None or isinstance(last, _JUMPS):
            return None
        return last_lines[1], source.indentation(last), last.end_lineno + 1
    if isinstance(statement, _JUMPS):
        return None
    return lines[1], source.indentation(statement), statement.end_lineno + 1


def insert_jump_edits(tree, line, keyword):
    source = tree.source
    operator = "insert_" + keyword
    node = "Break" if keyword == "break" else "Continue"
    for statement, lines in editable_statements(tree, line):
        if not tree.in_loop(statement) or (keyword == "continue" and ends_loop_body(tree, statement)):
            continue
        point = insertion_point(tree, statement, lines)
        if point is None:
            continue
        at, indentation, new_line = point
        text = ensure_newline(source, at, indentation + keyword + source.newline)
        yield Candidate(new_line, operator, node, at, at, text, "", keyword, 1)


def ends_loop_body(tree, statement):
    """A `continue` after the last statement of a loop body changes nothing."""
    parent, field = tree.parent(statement)
    return isinstance(parent, _LOOPS) and field == "body" and parent.body[-1] is statement and not isinstance(statement, ast.If)


def copy_edits(tree, line):
    source = tree.source
    for statement, (start, _) in editable_statements(tree, line):
        own = source.text(statement)
        indentation = source.indentation(statement)
        for other in copy_choices(tree, statement, own):
            text = indentation + source.text(other) + source.newline
            yield Candidate(statement.lineno, "copy_statement", type(other).__name__, start, start, text, "", source.text(other), len(tokens(text)))


def substituted_copy_edits(tree, line):
    """A statement the program needs once more with one name changed
    (`lines.append(line)` → also `lines.append(text)`), before this statement
    or, for the last of a block, after it; and `a = b` for names in scope."""
    source = tree.source
    for statement, (start, end) in editable_statements(tree, line):
        indentation = source.indentation(statement)
        body, index = block_of(tree, statement)
        places = [(start, statement.lineno, "")]
        if body is not None and index == len(body) - 1:
            places.append((end, statement.end_lineno + 1, source.newline if not source.code[:end].endswith(("\n", "\r")) else ""))
        names = tree.names_in_scope(statement)[:MAX_CHOICES]
        texts = []
        for other in copy_choices(tree, statement, source.text(statement))[:MAX_SWAPS]:
            texts.extend(substitutions(tree, other, names))
        texts.extend(f"{left} = {right}" for left in names[:MAX_SWAPS] for right in names[:MAX_SWAPS] if left != right)
        for at, new_line, lead in places:
            for text in texts:
                inserted = lead + indentation + text + source.newline
                yield Candidate(new_line, "copy_statement", "Assign" if " = " in text else "Expr", at, at, inserted, "", text, len(tokens(text)))


def substitutions(tree, statement, names):
    """The statement's text with one of its names replaced by another in scope."""
    source = tree.source
    origin = source.span(statement)[0]
    text = source.text(statement)
    found = []
    for node in ast.walk(statement):
        if not isinstance(node, ast.Name):
            continue
        start, end = (offset - origin for offset in source.span(node))
        for name in names:
            if name != node.id:
                found.append(text[:start] + name + text[end:])
    return found[: MAX_CHOICES * 2]


def copy_choices(tree, statement, own):
    """One-line simple statements of the same function, nearest first (ties: the earlier), each text once."""
    candidates = copyable_statements(tree, tree.scope_of(statement))
    lines = [other.lineno for other in candidates]
    after = bisect.bisect_left(lines, statement.lineno)
    before = after - 1
    seen = {own}
    found = []
    # Outwards from the statement's line, so that a long function costs no more than a short one.
    while len(found) < MAX_CHOICES and (before >= 0 or after < len(candidates)):
        take_before = after >= len(candidates) or before >= 0 and statement.lineno - lines[before] <= lines[after] - statement.lineno
        other = candidates[before] if take_before else candidates[after]
        before, after = (before - 1, after) if take_before else (before, after + 1)
        text = tree.source.text(other)
        if other is not statement and text not in seen:
            seen.add(text)
            found.append(other)
    return found


def copyable_statements(tree, scope):
    def collect():
        return [
            other
            for other in scope_statements(tree, scope)
            if isinstance(other, _COPYABLE) and other.lineno == other.end_lineno and not (isinstance(other, ast.Expr) and isinstance(other.value, ast.Constant))
        ]

    return tree.cached(("copyable", id(scope)), collect)


GENERATORS = {
    "comparison": comparison_edits,
    "off_by_one": off_by_one_edits,
    "constant": constant_edits,
    "binary_operator": binary_edits,
    "boolean_operator": lambda tree, line: chain(boolean_edits(tree, line), widened_condition_edits(tree, line)),
    "augmented_operator": augmented_edits,
    "call": call_edits,
    "negate_condition": negate_condition_edits,
    "variable": lambda tree, line: chain(variable_edits(tree, line), attribute_edits(tree, line), call_to_name_edits(tree, line), adjusted_argument_edits(tree, line)),
    "argument_order": argument_order_edits,
    "return_value": lambda tree, line: chain(return_value_edits(tree, line), extended_return_edits(tree, line)),
    "unwrap": lambda tree, line: chain(unwrap_edits(tree, line), call_to_argument_edits(tree, line)),
    "wrap": lambda tree, line: chain(wrap_edits(tree, line), list_wrap_edits(tree, line), slice_edits(tree, line), bounded_assignment_edits(tree, line)),
    "delete_statement": delete_edits,
    "move_statement": move_edits,
    "duplicate_statement": duplicate_edits,
    "insert_break": lambda tree, line: insert_jump_edits(tree, line, "break"),
    "insert_continue": lambda tree, line: insert_jump_edits(tree, line, "continue"),
    "copy_statement": lambda tree, line: chain(copy_edits(tree, line), substituted_copy_edits(tree, line)),
}
assert tuple(GENERATORS) == OPERATOR_ORDER


# -- checking and collecting --------------------------------------------------------------


def compiles(code):
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
        return True
    except Exception:  # SyntaxError, RecursionError, MemoryError ...
        return False


class Collector:
    """The edits kept so far, as JSON texts: each compiles, none repeats a program, all fit the budgets."""

    def __init__(self, code, limit, deadline, max_bytes):
        self.code = code
        self.limit = limit
        self.deadline = deadline
        self.room = max_bytes
        self.tried = {hash(code)}
        self.encoded = []
        self.out_of_room = False

    def done(self):
        return len(self.encoded) >= self.limit or self.out_of_room or time.monotonic() > self.deadline

    def offer(self, candidate):
        code = self.code[: candidate.start] + candidate.text + self.code[candidate.end :]
        key = hash(code)
        if key in self.tried:
            return
        self.tried.add(key)
        if not compiles(code):
            return
        size = candidate.size if candidate.size is not None else token_distance(candidate.before, candidate.after)
        edit = {
            "line": max(1, candidate.line),
            "operator": candidate.operator,
            "node": candidate.node,
            "before": candidate.before,
            "after": candidate.after,
            "code": code,
            "size": size,
        }
        text = json.dumps(edit)
        if len(text) + 1 > self.room:
            self.out_of_room = True
            return
        self.room -= len(text) + 1
        self.encoded.append(text)

    def json(self):
        return "[" + ",".join(self.encoded) + "]"


def site_lines(sites, line_count):
    """The sites' lines in the order given (most suspicious first), each once, within the program."""
    seen = set()
    lines = []
    for site in sites[:MAX_SITES] if isinstance(sites, list) else ():
        line = site.get("line") if isinstance(site, dict) else None
        if type(line) is int and 1 <= line <= line_count and line not in seen:
            seen.add(line)
            lines.append(line)
    return lines


def generate(code, sites, limit, seconds=SECONDS, max_bytes=MAX_BYTES):
    """The edits at `sites`, as a JSON array text: those of the first site
    first, at most `limit`, made within `seconds` once the program is loaded
    (loading is bounded by MAX_CODE_CHARS and MAX_NODES)."""
    limit = min(limit, MAX_LIMIT) if type(limit) is int and limit > 0 else 0
    with warnings.catch_warnings():
        # compile() warns about some programs (`x is 1`); nobody reads the child's stderr.
        warnings.simplefilter("ignore")
        tree = load(code) if limit else None
        if tree is None:
            return "[]"
        collector = Collector(code, limit, time.monotonic() + seconds, max_bytes)
        for line in site_lines(sites, len(tree.source.lines)):
            for operator in OPERATOR_ORDER:
                for candidate in GENERATORS[operator](tree, line):
                    if collector.done():
                        return collector.json()
                    collector.offer(candidate)
        return collector.json()


def edits(code, sites, limit, seconds=SECONDS, max_bytes=MAX_BYTES):
    """The edits as Python objects (tests, tools)."""
    return json.loads(generate(code, sites, limit, seconds, max_bytes))
