/**
 * Line-level traces: what the events say, the budget with its head and tail,
 * and the two tracer backends agreeing event for event.
 */
import { execFile } from "node:child_process";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listInterpreters, type PythonPool } from "../src/sandbox/index.ts";
import type { TraceEvent } from "../src/shared/schema/execution.ts";
import { job, startPool } from "./support/sandbox.ts";

let pool: PythonPool;

beforeAll(async () => {
  pool = await startPool();
});

afterAll(async () => {
  await pool.close();
});

const MEAN = `def mean(values):
    total = 0
    for value in values:
        total += value
    return total // len(values)
`;

describe("traces of failing tests", () => {
  it("re-runs only the failing tests traced, by default", async () => {
    const report = await pool.execute(
      job({
        code: MEAN,
        entry_point: "mean",
        tests: [
          { kind: "call", args: [[2, 4]], expected: 3 },
          { kind: "call", args: [[1, 2]], expected: 1.5 },
        ],
      }),
    );
    expect(report.tests.map((test) => test.status)).toEqual(["passed", "wrong_answer"]);
    expect(report.tests[0]?.trace).toBeUndefined();
    const trace = report.tests[1]?.trace;
    expect(trace?.truncated).toBe(false);
    expect(report.tests[1]?.steps).toBe(trace?.total_steps);
    const events = trace?.events ?? [];
    expect(events[0]).toMatchObject({ event: "call", function: "mean", line: 1, locals: { values: "[1, 2]" } });
    // A line event carries the state after the line ran and what it changed.
    const secondAddition = events.filter((event) => event.event === "line" && event.line === 4)[1];
    expect(secondAddition).toMatchObject({ locals: { total: "3", value: "2" }, changed: ["total"] });
    expect(events.at(-1)).toMatchObject({ event: "return", line: 5, value: "1" });
    expect(events.map((event) => event.step)).toEqual(events.map((_, index) => index + 1));
  });

  it("honours trace.mode none and all", async () => {
    const tests = [
      { kind: "call" as const, args: [[2, 4]], expected: 3 },
      { kind: "call" as const, args: [[1, 2]], expected: 1.5 },
    ];
    const none = await pool.execute(job({ code: MEAN, entry_point: "mean", tests, trace: { mode: "none" } }));
    const all = await pool.execute(job({ code: MEAN, entry_point: "mean", tests, trace: { mode: "all" } }));
    expect(none.tests.map((test) => test.trace)).toEqual([undefined, undefined]);
    expect(all.tests.map((test) => test.trace === undefined)).toEqual([false, false]);
  });

  it("records exceptions where they are raised and in each frame they pass through", async () => {
    const code = "def parse(text):\n    return int(text)\n\ndef total(items):\n    return sum(parse(item) for item in items)\n";
    const report = await pool.execute(
      job({ code, entry_point: "total", tests: [{ kind: "call", args: [["1", "x"]], expected: 1 }] }),
    );
    const test = report.tests[0];
    expect(test?.status).toBe("runtime_error");
    expect(test?.error).toMatchObject({ type: "ValueError", line: 2 });
    const exceptions = (test?.trace?.events ?? []).filter((event) => event.event === "exception");
    expect(exceptions.map((event) => [event.function, event.line])).toEqual([
      ["parse", 2],
      ["<genexpr>", 5],
      ["total", 5],
    ]);
    expect(exceptions[0]?.value).toBe("ValueError: invalid literal for int() with base 10: 'x'");
  });

  it("traces only the program's frames, not the test code that calls it", async () => {
    const report = await pool.execute(
      job({
        code: "def inc(x):\n    return x + 2\n",
        entry_point: "inc",
        tests: [{ kind: "assert", code: "def helper(v):\n    return v\n\ndef check(candidate):\n    assert helper(candidate(1)) == 2\n" }],
      }),
    );
    const functions = new Set((report.tests[0]?.trace?.events ?? []).map((event) => event.function));
    expect([...functions]).toEqual(["inc"]);
  });
});

describe("the event budget", () => {
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

  it("keeps the head and the steps just before the error, and the run goes on", async () => {
    const report = await pool.execute(
      job({
        code: LOOP,
        entry_point: "f",
        tests: [{ kind: "call", args: [200_000], expected: 0 }],
        trace: { max_events: 2_000 },
      }),
    );
    const test = report.tests[0];
    const trace = test?.trace;
    expect(test?.status).toBe("runtime_error");
    expect(trace?.truncated).toBe(true);
    expect(trace?.events.length).toBeLessThanOrEqual(2_000);
    expect(trace?.gap?.after_step).toBeGreaterThan(1_000);
    const events = trace?.events ?? [];
    expect(events[0]).toMatchObject({ event: "call", locals: { n: "200000" } });
    // The tail ends at the error, with the loop's final state.
    expect(events.at(-1)).toMatchObject({ event: "exception", line: 9 });
    const lastLoopLine = events.filter((event) => event.line === 3).at(-1);
    expect(lastLoopLine?.locals?.["i"]).toBe("199999");
  });

  it("counts every step exactly when the run ends soon after the head", async () => {
    const report = await pool.execute(
      job({ code: LOOP, entry_point: "f", tests: [{ kind: "call", args: [400], expected: 0 }], trace: { max_events: 1_000 } }),
    );
    const trace = report.tests[0]?.trace;
    // 1 + 401 loop headers + 400 conditions + 400 bodies + 2 final lines
    expect(trace?.total_steps).toBe(1_204);
    expect(trace?.truncated).toBe(true);
    const tail = (trace?.events ?? []).filter((event) => event.step !== null && event.step > (trace?.gap?.after_step ?? 0));
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.at(-1)?.step).toBe(trace?.total_events);
  });

  it("gives an endless loop a trace that ends where it was stopped", async () => {
    const report = await pool.execute(
      job({
        code: "def spin():\n    ticks = 0\n    while True:\n        ticks += 1\n",
        entry_point: "spin",
        tests: [{ kind: "call", args: [], expected: 0 }],
        limits: { timeout_ms: 500 },
      }),
    );
    const test = report.tests[0];
    expect(test?.status).toBe("timeout");
    const last = test?.trace?.events.at(-1) as TraceEvent | undefined;
    expect([3, 4]).toContain(last?.line);
    // Far past what the head of the trace (10,000 events) covers: the events are the newest, where it was stopped
    // (how far it got depends on the machine's load).
    expect(Number(test?.trace?.events.filter((event) => event.line === 4).at(-1)?.locals?.["ticks"])).toBeGreaterThan(10_000);
  });
});

