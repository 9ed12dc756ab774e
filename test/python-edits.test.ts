/**
 * Edits of Python programs on their syntax tree (tracefix_harness/edits.py),
 * through the real sandboxed pool: small buggy programs whose fix is one
 * edit, the contract's bounds (limit, site order, programs that do not
 * parse) and hostile programs that must neither hang the op nor break the
 * worker. One worker, so that "the next run" is on the same worker.
 */
import { execFileSync } from "node:child_process";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { validEdits } from "../src/sandbox/worker-pool.ts";
import { AbortedError } from "../src/shared/errors.ts";
import { silentLogger } from "../src/shared/logger.ts";
import type { Edit, EditOperator } from "../src/shared/schema/edits.ts";
import { SandboxRouter, type PythonPool } from "../src/sandbox/index.ts";
import { job, startPool } from "./support/sandbox.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool({ size: 1 });
});

afterAll(async () => {
  await pool.close();
});

/** Every line a site, the first line most suspicious. */
function allLines(code: string): { line: number; suspiciousness: number }[] {
  return code.split("\n").map((_, index) => ({ line: index + 1, suspiciousness: 1 - index / 100 }));
}

function edits(code: string, lines: readonly number[], limit = 5_000): Promise<readonly Edit[]> {
  return pool.edits("python", { code, sites: lines.map((line) => ({ line, suspiciousness: 0.5 })), limit });
}

/** The edit that turns `code` into `fixed`, checked against what it says it did. */
function fixing(found: readonly Edit[], fixed: string): Edit {
  const edit = found.find((candidate) => candidate.code === fixed);
  expect(edit, `no edit gives:\n${fixed}`).toBeDefined();
  return edit as Edit;
}

async function trivialRunPasses(): Promise<void> {
  const report = await pool.execute(job({ code: "def f():\n    return 'fine'\n", entry_point: "f", tests: [{ kind: "call", args: [], expected: "fine" }], trace: { mode: "none" } }));
  expect(report.status).toBe("passed");
}

interface Fix {
  readonly name: string;
  readonly code: string;
  readonly fixed: string;
  readonly line: number;
  /** The site asked for, when not the edit's own line (an insertion after a block). */
  readonly site?: number;
  readonly operator: EditOperator;
  readonly node: string;
  readonly before: string;
  readonly after: string;
}

