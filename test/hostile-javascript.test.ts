/**
 * Hostile programs and hostile requests against the real JavaScript pool
 * (real worker processes, real isolates, no mocks). Each test asserts what a
 * user would notice: the status reported, that no wrong program passes,
 * that the pool still answers (a trivial program passes right after, on the
 * same worker where the worker survives), that nothing waits without end
 * (every run has a bounded wait), and that the pool counts its restarts.
 */
import { readFileSync } from "node:fs";
import vm from "node:vm";

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { JavaScriptPool } from "../src/sandbox/index.ts";
import { HARD_LIMIT_SLACK_MS, hardLimitMs } from "../src/sandbox/worker-pool.ts";
import { FrameReader, FrameTooLargeError } from "../src/sandbox/javascript/frames.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { ExecutionReport, TestReport, type ExecutionJob } from "../src/shared/schema/execution.ts";
import { instrument, InstrumentLimitError } from "../sandbox/javascript/instrument.mjs";
import { presentReport } from "../src/trace/index.ts";
import { canonicalFromJson, reprJson } from "../sandbox/javascript/values.mjs";
import { job, statuses } from "./support/sandbox.ts";

let pool: JavaScriptPool;

beforeAll(async () => {
  // One worker: "the same worker answers next" is then checkable by pid.
  // A worker that never becomes idle again is replaced after 4 s here (10 s by default; preparing the
  // next isolate can take a second or two on a loaded machine after a big program).
  pool = await JavaScriptPool.start({ logger: silentLogger, size: 1, idleLimitMs: 4_000 });
});

afterAll(async () => {
  await pool.close();
});

/** Fails the test instead of hanging it. */
async function within<Value>(ms: number, work: Promise<Value>): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function run(body: Parameters<typeof job>[0], ms = 30_000, on: JavaScriptPool = pool): Promise<ExecutionReport> {
  return within(ms, on.execute(job(body)));
}

const untraced = { mode: "none" } as const;

/** The pool answers a trivial program right away; with `samePid`, on the worker that answered before. */
async function stillAnswers(samePid?: number, on: JavaScriptPool = pool): Promise<void> {
  const report = await run({ language: "javascript", code: "const f = (x) => x + 1;", entry_point: "f", tests: [{ kind: "call", args: [1], expected: 2 }], trace: untraced }, 15_000, on);
  expect(report.status).toBe("passed");
  if (samePid !== undefined) expect(on.workerPids()).toEqual([samePid]);
}

function onlyPid(on: JavaScriptPool = pool): number {
  const pids = on.workerPids();
  expect(pids).toHaveLength(1);
  return pids[0] as number;
}

