"""Mutants of reference programs: candidate programs with realistic bugs.

    python3 models/trainer/mutate_programs.py DATASET.jsonl [--per-program N] [--seed S] > mutants.jsonl

Each output line: {"problem_id", "operator", "line", "code"}. Operators (one
edit per mutant, in the spirit of mutation testing): arithmetic and boolean
operators swapped, comparisons flipped or loosened, integer constants ±1,
range/slice bounds shifted, call arguments swapped, a statement deleted or
duplicated, a return value replaced. Whether a mutant is actually wrong is
not assumed here: callers run it against the tests.

The programs are read from the dataset file at run time; nothing is copied
into the repository.
"""

import argparse
import ast
import copy
import json
import random
import sys

ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult, ast.Mod: ast.FloorDiv}
COMPARISONS = {
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
}
BOOLEANS = {ast.And: ast.Or, ast.Or: ast.And}


def sites(tree):
    """Every place an operator applies: (operator name, node, variant)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            found.append(("arithmetic", node, None))
        elif isinstance(node, ast.AugAssign) and type(node.op) in ARITHMETIC:
            found.append(("arithmetic", node, None))
        elif isinstance(node, ast.Compare):
            for position, operator in enumerate(node.ops):
                for variant in range(len(COMPARISONS.get(type(operator), []))):
                    found.append(("comparison", node, (position, variant)))
        elif isinstance(node, ast.BoolOp):
            found.append(("boolean", node, None))
        elif isinstance(node, ast.Constant) and type(node.value) is int and not isinstance(node.value, bool):
            found.append(("constant", node, +1))
            found.append(("constant", node, -1))
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name == "range" and node.args:
                found.append(("range_bound", node, len(node.args) - 1 if len(node.args) > 1 else 0))
            if len(node.args) >= 2 and name not in ("range", "print", "isinstance"):
                found.append(("swap_arguments", node, None))
        elif isinstance(node, ast.Slice):
            if node.lower is not None:
                found.append(("slice_bound", node, "lower"))
            if node.upper is not None:
                found.append(("slice_bound", node, "upper"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append(("negation", node, None))
        elif isinstance(node, ast.Return) and node.value is not None:
            found.append(("return_value", node, None))
    for parent in ast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and len(block) > 1:
                for index, statement in enumerate(block):
                    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)) and not (
                        isinstance(statement, ast.Expr) and isinstance(getattr(statement, "value", None), ast.Constant)
                    ):
                        found.append(("delete_statement", parent, (field, index)))
                        found.append(("duplicate_statement", parent, (field, index)))
    return found


def shifted(expression, delta):
    return ast.BinOp(left=expression, op=ast.Add() if delta > 0 else ast.Sub(), right=ast.Constant(value=abs(delta)))


def apply(operator, node, variant):
    """Mutates `node` in place (it belongs to a copied tree); False when it does not apply."""
    if operator == "arithmetic":
        node.op = ARITHMETIC[type(node.op)]()
    elif operator == "comparison":
        position, choice = variant
        node.ops[position] = COMPARISONS[type(node.ops[position])][choice]()
    elif operator == "boolean":
        node.op = BOOLEANS[type(node.op)]()
    elif operator == "constant":
        node.value = node.value + variant
    elif operator == "range_bound":
        node.args[variant] = shifted(node.args[variant], random.choice((1, -1)))
    elif operator == "swap_arguments":
        node.args[0], node.args[1] = node.args[1], node.args[0]
    elif operator == "slice_bound":
        setattr(node, variant, shifted(getattr(node, variant), random.choice((1, -1))))
    elif operator == "negation":
        return "replace_with_operand"
    elif operator == "return_value":
        node.value = random.choice([ast.Constant(value=None), ast.Constant(value=0), ast.List(elts=[], ctx=ast.Load())])
    elif operator in ("delete_statement", "duplicate_statement"):
        field, index = variant
        block = getattr(node, field)
        if operator == "delete_statement":
            del block[index]
            if not block:
                block.append(ast.Pass())
        else:
            block.insert(index, copy.deepcopy(block[index]))
    return True


class _Unnot(ast.NodeTransformer):
    def __init__(self, target):
        self.target = target

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return node.operand if node is self.target else node


def mutants(code, count, rng):
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = sites(tree)
    rng.shuffle(found)
    original = ast.unparse(tree)
    result = []
    seen = {original}
    for operator, node, variant in found:
        if len(result) >= count:
            break
        copied = copy.deepcopy(tree)
        # Find the same node in the copy by walking both trees in step.
        mapping = dict(zip(map(id, ast.walk(tree)), ast.walk(copied)))
        target = mapping.get(id(node))
        if target is None:
            continue
        outcome = apply(operator, target, variant)
        if outcome == "replace_with_operand":
            copied = _Unnot(target).visit(copied)
        ast.fix_missing_locations(copied)
        try:
            mutated = ast.unparse(copied)
            compile(mutated, "<mutant>", "exec")
        except (SyntaxError, ValueError, RecursionError):
            continue
        if mutated in seen:
            continue
        seen.add(mutated)
        result.append({"operator": operator, "line": getattr(node, "lineno", None), "code": mutated + "\n"})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="a JSONL file in the shared schema (reference_code, id)")
    parser.add_argument("--per-program", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    random.seed(arguments.seed)
    with open(arguments.dataset, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            for mutant in mutants(record["reference_code"], arguments.per_program, rng):
                print(json.dumps({"problem_id": record["id"], **mutant}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
