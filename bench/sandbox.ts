/**
 * npm run bench:sandbox [-- --humaneval PATH] [--runs N]
 *
 * Prints, measured side by side in one run:
 *  1. per-run latency (p50/p95) of a trivial candidate through the warm pool,
 *     and through a fresh interpreter per run (the same harness and the same
 *     sandbox, started for each run), with the ratio, and the page faults
 *     per run of the fork servers and of the runs' processes (/proc);
 *  2. the wall time to run all HumanEval reference solutions against their
 *     tests, pool vs fresh interpreters (same concurrency), with the ratio;
 *  3. the tracer's overhead: a loop-heavy failing test re-run traced with the
 *     default event budget vs its untraced run;
 *  4. sys.settrace vs sys.monitoring recording the same 10,000 events, on
 *     every Python >= 3.12 found (the sandbox uses monitoring there).
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { createInterface } from "node:readline";

import { datasetPath, loadDataset, testsOf } from "../src/datasets/index.ts";
import { listInterpreters, PythonPool, spawnLaunch } from "../src/sandbox/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import type { ExecutionJob, ExecutionReport } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? (process.argv[index + 1] as string) : fallback;
}

const humanevalPath = option("humaneval", process.env["TRACEFIX_HUMANEVAL"] ?? datasetPath("humaneval"));
const runs = Number(option("runs", "500"));
const baselineRuns = Number(option("baseline-runs", "40"));

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

function makeJob(body: Parameters<typeof ExecuteRequest.parse>[0]): ExecutionJob {
  return toExecutionJob(ExecuteRequest.parse(body));
}

/**
 * Minor page faults of this process's Python descendants by pid (own, and
 * their reaped children's through cminflt), from /proc; undefined where
 * /proc cannot be read so.
 */
function pythonFaults(): Map<number, { own: number; children: number }> | undefined {
  try {
    const processes = readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          return [{ pid: Number(pid), command: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), parent: Number(fields[1]), own: Number(fields[7]), children: Number(fields[8]) }];
        } catch {
          return []; // ended while listed
        }
      });
    const ours = new Set([process.pid]);
    // A child is listed after its parent only sometimes: a few passes reach every descendant.
    for (let pass = 0; pass < 8; pass++) for (const entry of processes) if (ours.has(entry.parent)) ours.add(entry.pid);
    return new Map(processes.filter((entry) => ours.has(entry.pid) && entry.command.startsWith("python")).map((entry) => [entry.pid, { own: entry.own, children: entry.children }]));
  } catch {
    return undefined;
  }
}

/**
 * Faults per run between two snapshots, over the processes alive in both:
 * the fork servers (and their relays); runners are new each run, and
 * arrive in their fork server's `children` once reaped.
 */
function faultsPerRun(before: ReturnType<typeof pythonFaults>, after: ReturnType<typeof pythonFaults>, count: number): { own: number; children: number } | undefined {
  if (before === undefined || after === undefined) return undefined;
  let own = 0;
  let children = 0;
  for (const [pid, then] of before) {
    const now = after.get(pid);
    if (now === undefined) continue;
    own += now.own - then.own;
    children += now.children - then.children;
  }
  return { own: own / count, children: children / count };
}

const pool = await PythonPool.start({ logger: silentLogger });
const size = pool.health().workers.size;

/** One run in a freshly started interpreter inside the same sandbox: spawn, answer, exit. */
function freshInterpreterRun(job: ExecutionJob, slot: number): Promise<ExecutionReport> {
  const launch = pool.isolation.launch(100 + slot, { once: true });
  return new Promise((resolve, reject) => {
    const child = spawnLaunch(launch, ["pipe", "pipe", "inherit"]);
    if (child.stdout === null || child.stdin === null) throw new Error("no pipes to the fresh interpreter");
    const stdin = child.stdin;
    const lines = createInterface({ input: child.stdout });
    let seen = 0;
    lines.on("line", (line) => {
      seen += 1;
      if (seen === 2) {
        const response = JSON.parse(line) as { ok: boolean; report: ExecutionReport };
        if (!response.ok) reject(new Error(line));
        else resolve(response.report);
        // Closing stdin before the answer would read as "Node went away" and cancel the run.
        stdin.end();
      }
    });
    child.on("error", reject);
    child.on("exit", () => {
      if (seen < 2) reject(new Error("the fresh interpreter exited without a report"));
    });
    stdin.write(
      `${JSON.stringify({
        id: 1,
        op: "run",
        code: job.code,
        entry_point: job.entryPoint ?? null,
        tests: job.tests,
        trace: job.trace,
        limits: job.limits,
      })}\n`,
    );
  });
}

async function withConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T, worker: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async (_, worker) => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, worker);
      }
    }),
  );
  return results;
}

const trivial = makeJob({
  code: "def identity(x):\n    return x\n",
  entry_point: "identity",
  tests: [{ kind: "call", args: [1], expected: 1 }],
});

console.log(`tracefix sandbox benchmark — ${pool.isolation.kind} isolation, Python ${pool.interpreter.version.join(".")}, ${size} workers`);
console.log("");