/** Until the worker has its next isolate ready (the pool gives it work only then). */
async function idleWorker(on: JavaScriptPool = pool): Promise<number> {
  const until = Date.now() + 15_000;
  while (on.health().workers.ready !== 1) {
    if (Date.now() > until) throw new Error("the worker never became idle");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return onlyPid(on);
}

function restarts(on: JavaScriptPool = pool): number {
  return on.health().workers.restarts;
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

/** A job built past the request schema (the pool must not depend on validation). */
function rawJob(overrides: Partial<ExecutionJob>): ExecutionJob {
  return { ...job({ language: "javascript", code: "const f = () => 1;", entry_point: "f", tests: [{ kind: "call", args: [], expected: 1 }], trace: untraced }), ...overrides };
}

/** A host path or a host stack frame (the program's own frames read "at f (<program>:3)"). */
const HOST_DETAIL = /\/work\/|\/usr\/|node_modules|\.mjs|\.ts\b|node:internal|at \S+ \((?!<(program|test)>)/;

describe("1. handing a job over", () => {
  it("answers a job that cannot be serialised with a sandbox error, twice, and the same worker answers next", async () => {
    const pid = onlyPid();
    for (let attempt = 0; attempt < 2; attempt++) {
      const report = await within(10_000, pool.execute(rawJob({ tests: [{ kind: "call", args: [], expected: nested(10_000) }] })));
      expect(report).toMatchObject({ status: "error", error: { code: "job_not_delivered" } });
    }
    await stillAnswers(pid);
    expect(pool.health().runtime["recoveries"]).toMatchObject({ undelivered: 2 });
  });

  it("answers a job the worker rejects with a stable code and no host detail, and the same worker answers next", async () => {
    const pid = onlyPid();
    const report = await within(10_000, pool.execute(rawJob({ trace: null as unknown as ExecutionJob["trace"] })));
    expect(report).toMatchObject({ status: "error", error: { code: "harness_error" } });
    expect(report.error?.message).not.toMatch(HOST_DETAIL);
    await stillAnswers(pid);
  });

  it("kills a worker that stops answering once the run's budget and slack are spent, reports it, and replaces it", async () => {
    const pid = await idleWorker();
    const before = restarts();
    const started = Date.now();
    // Stopped first (stopped after the hand-over, a loaded machine could let it answer in between): the idle
    // worker still gets the job at once, reads nothing and answers nothing: only the pool's own limit ends the wait.
    process.kill(pid, "SIGSTOP");
    const running = pool.execute(job({ language: "javascript", code: "const f = (x) => x;", entry_point: "f", tests: [{ kind: "call", args: [1], expected: 1 }], trace: untraced, limits: { total_ms: 500 } }));
    const report = await within(hardLimitMs(job({ language: "javascript", code: "1", tests: [{ kind: "stdio" }], limits: { total_ms: 500 } })) + 5_000, running);
    expect(report).toMatchObject({ status: "error", error: { code: "sandbox_stuck" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500 + HARD_LIMIT_SLACK_MS - 100);
    await stillAnswers();
    expect(restarts()).toBe(before + 1);
  });

  it("kills a worker that answered but never becomes idle again; the next job runs on its replacement", async () => {
    const before = restarts();
    // Stopped while it prepares its next isolate, it will never say "idle". That takes only milliseconds, so
    // the stop can come too late (the "idle" already sent): then the worker is let go on and stopped again.
    let pid = 0;
    for (let attempt = 1; ; attempt += 1) {
      pid = await idleWorker();
      const answered = await run({ language: "javascript", code: "const f = (x) => x;", entry_point: "f", tests: [{ kind: "call", args: [1], expected: 1 }], trace: untraced });
      expect(answered.status).toBe("passed");
      process.kill(pid, "SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 100)); // an "idle" already in the pipe arrives by now
      if (pool.health().workers.ready === 0) break;
      process.kill(pid, "SIGCONT");
      if (attempt === 20) throw new Error("the worker was never stopped before it said idle");
    }
    const started = Date.now();
    await within(15_000, stillAnswers());
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(onlyPid()).not.toBe(pid);
    expect(restarts()).toBe(before + 1);
    expect(pool.health().runtime["recoveries"]).toMatchObject({ not_idle: 1 });
  });

  it("refuses a reply frame announced over its bound before keeping any of it", () => {
    const reader = new FrameReader(1_024);
    const small = Buffer.from(JSON.stringify({ t: "idle" }));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(small.length);
    expect(reader.push(Buffer.concat([header, small.subarray(0, 3)]))).toEqual([]);
    expect(reader.push(small.subarray(3))).toEqual(['{"t":"idle"}']);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(1 << 30);
    expect(() => reader.push(huge)).toThrow(FrameTooLargeError);
  });
});

describe("2. no fake passes", () => {
  // Each hook is installed by the program after the runtime captured its
  // built-ins; each tries to see the expected value (and return it) or to
  // make every value look alike.
  const hooks: [string, string][] = [
    ["Promise[Symbol.hasInstance] (seeing)", "Object.defineProperty(Promise, Symbol.hasInstance, { value(v) { seen.push(v); return false; } });"],
    ["Promise[Symbol.hasInstance] (saying yes)", "Object.defineProperty(Promise, Symbol.hasInstance, { value(v) { seen.push(v); return true; } });"],
    ["an index setter on Array.prototype", "Object.defineProperty(Array.prototype, '0', { set(v) { seen.push(v); Object.defineProperty(this, '0', { value: v, writable: true, enumerable: true, configurable: true }); }, configurable: true });"],
    ["getters on Object.prototype (then, get, value)", "for (const key of ['then', 'get', 'value', 'set']) Object.defineProperty(Object.prototype, key, { __proto__: null, get() { seen.push(this); return undefined; }, configurable: true });"],
    ["Symbol.toStringTag and constructor getters", "Object.defineProperty(Object.prototype, Symbol.toStringTag, { get() { seen.push(this); return 'Promise'; } }); Object.defineProperty(Array.prototype, 'constructor', { get() { seen.push(this); return Promise; } });"],
    ["JSON, Reflect and Object.keys replaced", "JSON.stringify = (v) => (seen.push(v), '[]'); JSON.parse = (t) => (seen.push(t), []); Reflect.apply = (f, t, a) => (seen.push(a), f.apply(t, a)); Object.keys = (o) => (seen.push(o), []); Object.entries = (o) => (seen.push(o), []);"],
    ["Array.prototype methods", "for (const name of ['push', 'map', 'join', 'sort', 'slice', 'forEach', 'every', 'concat']) { const original = Array.prototype[name]; Array.prototype[name] = function (...args) { seen.push(this); return original.apply(this, args); }; }"],
    ["String and RegExp methods", "String.prototype[Symbol.split] = function (s) { seen.push(s); return []; }; RegExp.prototype.exec = function (s) { seen.push(s); return null; }; String.prototype.slice = function () { seen.push(this); return ''; };"],
    ["Map and Set methods", "Map.prototype.forEach = function () { seen.push(this); }; Set.prototype.forEach = function () { seen.push(this); }; Map.prototype.get = function (k) { seen.push(k); };"],
  ];
  const program = (hook: string) => `const seen = [];\n${hook}\nfunction f() { return seen.length > 0 ? seen[seen.length - 1] : 'nothing seen'; }\nfunction g() { return { x: 1 }; }\n`;

  it.each(hooks)("call tests: %s cannot capture the expected value", async (_name, hook) => {
    const report = await run({
      language: "javascript",
      code: program(hook),
      entry_point: "f",
      tests: [
        { kind: "call", args: [], expected: { answer: [1, 2, 3] } },
        { kind: "call", args: [], expected: [[4, 5], { six: 6 }] },
        { kind: "call", args: [], output: "new Map([[1, [7, 8]]])" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests), JSON.stringify(report.tests.map((test) => test.actual))).toEqual(["wrong_answer", "wrong_answer", "wrong_answer"]);
    await stillAnswers();
  });

  it.each(hooks)("assert tests: %s cannot make deepEqual pass", async (_name, hook) => {
    const report = await run({
      language: "javascript",
      code: program(hook),
      tests: [
        { kind: "assert", code: "assert.deepEqual(g(), { x: 2 });" },
        { kind: "assert", code: "assert.deepEqual([g()], [{ x: 1, y: 2 }]);" },
        { kind: "assert", code: "assert.deepEqual(new Map([[1, g()]]), new Map([[1, { x: 3 }]]));" },
        { kind: "assert", code: "assert.deepEqual(f(), [1, 2, 3]);" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests), JSON.stringify(report.tests.map((test) => test.error?.message))).toEqual(["wrong_answer", "wrong_answer", "wrong_answer", "wrong_answer"]);
  });

  it("values that cannot be read in full never compare equal (too large, too deep, unreadable, different functions)", async () => {
    const report = await run({
      language: "javascript",
      code: [
        "const big = (n) => Array.from({ length: 700_000 }, (_, i) => i + n);",
        "const deep = (leaf) => { let v = leaf; for (let i = 0; i < 80; i++) v = [v]; return v; };",
        "const unreadable = () => new Proxy({}, { ownKeys() { throw new Error('no'); } });",
        "function named() { return 1; }",
        "const other = { named() { return 2; } }.named;",
      ].join("\n"),
      tests: [
        { kind: "assert", code: "assert.deepEqual(big(1), big(0));" },
        { kind: "assert", code: "assert.deepEqual(deep(1), deep(2));" },
        { kind: "assert", code: "assert.deepEqual(unreadable(), unreadable());" },
        { kind: "assert", code: "assert.deepEqual([named], [other]);" },
        { kind: "assert", code: "assert.notDeepEqual(big(0), big(0));" },
        { kind: "assert", code: "assert.deepEqual({ a: 1, b: [2] }, { b: [2], a: 1 }); assert.deepEqual(new Set([1, 2]), new Set([2, 1]));" },
      ],
      trace: untraced,
      limits: { timeout_ms: 10_000 },
    });
    expect(statuses(report.tests), JSON.stringify(report.tests.map((test) => test.error?.message))).toEqual(["wrong_answer", "wrong_answer", "wrong_answer", "wrong_answer", "wrong_answer", "passed"]);
  });

  it("a patched Promise.prototype.then, constructor or species cannot settle an async test, a rejects or a match", async () => {
    const report = await run({
      language: "javascript",
      code: [
        "const then = Promise.prototype.then;",
        "Promise.prototype.then = function (ok) { return then.call(Promise.resolve(), () => ok && ok(2)); };",
        "Object.defineProperty(Promise.prototype, 'constructor', { get() { return Promise; }, configurable: true });",
        "Object.defineProperty(Promise, Symbol.species, { get() { return Promise; }, configurable: true });",
        "RegExp.prototype.exec = function () { return ['x']; };",
        "Object.defineProperty(RangeError, Symbol.hasInstance, { value: () => true });",
        "async function f() { return 1; }",
        "function h() { throw new TypeError('not a range'); }",
      ].join("\n"),
      tests: [
        { kind: "assert", code: "return (async () => { assert.equal(await f(), 2); })();" },
        { kind: "assert", code: "return assert.rejects(f());" },
        { kind: "assert", code: "assert.match('abc', /^\\d+$/);" },
        { kind: "assert", code: "assert.throws(() => h(), RangeError);" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests), JSON.stringify(report.tests.map((test) => test.error))).not.toContain("passed");
  });

  it("prints and encodes a JSON expected value in the worker exactly as the runtime prints and encodes it", () => {
    // The runtime in a plain context of its own (no isolate needed to print): values parsed in its realm.
    const context = vm.createContext({});
    const driver = vm.runInContext(readFileSync(new URL("../sandbox/javascript/runtime.js", import.meta.url), "utf8"), context) as { expectedValue(value: unknown): string };
    const parse = vm.runInContext("JSON.parse", context) as (text: string) => unknown;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        const inRuntime = JSON.parse(driver.expectedValue(parse(text))) as { canonical: unknown; repr: string };
        const parsed: unknown = JSON.parse(text);
        expect(reprJson(parsed, 2000)).toBe(inRuntime.repr);
        expect(canonicalFromJson(parsed)).toEqual(inRuntime.canonical);
      }),
      { numRuns: 400 },
    );
  });

  it("evaluates output expressions without the program: a patched Array.prototype.sort changes nothing", async () => {
    const report = await run({
      language: "javascript",
      code: "Array.prototype.sort = function () { return [9]; };\nfunction f() { return [9]; }\nfunction s(items) { return [...items].sort((a, b) => a - b); }\n",
      entry_point: "f",
      tests: [
        { kind: "call", args: [], output: "[3, 1, 2].sort()" },
        { kind: "call", args: [], output: "new Set([9])" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests)).toEqual(["wrong_answer", "wrong_answer"]);
    expect(report.tests[0]).toMatchObject({ expected: "[1, 2, 3]", actual: "[9]" });
    expect(report.tests[1]?.expected).toBe("Set(1) {9}");
  });

  it("a returned value that is wrong stays wrong however the program settles it (thenables, microtasks after return)", async () => {
    const report = await run({
      language: "javascript",
      code: "function f() { const out = [1]; queueMicrotask(() => out.push(2)); return { then(ok) { ok(out); } }; }",
      entry_point: "f",
      tests: [{ kind: "call", args: [], expected: [1, 2, 3] }],
      trace: untraced,
    });
    expect(statuses(report.tests)).toEqual(["wrong_answer"]);
  });
});

describe("3. the instrumenter", () => {
  const manyVars = (count: number) => `${Array.from({ length: count }, (_, index) => `var v${index} = ${index};`).join("\n")}\nfunction f() { return v1; }\n`;

  it("grows linearly with the program", () => {
    const small = instrument(manyVars(2_000), "__tfx_").code.length;
    const large = instrument(manyVars(8_000), "__tfx_").code.length;
    expect(large / small).toBeLessThan(4.6);
  });

  it("stops at its deadline and at its output bound", () => {
    expect(() => instrument(manyVars(3_000), "__tfx_", { deadline: performance.now() - 1 })).toThrow(InstrumentLimitError);
    expect(() => instrument(manyVars(3_000), "__tfx_", { maxChars: 10_000 })).toThrow(InstrumentLimitError);
  });

  it("turns tracing off for a program past its output bound, says why, and still renders the failure", async () => {
    // Two-character statements: each gets a site, far more than 16 times their size.
    const code = `let x = 0;\n${"x;".repeat(60_000)}\nfunction f() { return x; }\n`;
    const body = { language: "javascript" as const, code, entry_point: "f", tests: [{ kind: "call" as const, args: [], expected: 1 }] };
    const report = await run(body);
    const test = report.tests[0];
    expect(test?.status).toBe("wrong_answer");
    expect(test?.trace).toMatchObject({ events: [], truncated: true, gap: { reason: expect.stringContaining("tracing is off for this run") } });
    const presented = presentReport(job(body), report);
    expect(presented.tests[0]?.rendering).toContain("Expected: 1");
  });

  it("traces a 12,000-line program within its limits, on a worker that survives it", async () => {
    const pid = onlyPid();
    const code = manyVars(12_000);
    expect(code.length).toBeGreaterThan(140_000);
    const started = Date.now();
    const report = await run({ language: "javascript", code, entry_point: "f", tests: [{ kind: "call", args: [], expected: 2 }], limits: { timeout_ms: 3_000 } }, 20_000);
    expect(report.tests[0]?.status).toBe("wrong_answer");
    expect(report.tests[0]?.trace?.events.map((event) => event.event)).toEqual(["call", "line", "return"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    await stillAnswers(pid);
  });

  it("reports a worker that runs out of its own heap as a crash, replaces it and stops after two", async () => {
    const small = await JavaScriptPool.start({ logger: silentLogger, size: 1, workerHeapMb: 16 });
    try {
      const before = restarts(small);
      const report = await run(
        { language: "javascript", code: "console.log(require('fs').readFileSync(0, 'utf8').length);", tests: Array.from({ length: 6 }, () => ({ kind: "stdio" as const, stdin: "x".repeat(999_000) })), trace: untraced },
        60_000,
        small,
      );
      expect(statuses(report.tests)).toEqual(report.tests.map(() => "runtime_error"));
      expect(report.tests.every((test) => test.error?.type === "Crash")).toBe(true);
      expect(report.tests.map((test) => test.error?.message).join("\n")).not.toMatch(HOST_DETAIL);
      expect(restarts(small)).toBe(before + 2);
      await stillAnswers(undefined, small);
    } finally {
      await small.close();
    }
  });
});

describe("4. what a timeout costs", () => {
  it("re-runs a test that timed out once, in ring mode, within half its limit", async () => {
    const started = performance.now();
    const report = await run({
      language: "javascript",
      code: "function spin() {\n  let i = 0;\n  for (;;) i++;\n}\n",
      entry_point: "spin",
      tests: [{ kind: "call", args: [], expected: 0 }],
      trace: { max_events: 400 },
      limits: { timeout_ms: 1_000 },
    });
    const elapsed = performance.now() - started;
    const test = report.tests[0];
    expect(test?.status).toBe("timeout");
    expect(test?.trace?.gap?.reason).toContain("timeout");
    expect(test?.trace?.events.at(-1)?.step).toBeGreaterThan(400);
    expect(test?.trace?.duration_ms).toBeLessThan(800);
    // Untraced 1 s + traced 0.5 s, plus isolates: well under the 3 s it took before.
    expect(elapsed).toBeLessThan(2_400);
  });
});

describe("5. the run's time budget", () => {
  it("cuts each test to what is left, reports tests past it as BudgetExhausted, and ends within total_ms", async () => {
    const started = performance.now();
    const report = await run({
      language: "javascript",
      code: "function spin() { for (;;) {} }",
      entry_point: "spin",
      tests: Array.from({ length: 5 }, () => ({ kind: "call" as const, args: [], expected: 1 })),
      limits: { timeout_ms: 300, total_ms: 450 },
    });
    const elapsed = performance.now() - started;
    expect(statuses(report.tests)).toEqual(["timeout", "timeout", "timeout", "timeout", "timeout"]);
    expect(report.tests[1]?.error?.message).toContain("left of the run's time budget");
    expect(report.tests.slice(2).map((test) => test.error?.type)).toEqual(["BudgetExhausted", "BudgetExhausted", "BudgetExhausted"]);
    expect(report.tests[2]?.error?.message).toContain("limits.total_ms = 450 ms");
    // Traced re-runs only within the budget: none was left.
    expect(report.tests.filter((test) => test.trace !== undefined)).toEqual([]);
    expect(elapsed).toBeLessThan(450 + 1_000);
  });

  it("puts the pool's watchdog at total_ms plus a small slack", () => {
    expect(hardLimitMs(job({ language: "javascript", code: "1", tests: [{ kind: "stdio" }], limits: { total_ms: 2_000 } }))).toBe(2_000 + HARD_LIMIT_SLACK_MS);
    expect(HARD_LIMIT_SLACK_MS).toBeLessThanOrEqual(5_000);
  });
});

describe("6. reply sizes", () => {
  it("shows at most 1 MiB per stream, counts the rest, and judges on all of it", async () => {
    // 999,000 three-byte characters: under the request's 1,000,000-character bound, ~3 MB of output.
    const euros = "€".repeat(999_000);
    const report = await run(
      {
        language: "javascript",
        code: "const text = require('fs').readFileSync(0, 'utf8');\nconsole.log(text);\nconsole.error('e'.repeat(3 << 20));\n",
        tests: [
          { kind: "stdio", stdin: euros, stdout: `${euros}\n` },
          { kind: "stdio", stdin: euros, stdout: `${euros.slice(0, -1)}$\n` },
          { kind: "stdio", stdin: euros },
        ],
        trace: untraced,
        limits: { output_bytes: 16 << 20 },
      },
      60_000,
    );
    expect(statuses(report.tests)).toEqual(["passed", "wrong_answer", "passed"]);
    for (const test of report.tests) {
      expect(Buffer.byteLength(test.stdout)).toBeLessThanOrEqual(1 << 20);
      expect(Buffer.byteLength(test.stderr)).toBeLessThanOrEqual(1 << 20);
      expect(test.omitted?.stderr_bytes).toBe((3 << 20) + 1 - Buffer.byteLength(test.stderr));
    }
    expect(report.tests[0]?.omitted?.stdout_bytes).toBe(3 * 999_000 + 1 - Buffer.byteLength(report.tests[0]?.stdout ?? ""));
    expect(report.tests[0]?.stdout.startsWith("€€€")).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(17 << 20);
  });

  it("cuts big traces by size, keeps every reply under its bound, and the pool answers after", async () => {
    const locals = Array.from({ length: 25 }, (_, index) => `  let s${index} = String(i).repeat(2000);`).join("\n");
    const code = `function f(n) {\n  let total = 0;\n  for (let i = 0; i < n; i++) {\n${locals}\n    total += s0.length;\n  }\n  return total;\n}\n`;
    const report = await run(
      {
        language: "javascript",
        code,
        entry_point: "f",
        // Three traced tests of ~60 MB of state each: far past the per-trace bound.
        tests: Array.from({ length: 3 }, (_, index) => ({ kind: "call" as const, args: [200 + index], expected: -1 })),
        trace: { max_events: 1_250, repr_limit: 2_000, max_tests: 3 },
        limits: { timeout_ms: 20_000, output_bytes: 16 << 20 },
      },
      120_000,
    );
    expect(statuses(report.tests)).toEqual(report.tests.map(() => "wrong_answer"));
    const size = Buffer.byteLength(JSON.stringify(report));
    expect(size).toBeLessThan(18 << 20);
    const traced = report.tests.filter((test) => test.trace !== undefined);
    expect(traced).toHaveLength(3);
    for (const test of traced) {
      expect(Buffer.byteLength(JSON.stringify(test.trace?.events))).toBeLessThanOrEqual(4 << 20);
      expect(TestReport.safeParse(test).success).toBe(true);
    }
    const cut = traced.filter((test) => (test.omitted?.trace_events ?? 0) > 0);
    expect(cut.length).toBeGreaterThan(0);
    for (const test of cut) expect(test.trace).toMatchObject({ truncated: true, gap: { reason: expect.stringContaining("size") } });
    await stillAnswers();
  });

  it("bounds what a program chooses to put in its errors and exit codes", async () => {
    const report = await run({
      language: "javascript",
      code: "class E extends Error {}\nObject.defineProperty(E, 'name', { value: 'N'.repeat(1e6) });\nfunction f() { throw new E('m'.repeat(5e6)); }\nfunction g() { process.exit('c'.repeat(1e6)); }\n",
      tests: [
        { kind: "assert", code: "f();" },
        { kind: "assert", code: "g();" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests)).toEqual(["runtime_error", "runtime_error"]);
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(40_000);
  });
});

describe("7. host paths", () => {
  it("keeps host paths and host frames out of errors, tracebacks and crash reports", async () => {
    const report = await run({
      language: "javascript",
      code: "function f() { return null.x; }\nconst top = 1;\n",
      entry_point: "f",
      tests: [
        { kind: "call", args: [], expected: 1 },
        { kind: "call", input: "[1, 2", expected: 1 },
        { kind: "call", args: [], output: "(() => { throw new Error('bad expected'); })()" },
        { kind: "assert", code: "assert.equal(f(), 1);" },
      ],
      trace: untraced,
    });
    expect(statuses(report.tests)).toEqual(["runtime_error", "runtime_error", "runtime_error", "runtime_error"]);
    for (const test of report.tests) {
      expect(test.error?.message).not.toMatch(HOST_DETAIL);
      expect(test.error?.traceback ?? "").not.toMatch(HOST_DETAIL);
    }
    expect(report.tests[0]?.error?.traceback).toContain("<program>:1");
    const broken = await within(10_000, pool.execute(rawJob({ trace: null as unknown as ExecutionJob["trace"] })));
    expect(broken.error?.message).not.toMatch(HOST_DETAIL);
  });
});

describe("8. more tricks", () => {
  it("output written after process.exit (caught or not) is not output", async () => {
    const report = await run({
      language: "javascript",
      code: "console.log('a');\ntry { process.exit(0); } catch {}\nconsole.log('b');\n",
      tests: [{ kind: "stdio", stdout: "a\nb\n" }],
      trace: untraced,
    });
    expect(report.tests[0]).toMatchObject({ status: "wrong_answer", stdout: "a\n" });
  });

  it("an exit code whose toString never returns ends in the program's own time, as a timeout", async () => {
    const report = await run({
      language: "javascript",
      code: "function f() { process.exit({ toString() { for (;;) {} } }); }",
      entry_point: "f",
      tests: [{ kind: "call", args: [], expected: 1 }],
      trace: untraced,
      limits: { timeout_ms: 300 },
    });
    expect(statuses(report.tests)).toEqual(["timeout"]);
    await stillAnswers();
  });

  it("a program that calls the trace recorder itself only gets a valid, bounded trace of its own", async () => {
    const report = await run({
      language: "javascript",
      code: [
        "function f() {",
        "  const name = Object.getOwnPropertyNames(globalThis).find((key) => key.startsWith('__tf') && key.endsWith('_T'));",
        "  const T = globalThis[name];",
        "  if (T === undefined) return 1; // the untraced run has no recorder",
        "  const forged = { name: 'x', line: 'not a number', depth: -5, pending: null, previous: {} };",
        "  T.s(forged, 1, () => [null, 0]);",
        "  T.s(T.m(), 1e9, null);",
        "  const frame = T.c('n'.repeat(1e6), 'line', () => { throw new Error('reader'); }, 'level');",
        "  T.o(frame); T.o(frame); T.o(frame);",
        "  return 1;",
        "}",
      ].join("\n"),
      entry_point: "f",
      tests: [{ kind: "call", args: [], expected: 2 }],
    });
    const test = report.tests[0];
    expect(test?.status).toBe("wrong_answer");
    expect(TestReport.safeParse(test).success).toBe(true);
    for (const event of test?.trace?.events ?? []) {
      expect(event.function.length).toBeLessThanOrEqual(201);
      expect(event.depth).toBeGreaterThanOrEqual(0);
    }
  });

  it("leaves nothing of one run in the next run on the same worker", async () => {
    const pid = onlyPid();
    await run({
      language: "javascript",
      code: "Object.prototype.polluted = 1; Array.prototype.push = () => 0; globalThis.leak = 42; Math.random = () => 0.5; function f() { return 1; }",
      entry_point: "f",
      tests: [{ kind: "call", args: [], expected: 1 }],
      trace: untraced,
    });
    const report = await run({
      language: "javascript",
      code: "function f() { const a = []; a.push(1); return [typeof leak, ({}).polluted, a.length, Math.random() === 0.5]; }",
      entry_point: "f",
      tests: [{ kind: "call", args: [], expected: ["undefined", null, 1, false] }],
      trace: untraced,
    });
    expect(report.tests[0]?.status, report.tests[0]?.actual ?? "").toBe("passed");
    expect(onlyPid()).toBe(pid);
  });
});