const FIXES: readonly Fix[] = [
  {
    name: "an off-by-one range in a max function",
    code: "def biggest(xs):\n    best = xs[0]\n    for i in range(len(xs) - 1):\n        if xs[i] > best:\n            best = xs[i]\n    return best\n",
    fixed: "def biggest(xs):\n    best = xs[0]\n    for i in range(len(xs)):\n        if xs[i] > best:\n            best = xs[i]\n    return best\n",
    line: 3,
    operator: "off_by_one",
    node: "BinOp",
    before: "len(xs) - 1",
    after: "len(xs)",
  },
  {
    name: "a wrong comparison",
    code: "def count_positive(xs):\n    count = 0\n    for x in xs:\n        if x >= 0:  # zero is not positive\n            count += 1\n    return count\n",
    fixed: "def count_positive(xs):\n    count = 0\n    for x in xs:\n        if x > 0:  # zero is not positive\n            count += 1\n    return count\n",
    line: 4,
    operator: "comparison",
    node: "Compare",
    before: "x >= 0",
    after: "x > 0",
  },
  {
    name: "a wrong constant",
    code: "def total(xs):\n    result = 1\n    for x in xs:\n        result += x\n    return result\n",
    fixed: "def total(xs):\n    result = 0\n    for x in xs:\n        result += x\n    return result\n",
    line: 2,
    operator: "constant",
    node: "Constant",
    before: "1",
    after: "0",
  },
  {
    name: "max instead of min",
    code: "def smallest(xs):\n    return max(xs, default=None)\n",
    fixed: "def smallest(xs):\n    return min(xs, default=None)\n",
    line: 2,
    operator: "call",
    node: "Call",
    before: "max(xs, default=None)",
    after: "min(xs, default=None)",
  },
  {
    name: "a missing `not`",
    code: "def odds(xs):\n    kept = []\n    for x in xs:\n        if x % 2 == 0 or is_small(x):\n            kept.append(x)\n    return kept\n",
    fixed: "def odds(xs):\n    kept = []\n    for x in xs:\n        if not (x % 2 == 0 or is_small(x)):\n            kept.append(x)\n    return kept\n",
    line: 4,
    operator: "negate_condition",
    node: "BoolOp",
    before: "x % 2 == 0 or is_small(x)",
    after: "not (x % 2 == 0 or is_small(x))",
  },
  {
    name: "a missing `break` (the last match instead of the first)",
    code: "def first_index(xs, target):\n    found = -1\n    for i, x in enumerate(xs):\n        if x == target:\n            found = i\n    return found\n",
    fixed: "def first_index(xs, target):\n    found = -1\n    for i, x in enumerate(xs):\n        if x == target:\n            found = i\n            break\n    return found\n",
    line: 6,
    operator: "insert_break",
    node: "Break",
    before: "",
    after: "break",
  },
  {
    name: "a call that should not have been made",
    code: "def total(xs):\n    if len(xs) == 1:\n        return total(xs[0])\n    return xs[0] + total(xs[1:])\n",
    fixed: "def total(xs):\n    if len(xs) == 1:\n        return xs[0]\n    return xs[0] + total(xs[1:])\n",
    line: 3,
    operator: "unwrap",
    node: "Call",
    before: "total(xs[0])",
    after: "xs[0]",
  },
  {
    name: "one level of list missing",
    code: "def prefixes(xs):\n    if not xs:\n        return []\n    return prefixes(xs[:-1]) + [xs]\n",
    fixed: "def prefixes(xs):\n    if not xs:\n        return [[]]\n    return prefixes(xs[:-1]) + [xs]\n",
    line: 3,
    operator: "wrap",
    node: "List",
    before: "[]",
    after: "[[]]",
  },
  {
    name: "a sequence that should have lost its head",
    code: "def count_rises(xs):\n    rises = 0\n    for previous, current in zip(xs, xs):\n        if current > previous:\n            rises += 1\n    return rises\n",
    fixed: "def count_rises(xs):\n    rises = 0\n    for previous, current in zip(xs, xs[1:]):\n        if current > previous:\n            rises += 1\n    return rises\n",
    line: 3,
    operator: "wrap",
    node: "Name",
    before: "xs",
    after: "xs[1:]",
  },
  {
    name: "a running bound that forgot itself",
    code: "def best_score(scores):\n    best = 0\n    for score in scores:\n        best = score\n    return best\n",
    fixed: "def best_score(scores):\n    best = 0\n    for score in scores:\n        best = max(best, score)\n    return best\n",
    line: 4,
    operator: "wrap",
    node: "Name",
    before: "score",
    after: "max(best, score)",
  },
  {
    name: "indices in the wrong order",
    code: "def cell(grid, row, column):\n    return grid[column, row]\n",
    fixed: "def cell(grid, row, column):\n    return grid[row, column]\n",
    line: 2,
    operator: "argument_order",
    node: "Tuple",
    before: "column, row",
    after: "row, column",
  },
  {
    name: "the wrong attribute",
    code: "def perimeter(box):\n    return 2 * (box.width + box.width)\n\n\ndef area(box):\n    return box.width * box.height\n",
    fixed: "def perimeter(box):\n    return 2 * (box.width + box.height)\n\n\ndef area(box):\n    return box.width * box.height\n",
    line: 2,
    operator: "variable",
    node: "Attribute",
    before: "box.width",
    after: "box.height",
  },
  {
    name: "a call where a variable was at hand",
    code: "def average(values):\n    total = sum(values)\n    count = len(values)\n    return total / max(values)\n",
    fixed: "def average(values):\n    total = sum(values)\n    count = len(values)\n    return total / count\n",
    line: 4,
    operator: "variable",
    node: "Call",
    before: "max(values)",
    after: "count",
  },
  {
    name: "a constant loop condition",
    code: "def drain(stack):\n    taken = []\n    while True:\n        taken.append(stack.pop())\n    return taken\n",
    fixed: "def drain(stack):\n    taken = []\n    while stack:\n        taken.append(stack.pop())\n    return taken\n",
    line: 3,
    operator: "constant",
    node: "Constant",
    before: "True",
    after: "stack",
  },
  {
    name: "a condition that misses a case",
    code: "def safe_ratio(a, b):\n    if a < 0:\n        return 0\n    return a / b\n",
    fixed: "def safe_ratio(a, b):\n    if a < 0 or not b:\n        return 0\n    return a / b\n",
    line: 2,
    operator: "boolean_operator",
    node: "Compare",
    before: "a < 0",
    after: "a < 0 or not b",
  },
  {
    name: "a missing None guard",
    code: "def reaches_end(node):\n    while True:\n        if node.next is None:\n            return True\n        node = node.next.next\n",
    fixed: "def reaches_end(node):\n    while True:\n        if node is None or node.next is None:\n            return True\n        node = node.next.next\n",
    line: 3,
    operator: "boolean_operator",
    node: "Compare",
    before: "node.next is None",
    after: "node is None or node.next is None",
  },
  {
    name: "a missing assignment at the end of a loop body",
    code: "def running_pairs(xs):\n    previous = None\n    pairs = []\n    for x in xs:\n        if previous is not None:\n            pairs.append((previous, x))\n    return pairs\n",
    fixed: "def running_pairs(xs):\n    previous = None\n    pairs = []\n    for x in xs:\n        if previous is not None:\n            pairs.append((previous, x))\n        previous = x\n    return pairs\n",
    line: 7,
    site: 5,
    operator: "copy_statement",
    node: "Assign",
    before: "",
    after: "previous = x",
  },
];