// 1. Per-run latency of a trivial candidate.
for (let index = 0; index < 50; index++) await pool.execute(trivial);
const faultsBefore = pythonFaults();
const poolLatencies: number[] = [];
for (let index = 0; index < runs; index++) {
  const started = performance.now();
  const report = await pool.execute(trivial);
  poolLatencies.push(performance.now() - started);
  if (report.status !== "passed") throw new Error(`trivial run failed: ${JSON.stringify(report)}`);
}
const faultsAfter = pythonFaults();
const freshLatencies: number[] = [];
for (let index = 0; index < baselineRuns; index++) {
  const started = performance.now();
  const report = await freshInterpreterRun(trivial, 0);
  freshLatencies.push(performance.now() - started);
  if (report.status !== "passed") throw new Error("baseline run failed");
}
const poolP50 = median(poolLatencies);
const freshP50 = median(freshLatencies);
console.log("1. trivial candidate, one call test, sequential runs");
console.log(`   warm pool          p50 ${poolP50.toFixed(2)} ms   p95 ${percentile(poolLatencies, 0.95).toFixed(2)} ms   (${runs} runs)`);
console.log(`   fresh interpreter  p50 ${freshP50.toFixed(2)} ms   p95 ${percentile(freshLatencies, 0.95).toFixed(2)} ms   (${baselineRuns} runs)`);
console.log(`   speed-up           ${(freshP50 / poolP50).toFixed(1)}x  (target: p50 <= 5 ms and >= 20x)`);
const faults = faultsPerRun(faultsBefore, faultsAfter, runs);
if (faults !== undefined) {
  // A count the machine's timing noise does not move (architecture/sandbox.md, "Where a trivial run's time goes").
  console.log(`   page faults        ${faults.own.toFixed(0)} per run in the fork servers, ${faults.children.toFixed(0)} in the runs' processes`);
}
console.log("");

// 2. All HumanEval reference solutions.
const records = await loadDataset(humanevalPath);
const jobs = records.map((record) =>
  makeJob({
    code: record.reference_code,
    entry_point: record.entry_point,
    tests: testsOf(record),
    trace: { mode: "none" },
    limits: { timeout_ms: 10_000 },
  }),
);
let started = performance.now();
const poolReports = await Promise.all(jobs.map((job) => pool.execute(job)));
const poolWall = performance.now() - started;
started = performance.now();
const freshReports = await withConcurrency(jobs, size, (job, worker) => freshInterpreterRun(job, worker));
const freshWall = performance.now() - started;
const poolPassed = poolReports.filter((report) => report.status === "passed").length;
const freshPassed = freshReports.filter((report) => report.status === "passed").length;
console.log(`2. HumanEval reference solutions (${records.length} programs, ${humanevalPath})`);
console.log(`   warm pool          ${(poolWall / 1000).toFixed(2)} s   ${poolPassed}/${records.length} passed`);
console.log(`   fresh interpreter  ${(freshWall / 1000).toFixed(2)} s   ${freshPassed}/${records.length} passed   (${size} at a time)`);
console.log(`   speed-up           ${(freshWall / poolWall).toFixed(1)}x`);
console.log("");

// 3. Tracer overhead on a loop-heavy failing test.
const LOOP = `def f(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i
        else:
            total -= 1
    if total > 10:
        raise ValueError('total too big: %d' % total)
    return total
`;
console.log("3. tracer overhead: a loop-heavy failing test, traced re-run (default budget: 10,000 events) vs untraced run");
console.log(`   tracer: ${String(pool.health().runtime["tracer"])}`);
console.log("   iterations   untraced    traced     ratio   trace");
for (const iterations of [100_000, 1_000_000, 3_000_000]) {
  const untraced: number[] = [];
  const traced: number[] = [];
  let description = "";
  for (let repeat = 0; repeat < 5; repeat++) {
    const report = await pool.execute(
      makeJob({ code: LOOP, entry_point: "f", tests: [{ kind: "call", args: [iterations], expected: 0 }], trace: { mode: "failing" } }),
    );
    const test = report.tests[0];
    if (test?.duration_ms == null || test.trace?.duration_ms === undefined) throw new Error("missing timings");
    untraced.push(test.duration_ms);
    traced.push(test.trace.duration_ms);
    description = `${test.trace.events.length} events, last at line ${test.trace.events.at(-1)?.line ?? "?"}`;
  }
  const ratio = median(traced) / median(untraced);
  console.log(
    `   ${iterations.toLocaleString("en").padStart(10)}   ${median(untraced).toFixed(1).padStart(7)} ms ${median(traced).toFixed(1).padStart(7)} ms   ${ratio.toFixed(2).padStart(5)}x   ${description}`,
  );
}
console.log("   (target: <= 5x for the loop-heavy test; the head of the trace costs a fixed ~30-40 ms, so short runs show larger ratios)");

console.log("");

// 4. The two tracer backends on the same program, per interpreter.
console.log("4. recording 10,000 events: sys.settrace vs sys.monitoring (best of 5)");
const script = path.join(import.meta.dirname, "tracer_backends.py");
for (const interpreter of await listInterpreters()) {
  if (interpreter.version[1] < 12) continue;
  const { stdout } = await promisify(execFile)(interpreter.executable, [script]);
  const timing = JSON.parse(stdout) as { python: string; settrace: number; monitoring: number };
  const faster = timing.settrace / timing.monitoring;
  console.log(
    `   Python ${timing.python.padEnd(7)} settrace ${(timing.settrace * 1000).toFixed(1)} ms   monitoring ${(timing.monitoring * 1000).toFixed(1)} ms   monitoring ${faster >= 1 ? `${faster.toFixed(2)}x faster` : `${(1 / faster).toFixed(2)}x slower`}`,
  );
}

await pool.close();
