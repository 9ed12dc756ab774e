/**
 * The JavaScript problem set (test/fixtures/javascript-problems.ts) through
 * the real isolated-vm pool: every reference passes, every buggy version
 * fails, and the failing test of each buggy version renders in the five
 * trace formats exactly as its golden file (test/golden/javascript; rewrite
 * with UPDATE_GOLDEN=1 after an intended change, and read the diff).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { JavaScriptPool } from "../src/sandbox/index.ts";
import { TRACE_FORMATS } from "../src/shared/schema/execution.ts";
import { presentReport } from "../src/trace/index.ts";
import { JAVASCRIPT_PROBLEMS } from "./fixtures/javascript-problems.ts";
import { job, startJavaScriptPool, statuses } from "./support/sandbox.ts";

const directory = path.join(import.meta.dirname, "golden", "javascript");
const update = process.env["UPDATE_GOLDEN"] === "1";
const FORMATS = TRACE_FORMATS.filter((format) => format !== "none");

let pool: JavaScriptPool;

beforeAll(async () => {
  pool = await startJavaScriptPool({ size: 2 });
});

afterAll(async () => {
  await pool.close();
});

function problemJob(problem: (typeof JAVASCRIPT_PROBLEMS)[number], code: string, format: (typeof FORMATS)[number] = "concise") {
  return job({
    language: "javascript",
    code,
    ...(problem.entryPoint === undefined ? {} : { entry_point: problem.entryPoint }),
    tests: [...problem.tests],
    trace: { format, budget: 2_000 },
    limits: { timeout_ms: 2_000 },
  });
}

it("has at least 20 problems using call, stdio and assert tests", () => {
  expect(JAVASCRIPT_PROBLEMS.length).toBeGreaterThanOrEqual(20);
  const kinds = new Set(JAVASCRIPT_PROBLEMS.flatMap((problem) => problem.tests.map((test) => test.kind)));
  expect([...kinds].sort()).toEqual(["assert", "call", "stdio"]);
});

describe.each(JAVASCRIPT_PROBLEMS)("$id", (problem) => {
  it("passes every test with the reference program", async () => {
    const report = await pool.execute(problemJob(problem, problem.reference));
    expect(statuses(report.tests), JSON.stringify(report.tests.map((test) => test.error))).toEqual(problem.tests.map(() => "passed"));
    expect(report.status).toBe("passed");
  });

  it("fails with the buggy program, and each trace format renders its failure as the golden file", async () => {
    const reports = await Promise.all(FORMATS.map(async (format) => presentReport(problemJob(problem, problem.buggy, format), await pool.execute(problemJob(problem, problem.buggy, format)))));
    for (const report of reports) expect(report.status).toBe("failed");
    mkdirSync(directory, { recursive: true });
    FORMATS.forEach((format, position) => {
      const failing = reports[position]?.tests.find((test) => test.status !== "passed");
      expect(failing?.trace?.backend).toBe("instrumented");
      const rendering = failing?.rendering ?? "";
      expect(rendering.length).toBeLessThanOrEqual(2_000);
      const file = path.join(directory, `${problem.id}.${format}.txt`);
      if (update) writeFileSync(file, `${rendering}\n`);
      expect(`${rendering}\n`).toBe(readFileSync(file, "utf8"));
    });
  });
});
