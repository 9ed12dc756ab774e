/**
 * The built-in repair search as a first-time user meets it: no model
 * configured, a real server on a loopback port, the real sandbox. A buggy
 * program POSTed to /v1/solve comes back repaired, with its rounds, the
 * fault localisation and each edit in the event stream; what the search
 * cannot take is refused with a status that says what to set.
 */
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { localize } from "../src/policy/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { SolveResult } from "../src/shared/schema/solve.ts";
import { startPool } from "./support/sandbox.ts";
import { readSse, runEvents } from "./support/sse.ts";

let pool: PythonPool;
let server: ServerType;
let url = "";

beforeAll(async () => {
  pool = await startPool({ size: 2 });
  const app = createApp({ executor: pool });
  url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
  });
});

afterAll(async () => {
  server.close();
  await pool.close();
});

// The largest of a list, with the loop stopping one short: the last element is never looked at.
const LARGEST = `def largest(xs):
    best = xs[0]
    for i in range(1, len(xs) - 1):
        if xs[i] > best:
            best = xs[i]
    return best
`;
const LARGEST_TESTS = [
  { kind: "call", args: [[1, 5, 2]], expected: 5 },
  { kind: "call", args: [[3, 1, 9]], expected: 9 },
  { kind: "call", args: [[7]], expected: 7 },
];
const LARGEST_HIDDEN = [
  { kind: "call", args: [[2, 8, 4, 10]], expected: 10 },
  { kind: "call", args: [[-3, -1]], expected: -1 },
];