describe("edits that fix small programs", () => {
  for (const fix of FIXES) {
    it(`finds the fix of ${fix.name}, with its line, before and after`, async () => {
      const found = await edits(fix.code, [fix.site ?? (fix.operator === "insert_break" ? 5 : fix.line)]);
      expect(fixing(found, fix.fixed)).toEqual({ line: fix.line, operator: fix.operator, node: fix.node, before: fix.before, after: fix.after, code: fix.fixed, size: expect.any(Number) });
    });
  }

  it("keeps the rest of the program as it was: comments, quotes, layout", async () => {
    const code = "def f(a, b):\n    # the sum, doubled\n    x = (a+b)*2  # keep me\n    return 'x=%d'   %  x\n";
    const found = await edits(code, [3]);
    const edit = fixing(found, "def f(a, b):\n    # the sum, doubled\n    x = (a-b)*2  # keep me\n    return 'x=%d'   %  x\n");
    expect(edit).toMatchObject({ operator: "binary_operator", before: "a+b", after: "a-b", size: 2 });
  });

  it("brackets an operand where a new operator's precedence needs it", async () => {
    const found = await edits("def f(a, b, c):\n    return a - b + c\n", [2]);
    // `+` → `*` on the outer node keeps its shape: (a - b) * c, not a - (b * c).
    expect(found.map((edit) => edit.after)).toContain("(a - b) * c");
  });

  it("returns only programs that compile, each once, none the original", async () => {
    const programs = [...FIXES.map((fix) => fix.code), "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def pop(self):\n        return self.items.pop(0) if self.items else None\n"];
    for (const code of programs) {
      const found = await edits(code, allLines(code).map((site) => site.line));
      expect(found.length).toBeGreaterThan(5);
      const codes = found.map((edit) => edit.code);
      expect(new Set(codes).size).toBe(codes.length);
      expect(codes).not.toContain(code);
      // Compiled by the sandbox's own interpreter, all at once.
      const check = "import json, sys\nfor code in json.load(sys.stdin):\n    compile(code, '<edit>', 'exec')\nprint('ok')\n";
      expect(execFileSync(pool.interpreter.executable, ["-c", check], { input: JSON.stringify(codes) }).toString().trim()).toBe("ok");
    }
  });
});

