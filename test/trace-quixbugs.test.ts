/**
 * On real buggy programs (QuixBugs, read from the shared data at test time):
 * for each of the five trace formats, /v1/execute returns a rendering of a
 * failing test within the budget that names the line where the behaviour
 * goes wrong (the line that differs from the reference program).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { startPool } from "./support/sandbox.ts";

const FORMATS = ["concise", "codeexecutor", "next", "semcoder", "scratchpad"] as const;
const BUDGET = 4_000;

/** 1-based lines of the buggy program that differ from the reference (or border a missing line). */
export function defectLines(buggy: string, reference: string): number[] {
  const bad = buggy.split("\n");
  const good = reference.split("\n");
  let prefix = 0;
  while (prefix < bad.length && prefix < good.length && bad[prefix] === good[prefix]) prefix++;
  let suffix = 0;
  while (suffix < bad.length - prefix && suffix < good.length - prefix && bad[bad.length - 1 - suffix] === good[good.length - 1 - suffix]) suffix++;
  const lines: number[] = [];
  for (let index = prefix; index < bad.length - suffix; index++) lines.push(index + 1);
  if (lines.length > 0) return lines;
  // A missing line: it belongs after the nearest statement at its indentation
  // or less (the block it is missing from), and before the next line.
  const missing = good[prefix] ?? "";
  const indentation = missing.length - missing.trimStart().length;
  let anchor = prefix - 1;
  while (anchor > 0) {
    const text = bad[anchor] ?? "";
    if (text.trim() !== "" && text.length - text.trimStart().length <= indentation) break;
    anchor--;
  }
  return [anchor + 1, prefix + 1];
}

function names(format: (typeof FORMATS)[number], rendering: string, line: number, source: string): boolean {
  switch (format) {
    case "concise":
      return rendering.includes(`[L${line}]`);
    case "codeexecutor":
      return rendering.includes(`<line> <${line}>`);
    case "semcoder":
      return rendering.includes(`Line ${line}`);
    case "scratchpad":
    case "next": {
      const text = (source.split("\n")[line - 1] ?? "").trimEnd();
      const marker = format === "next" ? "  # (" : "  # [";
      return text.trim() !== "" && rendering.split("\n").some((row) => row.startsWith(`${text}${marker}`));
    }
  }
}

let pool: PythonPool;
let app: ReturnType<typeof createApp>;
let records: DatasetRecord[] = [];

beforeAll(async () => {
  pool = await startPool();
  app = createApp({ executor: pool });
  if (!SKIP_DATASETS) {
    requireDatasets("quixbugs");
    records = (await loadDataset(datasetPath("quixbugs"))).filter((record) => record.tests.length > 0);
  }
});

afterAll(async () => {
  await pool.close();
});

describe.skipIf(SKIP_DATASETS)("renderings of QuixBugs buggy programs", () => {
  it.each(FORMATS)("%s names the defective line within the budget, for every program with I/O tests", async (format) => {
    expect(records.length).toBe(31);
    const misses: string[] = [];
    await Promise.all(
      records.map(async (record) => {
        const buggy = record.buggy_code ?? "";
        const response = await app.request("/v1/execute", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            code: buggy,
            entry_point: record.entry_point,
            tests: testsOf(record),
            trace: { format, budget: BUDGET },
            limits: { timeout_ms: 300 },
          }),
        });
        const report = (await response.json()) as ExecutionReport;
        const renderings = report.tests.map((test) => test.rendering).filter((text): text is string => text !== undefined);
        for (const text of renderings) expect(text.length).toBeLessThanOrEqual(BUDGET);
        const lines = defectLines(buggy, record.reference_code);
        const named = renderings.some((text) => lines.some((line) => names(format, text, line, buggy)));
        if (!named) misses.push(`${record.id} (lines ${lines.join(", ")})`);
      }),
    );
    expect(misses).toEqual([]);
  });
});