function solve(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe("fault localisation", () => {
  it("puts the line only the failing test runs first, and scores every line of the program", async () => {
    const code = "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return 1\n    return 0\n";
    const tests = [
      { kind: "call", args: [5], expected: 1 },
      { kind: "call", args: [0], expected: 0 },
      { kind: "call", args: [-3], expected: -1 },
    ];
    const job = toExecutionJob(ExecuteRequest.parse({ code, entry_point: "sign", tests, trace: { mode: "all", max_tests: 3 } }));
    const report: ExecutionReport = await pool.execute(job);
    expect(report.tests.map((test) => test.status)).toEqual(["passed", "passed", "wrong_answer"]);
    const sites = localize(report, code.split("\n").length);
    expect(sites[0]).toEqual({ line: 5, suspiciousness: 1 });
    // Lines 3 and 6 run only in passing tests: the least suspicious of the lines that ran.
    const covered = sites.filter((site) => site.suspiciousness > 0.01);
    expect(covered.slice(-2).map((site) => site.line)).toEqual([3, 6]);
    expect(new Set(sites.map((site) => site.line))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
  });
});

describe("POST /v1/solve with no model", () => {
  it("repairs a buggy program with the built-in search: solved, hidden tests passing, the edit shown as a one-line diff", async () => {
    const response = await solve({ problem: { prompt: "largest(xs): the largest element", entry_point: "largest", code: LARGEST, tests: LARGEST_TESTS, hidden_tests: LARGEST_HIDDEN }, n: 32, rounds: 3 });
    expect(response.status).toBe(200);
    const result = SolveResult.parse(await response.json());
    expect(result).toMatchObject({ status: "solved", hidden: { passed: 2, total: 2 }, usage: { llm_calls: 0 }, solution: { chosen_by: "first_passing" } });
    expect(result.solution?.code).toContain("range(1, len(xs))");
    expect(result.rounds[0]?.candidates).toHaveLength(1);
  });

  it("streams the rounds: localisation, each edit with its line's suspiciousness, how many edits ran", async () => {
    const response = await solve({ problem: { prompt: "largest", entry_point: "largest", code: LARGEST, tests: LARGEST_TESTS, hidden_tests: LARGEST_HIDDEN }, policy: "repair", n: 16, rounds: 2, stream: true });
    const events: RunEvent[] = runEvents((await readSse(response)).messages);
    expect(events[0]).toMatchObject({ type: "run.started", policy: "repair", n: 16 });
    const localized = events.find((event) => event.type === "policy.localized");
    expect(localized).toMatchObject({ round: 2 });
    const edits = events.filter((event) => event.type === "candidate.generated" && event.source === "edit");
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.length).toBeLessThanOrEqual(16);
    for (const event of edits) {
      if (event.type !== "candidate.generated") continue;
      expect(event.edit?.depth).toBe(1);
      expect(event.parent).toBe("r1given"); // a single edit of the client's program: the diff's left side
      expect(event.description).toMatch(/^line \d+: `.*` → `.*`$|^line \d+: .* → /);
      expect(event.edit?.suspiciousness).toBeGreaterThan(0);
    }
    const round2 = events.find((event) => event.type === "round.completed" && event.round === 2);
    expect(round2).toMatchObject({ solved: true });
    if (round2?.type === "round.completed") expect(round2.edits_tried).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "solved" });
  });

  it("builds on the best partial fix when one edit is not enough (two bugs, fixed over two rounds)", async () => {
    const code = "def count_big(xs, limit):\n    count = 1\n    for x in xs:\n        if x < limit:\n            count += 1\n    return count\n";
    const tests = [
      { kind: "call", args: [[1, 5, 9], 4], expected: 2 },
      { kind: "call", args: [[], 0], expected: 0 },
      { kind: "call", args: [[10, 20], 15], expected: 1 },
      { kind: "call", args: [[3], 1], expected: 1 },
      // An element equal to the limit is not above it: only `>` passes.
      { kind: "call", args: [[4, 4], 4], expected: 0 },
    ];
    const response = await solve({ problem: { prompt: "count elements above limit", entry_point: "count_big", code, tests }, policy: "repair", n: 64, rounds: 4 });
    const result = SolveResult.parse(await response.json());
    expect(result.status).toBe("solved");
    expect(result.solution?.code).toContain("count = 0");
    expect(result.solution?.code).toContain("x > limit");
    expect(result.solution?.round).toBeGreaterThanOrEqual(3);
  });

  it("proposes the same candidates in the same order for the same request (no randomness in the search)", async () => {
    const code = "def count_big(xs, limit):\n    count = 1\n    for x in xs:\n        if x < limit:\n            count += 1\n    return count\n";
    const tests = [
      { kind: "call", args: [[1, 5, 9], 4], expected: 2 },
      { kind: "call", args: [[10, 20], 15], expected: 1 },
      { kind: "call", args: [[4, 4], 4], expected: 0 },
    ];
    const candidates = async (): Promise<string[]> => {
      const response = await solve({ problem: { prompt: "count elements above limit", entry_point: "count_big", code, tests }, policy: "repair", n: 16, rounds: 3, stream: true });
      const events: RunEvent[] = runEvents((await readSse(response)).messages);
      return events.flatMap((event) => (event.type === "candidate.generated" ? [`${event.candidate} ${event.description}`] : []));
    };
    const first = await candidates();
    expect(first.length).toBeGreaterThan(16);
    expect(await candidates()).toEqual(first);
  });

  it("builds on the edit whose printed output comes nearer when no edit passes more tests (two bugs, one stdio test)", async () => {
    // Each bug alone spoils one of the two printed lines: every single edit fails the one test,
    // and only how much of the output is right tells the two half-fixes from the rest.
    const code = "n = int(input())\nprint(n + 2)\nprint(n * 3)\n";
    const tests = [{ kind: "stdio", stdin: "5\n", stdout: "6\n10\n" }];
    const hidden = [{ kind: "stdio", stdin: "7\n", stdout: "8\n14\n" }];
    const response = await solve({ problem: { prompt: "print n + 1, then 2n", code, tests, hidden_tests: hidden }, policy: "repair", n: 24, rounds: 3 });
    const result = SolveResult.parse(await response.json());
    expect(result.status).toBe("solved");
    expect(result.solution?.code).toBe("n = int(input())\nprint(n + 1)\nprint(n * 2)\n");
    expect(result.hidden).toEqual({ passed: 1, total: 1 });
  });

  it("answers 422 model_required for a problem without a program to repair, saying what to set", async () => {
    const response = await solve({ problem: { prompt: "add two numbers", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] } });
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.code).toBe("model_required");
    expect(error.message).toContain("problem.code");
    expect(error.message).toContain("TRACEFIX_LLM_BASE_URL");
  });

  it("answers 503 model_not_configured for policy llm or mixed, and 400 naming n for more than 64 chains of a model", async () => {
    const problem = { prompt: "add", entry_point: "add", code: "def add(a, b):\n    return a - b\n", tests: [{ kind: "call", args: [1, 2], expected: 3 }] };
    const llm = await solve({ problem, policy: "llm" });
    expect(llm.status).toBe(503);
    expect((await errorOf(llm)).code).toBe("model_not_configured");
    const mixed = await solve({ problem, policy: "mixed" });
    expect(mixed.status).toBe(503);
    expect(await errorOf(mixed)).toMatchObject({ code: "model_not_configured", message: expect.stringContaining('use policy "repair"') });
    expect((await solve({ problem, policy: "mixed", n: 100 })).status).toBe(400);
    // Parallel never revises, and a repair's round 1 is the given program: nothing would be repaired.
    const parallel = await solve({ problem, policy: "repair", strategy: "parallel" });
    expect(parallel.status).toBe(400);
    expect(((await parallel.json()) as { error: { field?: string; message: string } }).error).toMatchObject({ field: "strategy", message: expect.stringContaining("sequential") });
    const many = await solve({ problem, n: 100 });
    expect(many.status).toBe(400);
    expect(((await many.json()) as { error: { field?: string } }).error.field).toBe("n");
    const repair = await solve({ problem, policy: "repair", n: 100, rounds: 2 });
    expect(repair.status).toBe(200);
  });
});