describe("the contract's bounds", () => {
  const CODE = FIXES[0]?.code ?? "";

  it("respects the limit, and a smaller limit gives the first edits of a larger one", async () => {
    const all = await edits(CODE, [3, 4, 5], 5_000);
    const three = await edits(CODE, [3, 4, 5], 3);
    expect(all.length).toBeGreaterThan(3);
    expect(three).toEqual(all.slice(0, 3));
  });

  it("follows the sites' order: the first site's edits come first", async () => {
    const code = "def f(xs, n):\n    total = 0\n    for x in xs:\n        total += x * 2\n    if total > n:\n        return total\n    return n\n";
    const [two, five, twoThenFive, fiveThenTwo] = await Promise.all([edits(code, [2]), edits(code, [5]), edits(code, [2, 5]), edits(code, [5, 2])]);
    // One site's edits, then the other's that are new (an edit of both sites comes with the first).
    const concatenated = (first: readonly Edit[], second: readonly Edit[]): Edit[] => [...first, ...second.filter((edit) => !first.some((earlier) => earlier.code === edit.code))];
    expect(twoThenFive).toEqual(concatenated(two, five));
    expect(fiveThenTwo).toEqual(concatenated(five, two));
    expect(fiveThenTwo[0]).toMatchObject({ line: 5, operator: "comparison", before: "total > n", after: "total >= n" });
    expect(twoThenFive[0]).toMatchObject({ line: 2, operator: "constant", before: "0", after: "1" });
  });

  it("gives no edits of a program that does not compile, or at lines it does not have", async () => {
    expect(await edits("def f(x)\n    return x\n", [1, 2])).toEqual([]);
    expect(await edits("def f(x):\n    return x\nbreak\n", [2])).toEqual([]);
    expect(await edits("def f(x):\n    return x\n", [40])).toEqual([]);
  });

  it("rejects when aborted, and only then", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pool.edits("python", { code: CODE, sites: [{ line: 3, suspiciousness: 1 }], limit: 10 }, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect((await edits(CODE, [3], 10)).length).toBe(10);
  });
});

describe("the Node side", () => {
  it("keeps only the reply's items that are edits by the schema", () => {
    const edit = { line: 1, operator: "constant", node: "Constant", before: "1", after: "0", code: "x = 0\n", size: 2 };
    expect(validEdits([edit, { ...edit, operator: "rename" }, { ...edit, line: 0 }, "edit", null], silentLogger)).toEqual([edit]);
    expect(validEdits({ edits: [edit] }, silentLogger)).toEqual([]);
  });

  it("has no edits for a language without a pool, through the router and forClient", async () => {
    const router = new SandboxRouter([pool], { javascript: "not started" });
    expect(await router.edits("javascript", { code: "let x = 1;", sites: [{ line: 1, suspiciousness: 1 }], limit: 5 })).toEqual([]);
    expect((await router.edits("python", { code: "x = 1\n", sites: [{ line: 1, suspiciousness: 1 }], limit: 3 })).map((edit) => edit.after)).toEqual(["2", "0", "-1"]);
  });
});

describe("hostile programs", () => {
  it("answers a 100,000-level nesting at once with no edits, and the worker runs on", async () => {
    for (const code of [`x = ${"(".repeat(100_000)}1${")".repeat(100_000)}\n`, `x = ${"-".repeat(100_000)}1\n`, `x = ${"1 + ".repeat(100_000)}1\n`]) {
      const started = Date.now();
      expect(await edits(code, [1])).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
    await trivialRunPasses();
  });

  it("bounds the time and the reply for 200 KB of code, and the worker runs on", async () => {
    const code = `def f(x):\n${"    x = x + 1\n".repeat(14_000)}    return x\n`;
    expect(code.length).toBeGreaterThan(190_000);
    const started = Date.now();
    const found = await edits(code, Array.from({ length: 400 }, (_, index) => index + 2));
    // Loading (~1 s here), then at most 2 s of edits, on a loaded 2-core machine.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(found.length).toBeGreaterThan(0);
    const bytes = found.reduce((sum, edit) => sum + edit.code.length, 0);
    expect(bytes).toBeLessThanOrEqual(4 << 20);
    await trivialRunPasses();
  });
});
