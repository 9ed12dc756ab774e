/**
 * JavaScript candidates in the real isolated-vm pool: the three test kinds
 * and their verdicts, traces (also of long runs), hostile programs, a worker
 * killed in the middle of a run, and the HTTP surface (language routing,
 * 400s naming the field).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApp } from "../src/server/app.ts";
import { type JavaScriptPool, type PythonPool, SandboxRouter } from "../src/sandbox/index.ts";
import { Problem } from "../src/shared/schema/solve.ts";
import { job, startJavaScriptPool, startPool, statuses } from "./support/sandbox.ts";

let pool: JavaScriptPool;

beforeAll(async () => {
  pool = await startJavaScriptPool({ size: 2 });
});

afterAll(async () => {
  await pool.close();
});

const untraced = { mode: "none" } as const;

describe("verdicts", () => {
  it("compares call results as values, shows both sides of a wrong answer, and takes JavaScript expressions for input and output", async () => {
    const report = await pool.execute(
      job({
        language: "javascript",
        code: "function pairs(items) {\n  return new Map(items.map((item, index) => [item, index]));\n}\nconst add = (a, b) => a + b;\nfunction f(x) { return x === 1 ? { a: [1, 2.0000001] } : 0.1 + 0.2; }\n",
        entry_point: "f",
        tests: [
          { kind: "call", args: [1], expected: { a: [1, 2] } },
          { kind: "call", args: [2], expected: 0.3 },
          { kind: "call", args: [3], expected: 0.4 },
          { kind: "call", input: "[1]", output: "({ a: [1, 2] })" },
          { kind: "call", input: "[2]", output: "new Set([1])" },
        ],
        trace: untraced,
      }),
    );
    expect(statuses(report.tests)).toEqual(["passed", "passed", "wrong_answer", "passed", "wrong_answer"]);
    expect(report.tests[2]).toMatchObject({ expected: "0.4", actual: "0.30000000000000004" });
    expect(report.tests[4]).toMatchObject({ expected: "Set(1) {1}" });
  });

  it("reads stdin through fs, process.stdin events and readline, and captures console output", async () => {
    const tests = [{ kind: "stdio" as const, stdin: "3 4\n", stdout: "7\n" }];
    const programs = [
      "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(' ').map(Number);\nconsole.log(a + b);\n",
      "let input = '';\nprocess.stdin.on('data', (chunk) => (input += chunk));\nprocess.stdin.on('end', () => {\n  const [a, b] = input.split(' ').map(Number);\n  process.stdout.write(`${a + b}\\n`);\n  process.exit(0);\n});\n",
      "import { createInterface } from 'node:readline';\nconst reader = createInterface({ input: process.stdin });\nfor await (const line of reader) { const [a, b] = line.split(' ').map(Number); console.log(a + b); }\n",
    ];
    for (const code of programs.slice(0, 2)) {
      const report = await pool.execute(job({ language: "javascript", code, tests, trace: untraced }));
      expect(report.tests[0], code).toMatchObject({ status: "passed", stdout: "7\n" });
    }
    // Top-level await is module syntax a script cannot have: reported as the syntax error it is.
    const report = await pool.execute(job({ language: "javascript", code: programs[2] as string, tests, trace: untraced }));
    expect(report.tests[0]?.status).toBe("syntax_error");
  });

  it("gives assert tests an assertion helper whose failures report both values and the failing line", async () => {
    const report = await pool.execute(
      job({
        language: "javascript",
        code: "const assert = require('node:assert');\nfunction double(x) {\n  return x * 3;\n}\n",
        tests: [
          { kind: "assert", code: "assert.equal(double(0), 0);\nassert.deepEqual([double(2)], [4]);" },
          { kind: "assert", code: "assert.throws(() => double(2));" },
          { kind: "assert", code: "const assert = require('assert');\nassert.ok(double(1) === 2, 'double(1) should be 2');" },
        ],
        trace: untraced,
      }),
    );
    expect(statuses(report.tests)).toEqual(["wrong_answer", "wrong_answer", "wrong_answer"]);
    expect(report.tests[0]).toMatchObject({ expected: "[4]", actual: "[6]" });
    expect(report.tests[0]?.error?.assertion).toMatchObject({ operator: "deepEqual", source: "assert.deepEqual([double(2)], [4]);" });
    expect(report.tests[2]?.error?.message).toBe("double(1) should be 2");
  });

  it("reports syntax errors with their line, and runtime errors with the program's line", async () => {
    const broken = await pool.execute(job({ language: "javascript", code: "function f(x) {\n  return x +;\n}\n", entry_point: "f", tests: [{ kind: "call", args: [1] }], trace: untraced }));
    expect(broken.tests[0]).toMatchObject({ status: "syntax_error", error: { type: "SyntaxError", line: 2 } });
    const throwing = await pool.execute(job({ language: "javascript", code: "function f(x) {\n  const y = x.value;\n  return y.inner;\n}\n", entry_point: "f", tests: [{ kind: "call", args: [{}] }], trace: untraced }));
    expect(throwing.tests[0]).toMatchObject({ status: "runtime_error", error: { type: "TypeError", line: 3 } });
    const missing = await pool.execute(job({ language: "javascript", code: "function g() {}\n", entry_point: "f", tests: [{ kind: "call", args: [] }], trace: untraced }));
    expect(missing.tests[0]?.error?.message).toMatch(/f is not defined/);
  });
});

describe("traces", () => {
  it("records calls, lines with the state after them, returns and exceptions with lines", async () => {
    const report = await pool.execute(
      job({
        language: "javascript",
        code: "function half(n) {\n  if (n % 2) throw new RangeError(`odd: ${n}`);\n  return n / 2;\n}\nfunction halves(items) {\n  const out = [];\n  for (const item of items) out.push(half(item));\n  return out;\n}\n",
        entry_point: "halves",
        tests: [{ kind: "call", args: [[2, 3]], expected: [1] }],
      }),
    );
    const trace = report.tests[0]?.trace;
    expect(report.tests[0]?.status).toBe("runtime_error");
    expect(trace).toMatchObject({ backend: "instrumented", truncated: false, gap: null });
    const events = trace?.events ?? [];
    expect(events[0]).toMatchObject({ event: "call", function: "halves", depth: 1, line: 5, locals: { items: "[2, 3]" } });
    expect(events).toContainEqual(expect.objectContaining({ event: "return", function: "half", depth: 2, value: "1" }));
    expect(events.filter((event) => event.event === "exception").map((event) => [event.function, event.line, event.value])).toEqual([
      ["half", 2, "RangeError: odd: 3"],
      ["halves", 7, "RangeError: odd: 3"],
    ]);
    expect(events.map((event) => event.step)).toEqual(events.map((_, index) => index + 1));
    expect(report.tests[0]?.steps).toBe(trace?.total_steps);
  });

  it("keeps the head and the exact tail of a run longer than the event budget", async () => {
    const report = await pool.execute(
      job({
        language: "javascript",
        code: "function count(n) {\n  let total = 0;\n  for (let i = 0; i < n; i++) {\n    total += i % 7;\n  }\n  return total + 1;\n}\n",
        entry_point: "count",
        tests: [{ kind: "call", args: [200_000], expected: 0 }],
        trace: { max_events: 2_000 },
      }),
    );
    const trace = report.tests[0]?.trace;
    expect(trace?.truncated).toBe(true);
    expect(trace?.events.length).toBeLessThanOrEqual(2_000);
    // `let total`, the loop test n + 1 times, the body n times, the return.
    expect(trace?.total_steps).toBe(1 + 200_001 + 200_000 + 1);
    let total = 0;
    for (let i = 0; i < 200_000; i++) total += i % 7;
    expect(trace?.events.at(-1)).toMatchObject({ event: "return", step: trace?.total_events, value: String(total + 1) });
    expect(trace?.gap?.after_step).toBe(1_500);
    expect((trace?.gap?.after_step ?? 0) + (trace?.gap?.events ?? 0) + 500).toBe(trace?.total_events);
  });
});

describe("traces of runs that time out", () => {
  it("keep the head and the newest events before the deadline", async () => {
    const report = await pool.execute(
      job({
        language: "javascript",
        code: "function spin(n) {\n  let i = 0;\n  while (true) {\n    i = (i + n) % 1000;\n  }\n}\n",
        entry_point: "spin",
        tests: [{ kind: "call", args: [3], expected: 0 }],
        trace: { max_events: 1_000 },
        limits: { timeout_ms: 600 },
      }),
    );
    const test = report.tests[0];
    expect(test?.status).toBe("timeout");
    const trace = test?.trace;
    expect(trace).toMatchObject({ truncated: true, total_steps: null, gap: { after_step: 750, reason: expect.stringContaining("timeout") } });
    expect(trace?.events[0]).toMatchObject({ step: 1, event: "call", function: "spin" });
    expect(trace?.events.filter((event) => (event.step ?? 0) <= 750)).toHaveLength(750);
    expect(trace?.events.length).toBe(1_000);
    // Past the first 1,000 steps: the middle was dropped, the newest kept (how far it got depends on the machine's load).
    expect(trace?.events.at(-1)?.step).toBeGreaterThan(1_000);
  });
});

describe("hostile programs", () => {
  const cases: [string, string, string, number?][] = [
    ["an endless loop", "function f() { while (true) {} }", "timeout"],
    ["an endless async loop", "async function f() { for (;;) await null; }", "timeout"],
    ["an endless microtask chain", "function f() { const spin = () => Promise.resolve().then(spin); spin(); return 2; }", "timeout"],
    ["an interval that never stops", "function f() { return new Promise(() => setInterval(() => {}, 1)); }", "timeout"],
    ["a memory bomb", "function f() { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }", "memory_limit", 5_000],
    ["a huge string", "function f() { let s = 'x'; for (;;) s += s; }", "runtime_error"],
    ["deep recursion", "function f(n = 0) { return f(n + 1) + 1; }", "runtime_error"],
    ["require of a host module", "function f() { return require('child_process').execSync('id'); }", "runtime_error"],
    ["process.exit(0) to fake a pass", "function f() { try { process.exit(0); } catch {} return 2; }", "runtime_error"],
    ["a promise that never settles", "function f() { return new Promise(() => {}); }", "runtime_error"],
    ["endless output", "function f() { for (;;) console.log('spam'); }", "output_limit"],
  ];
  // A memory bomb gets more time: on a loaded machine it must still reach its memory limit before its deadline.
  it.each(cases)("contains %s", async (_name, code, status, timeout = 500) => {
    const report = await pool.execute(job({ language: "javascript", code, entry_point: "f", tests: [{ kind: "call", args: [], expected: 2 }, { kind: "assert", code: "return Promise.resolve(f()).then((value) => assert.equal(value, 2));" }], trace: untraced, limits: { timeout_ms: timeout, memory_mb: 128 } }));
    expect(statuses(report.tests)).toEqual([status, status]);
    expect(pool.health().ok).toBe(true);
  });

  it("offers no way out of the isolate and cannot forge a verdict by tampering with globals", async () => {
    const code = [
      "Object.prototype.toJSON = function () { return { outcome: 'returned' }; };",
      "Array.prototype.push = function () { return 0; };",
      "JSON.stringify = () => '{\"outcome\":\"returned\"}';",
      "Object.is = () => true;",
      "let assert = { equal() {}, deepEqual() {} };",
      "function f() {",
      "  const reach = [typeof process.binding, typeof process.dlopen, typeof globalThis.WebAssembly, typeof SharedArrayBuffer, Object.keys(process.env).length];",
      "  reach[5] = Function('return typeof require(\"fs\").writeFileSync')();",
      "  return reach;",
      "}",
    ].join("\n");
    const report = await pool.execute(
      job({ language: "javascript", code, entry_point: "f", tests: [{ kind: "call", args: [], expected: 2 }, { kind: "assert", code: "assert.equal(f(), 2);" }], trace: untraced }),
    );
    expect(statuses(report.tests)).toEqual(["wrong_answer", "wrong_answer"]);
    expect(report.tests[0]?.actual, JSON.stringify(report.tests[0])).toBe('["undefined", "undefined", "undefined", "undefined", 0, "undefined"]');
  });

  it("reports a worker killed in the middle of a test as that test's crash, runs the rest elsewhere, and replaces the worker", async () => {
    const before = pool.health().workers.restarts;
    const running = pool.execute(
      job({
        language: "javascript",
        code: "function f(x) { if (x === 1) { const end = Date.now() + 3000; while (Date.now() < end) {} } return x; }",
        entry_point: "f",
        tests: [0, 1, 2].map((x) => ({ kind: "call" as const, args: [x], expected: x })),
        trace: untraced,
        limits: { timeout_ms: 5_000 },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const busy = pool.workerPids("busy");
    expect(busy).toHaveLength(1);
    process.kill(busy[0] as number, "SIGKILL");
    const report = await running;
    expect(report.tests.map((test) => test.error?.message ?? null), JSON.stringify(report.tests)).toHaveLength(3);
    expect(statuses(report.tests)).toEqual(["passed", "runtime_error", "passed"]);
    expect(report.tests[1]?.error).toMatchObject({ type: "Crash" });
    expect(pool.health().workers.restarts).toBeGreaterThan(before);
    const after = await pool.execute(job({ language: "javascript", code: "const f = (x) => x;", entry_point: "f", tests: [{ kind: "call", args: [5], expected: 5 }], trace: untraced }));
    expect(after.status).toBe("passed");
  });
});

describe("over HTTP", () => {
  let python: PythonPool;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    python = await startPool({ size: 1 });
    app = createApp({ executor: new SandboxRouter([python, pool]), version: "test" });
  });
  afterAll(async () => {
    await python.close();
  });

  it("routes each language to its pool and lists both in /healthz", async () => {
    const post = (body: unknown) => app.request("/v1/execute", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const javascript = (await (await post({ language: "javascript", code: "const f = (x) => x * 2;", entry_point: "f", tests: [{ kind: "call", args: [2], expected: 4 }] })).json()) as { status: string; language: string };
    expect(javascript).toMatchObject({ status: "passed", language: "javascript" });
    const python3 = (await (await post({ code: "def f(x):\n    return x * 2\n", entry_point: "f", tests: [{ kind: "call", args: [2], expected: 4 }] })).json()) as { status: string };
    expect(python3.status).toBe("passed");
    const health = (await (await app.request("/healthz")).json()) as { sandbox: { languages: string[]; pools: Record<string, { ok: boolean }> } };
    expect(health.sandbox.languages).toEqual(["python", "javascript"]);
    expect(health.sandbox.pools["javascript"]?.ok).toBe(true);
  });

  it("refuses keyword arguments and doctests for JavaScript, naming the field", async () => {
    const response = await app.request("/v1/execute", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ language: "javascript", code: "const f = () => 1;", entry_point: "f", tests: [{ kind: "call", args: [], kwargs: { a: 1 } }] }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain("tests.0.kwargs");
    const parsed = Problem.safeParse({ language: "javascript", prompt: "p", doctests: true });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["doctests"]);
  });

  it("answers 503 for a language whose pool is not running", async () => {
    const only = createApp({ executor: new SandboxRouter([python], { javascript: "isolated-vm did not load" }), version: "test" });
    const response = await only.request("/v1/execute", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language: "javascript", code: "1", tests: [{ kind: "stdio" }] }) });
    expect(response.status).toBe(503);
    expect(JSON.stringify(await response.json())).toContain("language_unavailable");
  });
});