describe("tracer backends", () => {
  const programs = [
    { name: "mean", code: MEAN, entry_point: "mean", args: [[1, 2, 3]] },
    {
      name: "exceptions",
      code: "def inner(x):\n    if x > 1:\n        raise ValueError('big')\n    return x\n\ndef outer(x):\n    try:\n        return inner(x) + 1\n    finally:\n        y = 2\n\ndef main():\n    try:\n        outer(5)\n    except ValueError:\n        pass\n    return outer(0)\n",
      entry_point: "main",
      args: [],
    },
    {
      name: "generators and comprehensions",
      code: "def gen(n):\n    for i in range(n):\n        yield i * i\n\ndef main(n):\n    squares = [v for v in gen(n)]\n    return {k: v for k, v in enumerate(squares) if v % 2 == 0}\n",
      entry_point: "main",
      args: [4],
    },
    {
      name: "recursion and classes",
      code: "class Node:\n    def __init__(self, value, rest=None):\n        self.value = value\n        self.rest = rest\n\ndef total(node):\n    if node is None:\n        return 0\n    return node.value + total(node.rest)\n\ndef main():\n    return total(Node(1, Node(2, Node(3))))\n",
      entry_point: "main",
      args: [],
    },
    {
      name: "uncaught error",
      code: "def f(items):\n    seen = {}\n    for item in items:\n        seen[item] += 1\n    return seen\n",
      entry_point: "f",
      args: [["a"]],
    },
  ];

  it("settrace and sys.monitoring give the same events on every Python that has both", async () => {
    const interpreters = (await listInterpreters()).filter((interpreter) => interpreter.version[1] >= 12);
    expect(interpreters.length, "a Python 3.12+ is needed to compare the backends").toBeGreaterThan(0);
    const script = path.join(import.meta.dirname, "support", "trace_parity.py");
    for (const interpreter of interpreters) {
      const output = await new Promise<string>((resolve, reject) => {
        const child = execFile(interpreter.executable, [script], { maxBuffer: 64 << 20 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        );
        child.stdin?.end(JSON.stringify(programs));
      });
      const traces = JSON.parse(output) as Record<string, { settrace: TraceEvent[]; monitoring: TraceEvent[] }>;
      for (const program of programs) {
        const pair = traces[program.name];
        expect(pair?.monitoring.length, `${program.name} on ${interpreter.version.join(".")}`).toBeGreaterThan(3);
        expect(pair?.monitoring, `${program.name} on ${interpreter.version.join(".")}`).toEqual(pair?.settrace);
      }
    }
  });
});


describe("probes (what inspect asks)", () => {
  const LOOP = `def running(values):
    total = 0
    for index, value in enumerate(values):
        total += value * index
    return total
`;
  const probed = (probe: { line: number; expression: string }, values: unknown[]) =>
    job({ code: LOOP, entry_point: "running", tests: [{ kind: "call", args: [values], expected: -1 }], trace: { mode: "all", max_events: 20_000, probe } });

  for (const python of ["python3.11", undefined]) {
    it(`gives an expression's value each time its line is about to run, first and last kept (${python ?? "newest Python, sys.monitoring"})`, async () => {
      const own = python === undefined ? pool : await startPool({ python, size: 1 });
      try {
        const report = await own.execute(probed({ line: 4, expression: "(index, total)" }, Array.from({ length: 40 }, (_, i) => i)));
        const probe = report.tests[0]?.trace?.probe;
        expect(probe?.count).toBe(40);
        expect(probe?.first.map((entry) => entry.value)).toEqual(["(0, 0)", "(1, 0)", "(2, 1)", ...probe!.first.slice(3).map((entry) => entry.value)]);
        expect(probe?.first).toHaveLength(16);
        expect(probe?.last).toHaveLength(16);
        // Before line 4 runs on its last iteration: the total of 0..38, each times its index.
        const before = Array.from({ length: 39 }, (_, i) => i * i).reduce((sum, term) => sum + term, 0);
        expect(probe?.last.at(-1)?.value).toBe(`(39, ${before})`);
        expect(report.tests[0]?.status).toBe("wrong_answer");
      } finally {
        if (own !== pool) await own.close();
      }
    });
  }

  it("reports what the expression raised at each hit, and an expression that does not compile", async () => {
    const raising = await pool.execute(probed({ line: 4, expression: "values[index + 1]" }, [1, 2]));
    expect(raising.tests[0]?.trace?.probe?.first.map((entry) => entry.value ?? entry.error)).toEqual(["2", "IndexError: list index out of range"]);
    const broken = await pool.execute(probed({ line: 4, expression: "index +" }, [1, 2]));
    expect(broken.tests[0]?.trace?.probe?.error).toMatch(/^SyntaxError/);
    expect(broken.tests[0]?.trace?.probe?.count).toBe(0);
    // The program's own verdict is unchanged by what was probed.
    expect(broken.tests[0]?.actual).toBe("2");
  });
});
