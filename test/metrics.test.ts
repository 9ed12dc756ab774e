/**
 * GET /metrics over real HTTP: after executions, a repair run with no model
 * and a run over a fake OpenAI-compatible endpoint, the counters and
 * histograms a Prometheus scrape reads have moved by what was done.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { Metrics } from "../src/server/metrics.ts";
import { SolveResult } from "../src/shared/schema/solve.ts";
import { ADD, RIGHT_ADD, WRONG_ADD } from "./fixtures/add.ts";
import { fenced } from "./support/fake-llm.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";

let pool: PythonPool;
let server: SolveServer;

beforeAll(async () => {
  pool = await startPool({ size: 1 });
  server = await startSolveServer(pool, (request) => ({ texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT_ADD)) }), { metrics: new Metrics() });
});

afterAll(async () => {
  await server.close();
  await pool.close();
});

/** name{labels} → value, from Prometheus' text format. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function solve(body: unknown): Promise<SolveResult> {
  const response = await post("/v1/solve", body);
  expect(response.status).toBe(200);
  return SolveResult.parse(await response.json());
}

describe("GET /metrics", () => {
  it("counts executions, runs, rounds, candidates and model calls as they happen", async () => {
    const before = await scrape();
    const value = (samples: Map<string, number>, key: string): number => samples.get(key) ?? 0;
    const moved = (after: Map<string, number>, key: string): number => value(after, key) - value(before, key);

    for (const code of [RIGHT_ADD, RIGHT_ADD, WRONG_ADD]) {
      expect((await post("/v1/execute", { code, entry_point: "add", tests: ADD.tests })).status).toBe(200);
    }
    const repaired = await solve({ problem: { ...ADD, code: WRONG_ADD }, policy: "repair", n: 8, rounds: 2 });
    expect(repaired.status).toBe("solved");
    const generated = await solve({ problem: ADD, policy: "llm", n: 2, rounds: 1 });
    expect(generated.status).toBe("solved");

    const after = await scrape();
    /** How much the samples of `name` whose labels include `labels` moved, summed. */
    const movedSum = (name: string, labels: Record<string, string> = {}): number =>
      [...after.keys()]
        .filter((key) => key.startsWith(`${name}{`) && Object.entries(labels).every(([label, text]) => key.includes(`${label}="${text}"`)))
        .reduce((sum, key) => sum + moved(after, key), 0);
    expect(movedSum("tracefix_sandbox_executions_total", { language: "python", status: "passed" })).toBeGreaterThanOrEqual(2);
    expect(movedSum("tracefix_sandbox_executions_total", { language: "python", status: "failed" })).toBeGreaterThanOrEqual(1);
    // Every job of both runs went through the same metered executor as /v1/execute (the edits the first pass stopped as "cancelled").
    const jobs = 3 + repaired.usage.executions + generated.usage.executions;
    expect(movedSum("tracefix_sandbox_executions_total", { language: "python" })).toBe(jobs);
    expect(movedSum("tracefix_sandbox_execution_seconds_count", { language: "python" })).toBe(jobs);
    expect(movedSum("tracefix_sandbox_execution_seconds_bucket", { language: "python", le: "+Inf" })).toBe(jobs);
    expect(movedSum("tracefix_runs_total", { status: "solved", policy: "repair" })).toBe(1);
    expect(movedSum("tracefix_runs_total", { status: "solved", policy: "llm" })).toBe(1);
    expect(movedSum("tracefix_rounds_total")).toBe(repaired.rounds.length + generated.rounds.length);
    expect(movedSum("tracefix_candidates_total", { source: "edit" })).toBeGreaterThan(0);
    expect(movedSum("tracefix_candidates_total", { source: "llm" })).toBe(2);
    expect(movedSum("tracefix_llm_calls_total", { outcome: "ok" })).toBe(generated.usage.llm_calls);
    expect(movedSum("tracefix_llm_tokens_total", { kind: "completion" })).toBe(generated.usage.completion_tokens);
    expect(movedSum("tracefix_llm_request_seconds_count", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(after.get('tracefix_sandbox_queue_depth{language="python"}')).toBe(0);
    expect(after.get("tracefix_runs_running")).toBe(0);
    expect(after.has("nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("counts a request refused past its client's share", async () => {
    const strict = await startPool({ size: 1, admission: { perClient: 1, queued: 1_024, maxWaitMs: 2_500 } });
    const metrics = new Metrics();
    const app = createApp({ executor: metrics.meterExecutor(strict), metrics });
    const execute = async (seconds: number): Promise<Response> =>
      app.request("/v1/execute", {
        method: "POST",
        headers: { "content-type": "application/json", "x-client-id": "greedy" },
        body: JSON.stringify({ code: `import time\ndef f():\n    time.sleep(${seconds})\n    return 1\n`, entry_point: "f", tests: [{ kind: "call", args: [], expected: 1 }] }),
      });
    try {
      const first = execute(0.5);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await execute(0)).status).toBe(429);
      expect((await first).status).toBe(200);
      const text = await (await app.request("/metrics")).text();
      expect(text).toContain('tracefix_rejections_total{code="too_many_requests"} 1');
      expect(text).toContain('tracefix_sandbox_executions_total{language="python",status="passed"} 1');
    } finally {
      await strict.close();
    }
  });
});
