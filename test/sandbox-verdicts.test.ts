/**
 * The three test kinds and their verdicts, through the real sandboxed Python
 * pool (bubblewrap where it works).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { job, startPool, statuses } from "./support/sandbox.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool();
});

afterAll(async () => {
  await pool.close();
});

describe("call tests", () => {
  it("passes a right return value and reports a wrong one with both values", async () => {
    const report = await pool.execute(
      job({
        code: "def add(a, b):\n    return a - b if a > 5 else a + b\n",
        entry_point: "add",
        tests: [
          { kind: "call", args: [1, 2], expected: 3 },
          { kind: "call", args: [7, 1], expected: 8 },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(report.status).toBe("failed");
    expect(report.passed).toBe(1);
    expect(statuses(report.tests)).toEqual(["passed", "wrong_answer"]);
    expect(report.tests[1]).toMatchObject({ expected: "8", actual: "6" });
  });

  it("evaluates input and output given as Python expressions", async () => {
    const report = await pool.execute(
      job({
        code: "def pairs(items):\n    return {x: (x, x * x) for x in set(items)}\n",
        entry_point: "pairs",
        tests: [
          { kind: "call", input: "[[1, 2, 2]]", output: "{1: (1, 1), 2: (2, 4)}" },
          { kind: "call", input: "[list(range(3))]", output: "{0: (0, 0), 1: (1, 1), 2: (2, 4)}" },
          { kind: "call", input: "[[3]]", output: "{3: (3, 10)}" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "passed", "wrong_answer"]);
  });

  it("compares floats with a relative tolerance and tuples equal to lists", async () => {
    const report = await pool.execute(
      job({
        code: "def f(kind):\n    return {'sum': 0.1 + 0.2, 'off': 1.001, 'tuple': (1, 2), 'nan': float('nan')}[kind]\n",
        entry_point: "f",
        tests: [
          { kind: "call", args: ["sum"], expected: 0.3 },
          { kind: "call", args: ["off"], expected: 1.0 },
          { kind: "call", args: ["off"], expected: 1.0, rel_tol: 0.01 },
          { kind: "call", args: ["tuple"], expected: [1, 2] },
          { kind: "call", args: ["nan"], output: "float('nan')" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "wrong_answer", "passed", "passed", "passed"]);
  });

  it("compares a generator's items, and None only with None", async () => {
    const report = await pool.execute(
      job({
        code: "def f(n):\n    if n == 0:\n        return None\n    return (i * i for i in range(n))\n",
        entry_point: "f",
        tests: [
          { kind: "call", args: [3], expected: [0, 1, 4] },
          { kind: "call", args: [0], expected: null },
          { kind: "call", args: [1], expected: null },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "passed", "wrong_answer"]);
  });

  it("does not let an object whose __eq__ always says True pass", async () => {
    const liar = [
      "class Anything:",
      "    def __eq__(self, other):",
      "        return True",
      "class Five(int):",
      "    def __eq__(self, other):",
      "        return True",
      "def f(kind):",
      "    return Anything() if kind == 'object' else Five(5)",
      "",
    ].join("\n");
    const report = await pool.execute(
      job({
        code: liar,
        entry_point: "f",
        tests: [
          { kind: "call", args: ["object"], expected: 7 },
          { kind: "call", args: ["int"], expected: 6 },
          { kind: "assert", code: "assert f('object') == 7" },
          { kind: "assert", code: "def check(candidate):\n    assert candidate('int') == 6\n" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["wrong_answer", "wrong_answer", "wrong_answer", "wrong_answer"]);
    expect(report.tests[1]?.actual).toBe("5");
  });

  it("reports a missing entry point as a runtime error naming it", async () => {
    const report = await pool.execute(
      job({ code: "def other():\n    return 1\n", entry_point: "solve", tests: [{ kind: "call", args: [] }], trace: { mode: "none" } }),
    );
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(report.tests[0]?.error?.message).toContain("'solve'");
  });
});

describe("stdio tests", () => {
  it("feeds stdin and compares stdout, ignoring trailing whitespace", async () => {
    const code = "import sys\nnumbers = [int(x) for x in sys.stdin.read().split()]\nprint(sum(numbers), '  ')\nprint()\nsys.exit(0)\n";
    const report = await pool.execute(
      job({
        code,
        tests: [
          { kind: "stdio", stdin: "1 2 3\n", stdout: "6\n" },
          { kind: "stdio", stdin: "10 20\n", stdout: "31" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "wrong_answer"]);
    expect(report.tests[1]?.expected).toBe("31");
    expect(report.tests[1]?.actual?.trim()).toBe("30");
  });
});

describe("assert tests", () => {
  it("runs HumanEval-style check(candidate) and reports both sides of a failing comparison", async () => {
    const check = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n";
    const report = await pool.execute(
      job({
        code: "def square(x):\n    return x * 2\n",
        entry_point: "square",
        tests: [{ kind: "assert", code: check }],
        trace: { mode: "none" },
      }),
    );
    const test = report.tests[0];
    expect(test?.status).toBe("wrong_answer");
    expect(test?.error?.assertion).toMatchObject({ operator: "==", left: "6", right: "9", source: "candidate(3) == 9" });
    expect(test).toMatchObject({ expected: "9", actual: "6" });
    expect(test?.error?.line).toBeNull();
  });

  it("runs MBPP-style module-level asserts", async () => {
    const report = await pool.execute(
      job({
        code: "def is_even(n):\n    return n % 2 == 0\n",
        tests: [
          { kind: "assert", code: "assert is_even(4)\nassert not is_even(3)\n" },
          { kind: "assert", code: "assert is_even(3), 'three is odd'\n" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "wrong_answer"]);
    expect(report.tests[1]?.error?.message).toContain("three is odd");
  });

  it("mixes the three kinds in one request", async () => {
    const code = "def double(x):\n    return 2 * x\nif __name__ == '__main__':\n    print(double(int(input())))\n";
    const report = await pool.execute(
      job({
        code,
        entry_point: "double",
        tests: [
          { kind: "call", args: [21], expected: 42 },
          { kind: "stdio", stdin: "5\n", stdout: "10\n" },
          { kind: "assert", code: "assert double(0) == 0" },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "passed", "passed"]);
    expect(report.status).toBe("passed");
  });
});

describe("errors", () => {
  it("marks every test of a program that does not compile as a syntax error, with the line", async () => {
    const report = await pool.execute(
      job({
        code: "def f(x):\n    return x +\n",
        entry_point: "f",
        tests: [
          { kind: "call", args: [1], expected: 1 },
          { kind: "stdio", stdin: "", stdout: "" },
        ],
      }),
    );
    expect(statuses(report.tests)).toEqual(["syntax_error", "syntax_error"]);
    expect(report.tests[0]?.error?.line).toBe(2);
    expect(report.tests[0]?.trace).toBeUndefined();
  });

  it("gives a runtime error its type, message, line and a traceback of the program's own frames", async () => {
    const code = "def inner(items):\n    return items[10]\n\ndef outer(items):\n    return inner(items) + 1\n";
    const report = await pool.execute(
      job({ code, entry_point: "outer", tests: [{ kind: "call", args: [[1, 2]], expected: 3 }], trace: { mode: "none" } }),
    );
    const error = report.tests[0]?.error;
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(error).toMatchObject({ type: "IndexError", message: "list index out of range", line: 2 });
    expect(error?.traceback).toContain('File "<candidate>", line 5, in outer');
    expect(error?.traceback).toContain("return items[10]");
    expect(error?.traceback).not.toContain("tracefix_harness");
  });

  it("fails call tests when the module itself raises at import", async () => {
    const report = await pool.execute(
      job({
        code: "import math\nLIMIT = undefined_name\ndef f():\n    return 1\n",
        entry_point: "f",
        tests: [
          { kind: "call", args: [], expected: 1 },
          { kind: "call", args: [], expected: 1 },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(statuses(report.tests)).toEqual(["runtime_error", "runtime_error"]);
    expect(report.tests[0]?.error).toMatchObject({ type: "NameError", line: 2 });
  });

  it("times out one test and still runs the ones after it", async () => {
    const code = "def f(n):\n    while n < 0:\n        pass\n    return n\n";
    const report = await pool.execute(
      job({
        code,
        entry_point: "f",
        tests: [
          { kind: "call", args: [1], expected: 1 },
          { kind: "call", args: [-1], expected: -1 },
          { kind: "call", args: [2], expected: 2 },
        ],
        trace: { mode: "none" },
        limits: { timeout_ms: 300 },
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "timeout", "passed"]);
  });

  it("captures what a test prints, per test", async () => {
    const code = "def f(x):\n    print('called with', x)\n    return x\n";
    const report = await pool.execute(
      job({
        code,
        entry_point: "f",
        tests: [
          { kind: "call", args: [1], expected: 1 },
          { kind: "call", args: [2], expected: 2 },
        ],
        trace: { mode: "none" },
      }),
    );
    expect(report.tests.map((test) => test.stdout)).toEqual(["called with 1\n", "called with 2\n"]);
  });
});
