/**
 * The programs behind the golden renderings: small, written for these tests
 * (no benchmark programs are copied here), each failing in a different way.
 */
import type { z } from "zod";

import type { ExecuteRequest } from "../../src/shared/schema/requests.ts";

export interface GoldenProgram {
  readonly name: string;
  readonly request: z.input<typeof ExecuteRequest>;
  /** Budgets to render at: the default and one that forces folding. */
  readonly budgets: readonly number[];
}

export const GOLDEN_PROGRAMS: readonly GoldenProgram[] = [
  {
    name: "mean-wrong-answer",
    request: {
      code: "def mean(values):\n    total = 0\n    for value in values:\n        total += value\n    return total // len(values)\n",
      entry_point: "mean",
      tests: [{ kind: "call", args: [[1, 2]], expected: 1.5 }],
    },
    budgets: [4_000, 400],
  },
  {
    name: "nested-runtime-error",
    request: {
      code: [
        "def parse(item):",
        "    name, count = item.split('=')",
        "    return name, int(count)",
        "",
        "def totals(items):",
        "    result = {}",
        "    for item in items:",
        "        name, count = parse(item)",
        "        result[name] = result.get(name, 0) + count",
        "    return result",
        "",
      ].join("\n"),
      entry_point: "totals",
      tests: [{ kind: "call", args: [["a=1", "b=2", "a=x"]], expected: { a: 1, b: 2 } }],
    },
    budgets: [4_000, 500],
  },
  {
    name: "long-loop-folded",
    request: {
      code: [
        "def first_repeat(limit):",
        "    seen = set()",
        "    value = 7",
        "    for step in range(limit):",
        "        value = (value * 21 + 7) % 100",
        "        if value in seen:",
        "            return step",
        "        seen.add(value)",
        "    return -1",
        "",
      ].join("\n"),
      entry_point: "first_repeat",
      tests: [{ kind: "call", args: [5000], expected: 0 }],
      trace: { max_events: 50_000 },
    },
    budgets: [4_000, 1_200],
  },
  {
    name: "recursion-error",
    request: {
      code: "import sys\nsys.setrecursionlimit(60)\n\ndef depth(node):\n    if node is None:\n        return 0\n    return 1 + depth(node)\n",
      entry_point: "depth",
      tests: [{ kind: "call", args: [[1, [2, null]]], expected: 2 }],
    },
    budgets: [4_000, 900],
  },
  {
    name: "assert-check",
    request: {
      code: "def clamp(value, low, high):\n    if value < low:\n        return low\n    if value > high:\n        return low\n    return value\n",
      entry_point: "clamp",
      tests: [{ kind: "assert", code: "def check(candidate):\n    assert candidate(5, 0, 10) == 5\n    assert candidate(12, 0, 10) == 10\n" }],
    },
    budgets: [4_000, 600],
  },
];
