/**
 * npm run bench:reward [-- --iterations N] [--provider auto|cuda|cpu]
 *
 * What the reward model costs the server: scoring 16 candidates (feature
 * extraction from real execution reports + one onnxruntime call), and how
 * long the event loop is held while it does. Target: ≤ 2 ms for 16
 * candidates on the CPU.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

import { extractFeatures, FEATURE_COUNT, loadRewardModel } from "../src/judge/index.ts";
import { PythonPool } from "../src/sandbox/index.ts";
import { consoleLogger, silentLogger } from "../src/shared/logger.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { option } from "../src/cli/options.ts";

const iterations = Number(option("iterations", "5000"));
const provider = option("provider", "cpu") as "auto" | "cuda" | "cpu";

// Sixteen candidates for one problem, as a run would have them: right, wrong, raising, slow, not compiling.
const VARIANTS = [
  "def running_max(values):\n    result = []\n    best = None\n    for value in values:\n        best = value if best is None or value > best else best\n        result.append(best)\n    return result\n",
  "def running_max(values):\n    result = []\n    best = 0\n    for value in values:\n        best = max(best, value)\n        result.append(best)\n    return result\n",
  "def running_max(values):\n    return [max(values[: index + 1]) for index in range(len(values))]\n",
  "def running_max(values):\n    return [max(values[:index]) for index in range(len(values))]\n",
  "def running_max(values):\n    return sorted(values)\n",
  "def running_max(values):\n    result = [values[0]]\n    for value in values[1:]:\n        result.append(max(result[-1], value))\n    return result\n",
  "def running_max(values):\n    total = 0\n    for step in range(20000):\n        total += step\n    return values\n",
  "def running_max(values)\n    return values\n",
];
const TESTS = [
  { kind: "call" as const, args: [[1, 3, 2, 5]], expected: [1, 3, 3, 5] },
  { kind: "call" as const, args: [[-4, -2, -9]], expected: [-4, -2, -2] },
  { kind: "call" as const, args: [[]], expected: [] },
  { kind: "call" as const, args: [[7]], expected: [7] },
];

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function describe(label: string, samples: number[]): void {
  const sorted = [...samples].sort((left, right) => left - right);
  const format = (value: number): string => `${value.toFixed(3)} ms`;
  console.log(
    `  ${label.padEnd(44)} p50 ${format(quantile(sorted, 0.5))}  p95 ${format(quantile(sorted, 0.95))}  p99 ${format(quantile(sorted, 0.99))}  max ${format(sorted.at(-1) as number)}`,
  );
}

const pool = await PythonPool.start({ logger: silentLogger });
const reports: ExecutionReport[] = await Promise.all(
  VARIANTS.map((code) => pool.execute(toExecutionJob(ExecuteRequest.parse({ code, entry_point: "running_max", tests: TESTS, trace: { mode: "failing" } })))),
);
await pool.close();
const candidates = Array.from({ length: 16 }, (_, index) => ({
  code: VARIANTS[index % VARIANTS.length] as string,
  report: reports[index % VARIANTS.length] as ExecutionReport,
  agreement: (index % 5) / 15,
}));

const model = await loadRewardModel({ provider, logger: consoleLogger });
console.log(`tracefix reward benchmark — ${model.description}, ${FEATURE_COUNT} features, 16 candidates, ${iterations} iterations`);

const matrix = new Float32Array(16 * FEATURE_COUNT);
candidates.forEach((candidate, row) => matrix.set(extractFeatures(candidate.code, candidate.report, candidate.agreement), row * FEATURE_COUNT));
for (let warm = 0; warm < 200; warm++) await model.score(candidates);

const whole: number[] = [];
const inference: number[] = [];
const features: number[] = [];
for (let iteration = 0; iteration < iterations; iteration++) {
  let started = performance.now();
  await model.score(candidates);
  whole.push(performance.now() - started);
  started = performance.now();
  await model.scoreFeatures(matrix, 16);
  inference.push(performance.now() - started);
  started = performance.now();
  for (const candidate of candidates) extractFeatures(candidate.code, candidate.report, candidate.agreement);
  features.push(performance.now() - started);
}
describe("features + inference, 16 candidates", whole);
describe("inference only (session.run)", inference);
describe("feature extraction only", features);

// The event loop while scoring back to back, against the same loop doing
// nothing: how late a 1 ms timer fires.
async function loopDelay(score: boolean): Promise<string> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const until = performance.now() + 2_000;
  let batches = 0;
  while (performance.now() < until) {
    if (score) await model.score(candidates);
    batches += 1;
    // Yield to timers between batches, as request handlers do.
    await new Promise((resolve) => setImmediate(resolve));
  }
  histogram.disable();
  const ms = (nanoseconds: number): string => `${(nanoseconds / 1e6).toFixed(2)} ms`;
  return `p50 ${ms(histogram.percentile(50))}, p99 ${ms(histogram.percentile(99))}, max ${ms(histogram.max)}${score ? ` (${batches} batches)` : ""}`;
}
console.log(`  event-loop delay, 2 s idle loop                ${await loopDelay(false)}`);
console.log(`  event-loop delay, 2 s of back-to-back scoring  ${await loopDelay(true)}`);
const p99 = quantile([...whole].sort((left, right) => left - right), 0.99);
console.log(`  target: 16 candidates ≤ 2 ms — ${p99 <= 2 ? "met" : "NOT met"} (p99 ${p99.toFixed(3)} ms)`);
