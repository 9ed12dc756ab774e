/**
 * npm run bench:javascript [-- --runs N]
 *
 * Prints, for JavaScript candidates through the warm isolated-vm pool (the
 * default pool size: one worker per core):
 *  1. per-run latency (p50/p95) of a trivial candidate (one call test), one
 *     run after another, measured at the caller: queueing, IPC, a fresh
 *     isolate with the runtime, the program, the test, the verdict — the
 *     target is p50 <= 5 ms; and the same with N runs in flight (throughput);
 *  2. the instrumentation's overhead: a loop-heavy failing test, untraced vs
 *     its traced re-run with the default event budget (head + replayed tail);
 *  3. the JavaScript problem set of the tests (references and buggy
 *     versions, traced), end to end.
 */
import { availableParallelism } from "node:os";

import { JavaScriptPool } from "../src/sandbox/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import type { ExecutionJob } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { JAVASCRIPT_PROBLEMS } from "../test/fixtures/javascript-problems.ts";

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? (process.argv[index + 1] as string) : fallback;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

const job = (body: unknown): ExecutionJob => toExecutionJob(ExecuteRequest.parse(body));
const runs = Number(option("runs", "500"));
const pool = await JavaScriptPool.start({ logger: silentLogger });
const size = pool.health().workers.size;
console.log(`JavaScript pool: ${size} workers (isolated-vm ${String(pool.health().runtime["isolated_vm"])}, Node ${process.versions.node}, ${availableParallelism()} cores)`);

const trivial = job({ language: "javascript", code: "function add(a, b) { return a + b; }", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] });
for (let warm = 0; warm < 50; warm++) await pool.execute(trivial);
const latencies: number[] = [];
for (let index = 0; index < runs; index++) {
  const started = performance.now();
  const report = await pool.execute(trivial);
  latencies.push(performance.now() - started);
  if (report.status !== "passed") throw new Error(`the trivial candidate failed: ${JSON.stringify(report)}`);
}
console.log(`\n1. trivial candidate, ${runs} runs one after another: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms (target p50 <= 5 ms)`);
const started = performance.now();
await Promise.all(Array.from({ length: runs }, () => pool.execute(trivial)));
const elapsed = performance.now() - started;
console.log(`   ${runs} runs, all in flight at once: ${(runs / (elapsed / 1000)).toFixed(0)} runs/s (${(elapsed / runs).toFixed(2)} ms per run over ${size} workers)`);

const loop = (mode: "none" | "failing") =>
  job({
    language: "javascript",
    code: "function count(n) {\n  let total = 0;\n  for (let i = 0; i < n; i++) {\n    total += i % 7;\n  }\n  return total;\n}\n",
    entry_point: "count",
    tests: [{ kind: "call", args: [1_000_000], expected: -1 }],
    trace: { mode },
  });
const untracedTimes: number[] = [];
const tracedTimes: number[] = [];
for (let round = 0; round < 7; round++) {
  const plain = await pool.execute(loop("none"));
  untracedTimes.push(plain.tests[0]?.duration_ms ?? Number.NaN);
  const traced = await pool.execute(loop("failing"));
  tracedTimes.push(traced.tests[0]?.trace?.duration_ms ?? Number.NaN);
}
const untracedMedian = percentile(untracedTimes, 0.5);
const tracedMedian = percentile(tracedTimes, 0.5);
console.log(
  `\n2. a 1,000,000-iteration loop (2,000,002 line events), median of 7: untraced ${untracedMedian.toFixed(1)} ms, traced re-run (head + replayed tail, 10,000-event budget) ${tracedMedian.toFixed(1)} ms: ${(tracedMedian / untracedMedian).toFixed(1)}x`,
);

const setStarted = performance.now();
let referencesPassing = 0;
let buggyFailing = 0;
for (const problem of JAVASCRIPT_PROBLEMS) {
  const base = { language: "javascript", ...(problem.entryPoint === undefined ? {} : { entry_point: problem.entryPoint }), tests: [...problem.tests] };
  if ((await pool.execute(job({ ...base, code: problem.reference }))).status === "passed") referencesPassing += 1;
  if ((await pool.execute(job({ ...base, code: problem.buggy }))).status === "failed") buggyFailing += 1;
}
console.log(
  `\n3. problem set (${JAVASCRIPT_PROBLEMS.length} problems): references passing ${referencesPassing}/${JAVASCRIPT_PROBLEMS.length}, buggy versions failing ${buggyFailing}/${JAVASCRIPT_PROBLEMS.length} (traced), in ${(performance.now() - setStarted).toFixed(0)} ms`,
);
await pool.close();
