/**
 * The diagnostics block of a revision prompt: failing tests most
 * informative first, the first with its trace, all within one budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { diagnostics } from "../src/trace/index.ts";
import { job, startPool } from "./support/sandbox.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool({ size: 1 });
});

afterAll(async () => {
  await pool.close();
});

const PROGRAM = [
  "def step(x):",
  "    if x == 0:",
  "        raise ValueError('zero')",
  "    if x < 0:",
  "        while True:",
  "            pass",
  "    return x + 1",
  "",
].join("\n");

describe("diagnostics", () => {
  it("orders failures wrong answer, runtime error, timeout and traces the first", async () => {
    const request = job({
      code: PROGRAM,
      entry_point: "step",
      tests: [
        { kind: "call", args: [-1], expected: 0 },
        { kind: "call", args: [0], expected: 1 },
        { kind: "call", args: [1], expected: 2 },
        { kind: "call", args: [5], expected: 5 },
      ],
      limits: { timeout_ms: 300 },
    });
    const report = await pool.execute(request);
    const text = diagnostics(request.code, request.tests, report, { format: "concise", budget: 1_500, entryPoint: "step" });
    expect(text.length).toBeLessThanOrEqual(1_500);
    expect(text.startsWith("3 of 4 tests failed.")).toBe(true);
    const wrong = text.indexOf("Test: step(5)");
    const error = text.indexOf("Test: step(0)");
    const timeout = text.indexOf("Test: step(-1)");
    expect(wrong).toBeGreaterThan(0);
    expect(error).toBeGreaterThan(wrong);
    expect(timeout).toBeGreaterThan(error);
    // Only the first failure carries a trace; the others their feedback.
    expect(text.match(/Trace \(concise\):/g)).toHaveLength(1);
    expect(text.indexOf("Trace (concise):")).toBeLessThan(error);
    expect(text).toContain("Error: ValueError: zero (line 3)");
    expect(text).not.toContain("Test: step(1)");
  });

  it("says once that a program does not compile", async () => {
    const request = job({ code: "def step(x):\n    return x +\n", entry_point: "step", tests: [{ kind: "call", args: [1], expected: 2 }, { kind: "call", args: [2], expected: 3 }] });
    const report = await pool.execute(request);
    const text = diagnostics(request.code, request.tests, report, { format: "next", budget: 800 });
    expect(text.startsWith("The program does not compile: SyntaxError")).toBe(true);
    expect(text).toContain("(line 2)");
    expect(text.split("\n")).toHaveLength(1);
  });

  it("says when the sandbox could not run the program", () => {
    const failed: ExecutionReport = { status: "error", language: "python", passed: 0, total: 1, tests: [], duration_ms: 1, error: { code: "sandbox_stuck", message: "the sandbox did not finish" } };
    expect(diagnostics("x", [], failed, { format: "concise", budget: 500 })).toBe("The program could not be run: the sandbox did not finish");
  });
});
