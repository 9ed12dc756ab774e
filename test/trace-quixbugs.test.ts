/**
 * On real buggy programs (QuixBugs, read from the shared data at test time):
 * each is run once through /v1/execute; for each of the five trace formats,
 * the rendering of a failing test (from the raw trace the server returned,
 * rendered as the server renders: checked for concise) fits the budget and
 * names the line where the behaviour goes wrong (the line that differs from
 * the reference program).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { render } from "../src/trace/index.ts";
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
/** Each buggy program with I/O tests, run once through /v1/execute (concise renderings, raw traces). */
let runs: { record: DatasetRecord; report: ExecutionReport }[] = [];

beforeAll(async () => {
  pool = await startPool();
  app = createApp({ executor: pool });
  if (SKIP_DATASETS) return;
  requireDatasets("quixbugs");
  const records = (await loadDataset(datasetPath("quixbugs"))).filter((record) => record.tests.length > 0);
  runs = await Promise.all(
    records.map(async (record) => {
      const response = await app.request("/v1/execute", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: record.buggy_code ?? "", entry_point: record.entry_point, tests: testsOf(record), trace: { format: "concise", budget: BUDGET }, limits: { timeout_ms: 300 } }),
      });
      expect(response.status).toBe(200);
      return { record, report: (await response.json()) as ExecutionReport };
    }),
  );
});

afterAll(async () => {
  await pool.close();
});

/** A failing test's rendering in `format`, from the raw trace /v1/execute returned (the server renders the same way). */
function renderingsOf(format: (typeof FORMATS)[number], record: DatasetRecord, report: ExecutionReport): string[] {
  const specs = testsOf(record);
  return report.tests
    .filter((test) => test.status !== "passed")
    .map((test) => render(format, record.buggy_code ?? "", specs[test.index], test, { budget: BUDGET, entryPoint: record.entry_point }));
}

describe.skipIf(SKIP_DATASETS)("renderings of QuixBugs buggy programs", () => {
  it("are what /v1/execute itself renders", () => {
    expect(runs.length).toBe(31);
    for (const { record, report } of runs) {
      expect(renderingsOf("concise", record, report)).toEqual(report.tests.filter((test) => test.status !== "passed").map((test) => test.rendering));
    }
  });

  it.each(FORMATS)("%s names the defective line within the budget, for every program with I/O tests", (format) => {
    const misses: string[] = [];
    for (const { record, report } of runs) {
      const renderings = renderingsOf(format, record, report);
      for (const text of renderings) expect(text.length).toBeLessThanOrEqual(BUDGET);
      const buggy = record.buggy_code ?? "";
      const lines = defectLines(buggy, record.reference_code);
      const named = renderings.some((text) => lines.some((line) => names(format, text, line, buggy)));
      if (!named) misses.push(`${record.id} (lines ${lines.join(", ")})`);
    }
    expect(misses).toEqual([]);
  });
});
