/** Test inputs without a model: Python literals, type-aware mutations, examples from the problem text. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset } from "../src/datasets/index.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { doctestsOf } from "../src/scaling/inputs/doctests.ts";
import { parseLiteral, printLiteral, type PyValue } from "../src/trace/python-literal.ts";
import { argumentsOf, mutateArguments, mutations } from "../src/scaling/inputs/mutate.ts";
import { job, startPool } from "./support/sandbox.ts";

describe("Python literals", () => {
  it.each([
    "[1, -2, 3.5, 'a', \"b's\", True, None]",
    "((1,), (2, 3), ())",
    "{'a': [1, 2], 3: {4, 5}, (6, 7): set()}",
    "[float('inf'), float('-inf'), 1e-09, 12345678901234567890]",
    "'line\\nbreak\\ttab'",
  ])("round-trips %s", (text) => {
    const value = parseLiteral(text);
    expect(parseLiteral(printLiteral(value))).toEqual(value);
  });

  it("tells a tuple from a parenthesised value", () => {
    expect(parseLiteral("((1,))")).toEqual({ type: "tuple", items: [{ type: "int", value: 1n }] });
    expect(parseLiteral("(1)")).toEqual({ type: "int", value: 1n });
  });

  it("refuses what is not a literal", () => {
    for (const text of ["foo(1)", "[1, 2", "1 + 2", "__import__('os')"]) expect(() => parseLiteral(text)).toThrow();
  });
});

describe("mutations", () => {
  it("vary numbers, strings and lists by type", () => {
    const printed = (value: PyValue): string[] => mutations(value).map(printLiteral);
    expect(printed(parseLiteral("5"))).toEqual(expect.arrayContaining(["0", "1", "-1", "6", "4", "-5"]));
    expect(printed(parseLiteral("'ab'"))).toEqual(expect.arrayContaining(["''", "'a'", "'abab'", "'ba'"]));
    expect(printed(parseLiteral("[3, 1, 2]"))).toEqual(expect.arrayContaining(["[]", "[3]", "[3, 1, 2, 3, 1, 2]", "[2, 1, 3]", "[1, 2, 3]"]));
  });

  it("make new argument lists, one argument at a time, without duplicates, within the cap", () => {
    const originals = [argumentsOf({ kind: "call", args: [[1, 2], 3] }) as PyValue[], argumentsOf({ kind: "call", input: "[[4], 0]" }) as PyValue[]];
    const mutated = mutateArguments(originals, 12);
    const keys = mutated.map((args) => printLiteral({ type: "list", items: args }));
    expect(mutated).toHaveLength(12);
    expect(new Set(keys).size).toBe(12);
    expect(keys).not.toContain("[[1, 2], 3]");
    for (const args of mutated) expect(args).toHaveLength(2);
  });
});

describe("examples in the problem text", () => {
  it("become call tests of the entry point", () => {
    const prompt = [
      "def closest(values, target):",
      '    """Return the value closest to target.',
      "    >>> closest([1, 2, 3], 2.5)",
      "    2",
      "    >>> closest([10], 0)",
      "    10",
      "    closest([4, 8], 7) ➞ 8",
      "    closest([5, 6], 7) == 6",
      "    other([1], 2) == 3",
      "    >>> closest(make_list(), 1)",
      "    1",
      '    """',
    ].join("\n");
    expect(doctestsOf(prompt, "closest")).toEqual([
      { kind: "call", input: "[[1, 2, 3], 2.5]", output: "2" },
      { kind: "call", input: "[[10], 0]", output: "10" },
      { kind: "call", input: "[[4, 8], 7]", output: "8" },
      { kind: "call", input: "[[5, 6], 7]", output: "6" },
    ]);
  });

  describe.skipIf(SKIP_DATASETS)("on HumanEval prompts", () => {
    let pool: PythonPool;
    beforeAll(async () => {
      requireDatasets("humaneval");
      pool = await startPool();
    });
    afterAll(async () => {
      await pool.close();
    });

    it("are found in most problems, and the reference solutions pass them", async () => {
      const records = await loadDataset(datasetPath("humaneval"));
      let problems = 0;
      let tests = 0;
      let passed = 0;
      await Promise.all(
        records.map(async (record) => {
          const examples = doctestsOf(record.prompt, record.entry_point);
          if (examples.length === 0) return;
          problems += 1;
          tests += examples.length;
          const report = await pool.execute(job({ code: record.reference_code, entry_point: record.entry_point, tests: examples, trace: { mode: "none" } }));
          passed += report.passed;
        }),
      );
      expect(problems).toBeGreaterThanOrEqual(100);
      // HumanEval/148's prompt itself writes ("Venus") for the tuple ('Venus',).
      expect(passed / tests).toBeGreaterThanOrEqual(0.99);
    });
  });
});
