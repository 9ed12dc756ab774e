/**
 * The shared benchmarks through POST /v1/execute: every reference solution
 * passes, every QuixBugs buggy program fails at least one test (several of
 * them never terminate: per-test timeouts end them).
 *
 * Data: TRACEFIX_DATA_DIR, else ../shared/data beside the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import { startPool } from "./support/sandbox.ts";


let pool: PythonPool;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  pool = await startPool();
  app = createApp({ executor: pool });
});

afterAll(async () => {
  await pool.close();
});

/** Runs `work` over `items`, at most `limit` at a time (a client keeps within its share of the sandbox queue). */
async function inBatches<Item, Result>(items: readonly Item[], limit: number, work: (item: Item) => Promise<Result>): Promise<Result[]> {
  const results: Result[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as Item);
      }
    }),
  );
  return results;
}

async function execute(record: DatasetRecord, code: string, timeoutMs: number, totalMs = 60_000): Promise<ExecutionReport> {
  const response = await app.request("/v1/execute", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      code,
      entry_point: record.entry_point,
      tests: testsOf(record),
      trace: { mode: "none" },
      limits: { timeout_ms: timeoutMs, total_ms: totalMs },
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as ExecutionReport;
}

describe.skipIf(SKIP_DATASETS)("benchmark programs through /v1/execute", () => {
  beforeAll(() => requireDatasets("humaneval", "quixbugs"));

  it("passes all 164 HumanEval reference solutions", async () => {
    const records = await loadDataset(datasetPath("humaneval"));
    expect(records).toHaveLength(164);
    const reports = await inBatches(records, 16, (record) => execute(record, record.reference_code, 10_000));
    const failing = records.filter((_, index) => reports[index]?.status !== "passed").map((record) => record.id);
    expect(failing).toEqual([]);
  });

  it("passes all 40 QuixBugs reference programs and fails all 40 buggy ones", async () => {
    const records = await loadDataset(datasetPath("quixbugs"));
    expect(records).toHaveLength(40);
    // Generous: some references are slow by design (levenshtein recurses), and the machine may be busy.
    const references = await inBatches(records, 16, (record) => execute(record, record.reference_code, 15_000));
    // Half a second per test is far more than any of them needs to fail, and 1 s per program ends the
    // ones that never stop (their later tests are reported as timeouts of the spent budget).
    const buggy = await inBatches(records, 16, (record) => execute(record, record.buggy_code ?? "", 500, 1_000));
    expect(records.filter((_, index) => references[index]?.status !== "passed").map((record) => record.id)).toEqual([]);
    expect(records.filter((_, index) => buggy[index]?.status !== "failed").map((record) => record.id)).toEqual([]);
    // The programs that loop forever are stopped by the per-test deadline.
    const bitcount = buggy[records.findIndex((record) => record.id === "quixbugs/bitcount")];
    expect(bitcount?.tests.every((test) => test.status === "timeout")).toBe(true);
  });
});
