/**
 * npm run bench:trace
 *
 * The cost of rendering a one-million-step run within the default budget
 * (4,000 characters), per format:
 *  1. a real run of ~1,000,000 steps in the sandbox, traced with the default
 *     event budget (head + tail of 10,000 events);
 *  2. a raw trace of 1,000,000 recorded events (what `max_events: 1000000`
 *     gives), synthetic so that its size does not depend on the machine.
 * Target: <= 50 ms per rendering, and always within the budget.
 */
import { PythonPool } from "../src/sandbox/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { TRACE_FORMATS, type TestReport, type TraceEvent } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { render } from "../src/trace/index.ts";

const BUDGET = 4_000;
const LOOP = `def count_down(n):
    total = 0
    while n > 0:
        total += n % 7
        n -= 1
    return total
`;

function timeRenderings(label: string, report: TestReport, repeats: number): void {
  console.log(label);
  const once = (format: (typeof TRACE_FORMATS)[number]): { text: string; ms: number } => {
    const started = performance.now();
    const text = render(format, LOOP, { kind: "call", args: [333_333], expected: 0 }, report, { budget: BUDGET, entryPoint: "count_down" });
    return { text, ms: performance.now() - started };
  };
  for (const format of TRACE_FORMATS) {
    // The first rendering runs before the JIT has compiled anything: shown apart.
    const cold = once(format).ms;
    const times: number[] = [];
    let text = "";
    for (let repeat = 0; repeat < repeats; repeat++) {
      const result = once(format);
      text = result.text;
      times.push(result.ms);
    }
    times.sort((left, right) => left - right);
    const median = times[Math.floor(times.length / 2)] as number;
    const worst = times.at(-1) as number;
    console.log(
      `   ${format.padEnd(13)} median ${median.toFixed(2).padStart(6)} ms   worst ${worst.toFixed(2).padStart(6)} ms   first (cold) ${cold.toFixed(2).padStart(6)} ms   ${String(text.length).padStart(5)} chars${text.length <= BUDGET ? "" : "  OVER BUDGET"}`,
    );
  }
}

// 1. A real run.
const pool = await PythonPool.start({ logger: silentLogger, size: 1 });
const job = toExecutionJob(
  ExecuteRequest.parse({ code: LOOP, entry_point: "count_down", tests: [{ kind: "call", args: [333_333], expected: 0 }], limits: { timeout_ms: 20_000 } }),
);
const report = await pool.execute(job);
await pool.close();
const real = report.tests[0];
if (real?.trace === undefined) throw new Error("no trace");
console.log(
  `tracefix trace-rendering benchmark (budget ${BUDGET} characters)\n\n1. real run: ${real.trace.total_steps ?? `>= ${real.trace.steps_at_least}`} steps executed, ${real.trace.events.length} events recorded`,
);
timeRenderings("", real, 50);

// 2. A million recorded events.
const events: TraceEvent[] = [];
let n = 333_333;
let total = 0;
events.push({ step: 1, event: "call", line: 1, function: "count_down", depth: 1, locals: { n: String(n) }, changed: ["n"] });
events.push({ step: 2, event: "line", line: 2, function: "count_down", depth: 1, locals: { n: String(n), total: "0" }, changed: ["total"] });
while (events.length < 1_000_000 - 2) {
  const state = (): Record<string, string> => ({ n: String(n), total: String(total) });
  events.push({ step: events.length + 1, event: "line", line: 3, function: "count_down", depth: 1, locals: state(), changed: [] });
  total += n % 7;
  events.push({ step: events.length + 1, event: "line", line: 4, function: "count_down", depth: 1, locals: state(), changed: ["total"] });
  n -= 1;
  events.push({ step: events.length + 1, event: "line", line: 5, function: "count_down", depth: 1, locals: state(), changed: ["n"] });
}
events.push({ step: events.length + 1, event: "line", line: 6, function: "count_down", depth: 1, locals: { n: String(n), total: String(total) }, changed: [] });
events.push({ step: events.length + 1, event: "return", line: 6, function: "count_down", depth: 1, value: String(total) });
const synthetic: TestReport = {
  ...real,
  trace: { events, backend: "monitoring", truncated: false, total_events: events.length, total_steps: events.length - 2, gap: null },
};
timeRenderings(`\n2. ${events.length.toLocaleString("en-US")} recorded events (synthetic)`, synthetic, 20);
