/**
 * Strategy agent end to end: a real server on loopback, the real sandbox,
 * LangChain's agent talking to the fake OpenAI-compatible endpoint, whose
 * scripted model calls the tools and reads what they answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
import type { TestSpec } from "../src/shared/schema/execution.ts";
import { PreferencePair } from "../src/shared/schema/runs.ts";
import { testText } from "../src/trace/index.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";
import { lastUserMessage, textOf, toolResults, type ChatRequest, type Reply } from "./support/fake-llm.ts";
import { descendantsOf } from "./support/processes.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";
import { readSse, runEvents } from "./support/sse.ts";

let pool: PythonPool;
let server: SolveServer;

beforeAll(async () => {
  pool = await startPool();
  server = await startSolveServer(pool, () => ({ texts: ["unused"] }));
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
});

/** Scripts the model for one test: `turn` counts that test's requests from 0. */
function script(reply: (request: ChatRequest, turn: number) => Reply): void {
  const first = server.fake.requests.length;
  server.fake.setScript((request, call) => reply(request, call - first));
}

/** The newest tool result the client sent back (the answer to the model's last call). */
function lastToolResult(request: ChatRequest): string {
  return [...toolResults(request).values()].at(-1) ?? "";
}

function post(body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...(signal === undefined ? {} : { signal }) });
}

async function solve(body: Record<string, unknown>): Promise<RunEvent[]> {
  const response = await post({ stream: true, ...body });
  expect(response.status).toBe(200);
  return runEvents((await readSse(response)).messages);
}

type ToolEvent = Extract<RunEvent, { type: "tool.called" | "tool.completed" }>;

function toolEvents(events: readonly RunEvent[]): ToolEvent[] {
  return events.filter((event): event is ToolEvent => event.type === "tool.called" || event.type === "tool.completed");
}

const ADD: { prompt: string; entry_point: string; tests: TestSpec[] } = {
  prompt: "Return the sum of a and b.",
  entry_point: "add",
  tests: [
    { kind: "call", args: [1, 2], expected: 3 },
    { kind: "call", args: [5, 5], expected: 10 },
  ],
};
const RIGHT_ADD = "def add(a, b):\n    return a + b\n";
const WRONG_ADD = "def add(a, b):\n    return a - b\n";

describe.skipIf(SKIP_DATASETS)("an agent debugging a QuixBugs program", () => {
  let record: DatasetRecord;
  let buggy: string;

  beforeAll(async () => {
    requireDatasets("quixbugs");
    const found = (await loadDataset(datasetPath("quixbugs"))).find((candidate) => candidate.id === "quixbugs/to_base");
    if (found?.buggy_code == null) throw new Error("to_base is missing from the QuixBugs data");
    record = found;
    buggy = found.buggy_code;
  });

  /**
   * The debugging a person would do: run the tests; take the failing test and
   * the line its trace ends on (the return); inspect the returned name
   * there; submit the fix only when inspect shows the value the test got.
   */
  function debuggingModel(request: ChatRequest, call: number): Reply {
    const result = lastToolResult(request);
    if (!result.startsWith("Passed") && !result.startsWith("`")) return { toolCalls: [{ name: "run_tests", arguments: { code: buggy } }] };
    if (result.startsWith("Passed")) {
      const test = Number(/test (\d+): wrong_answer/.exec(result)?.[1]);
      const lines = [...result.matchAll(/^\[L(\d+)\]/gm)].map((match) => Number(match[1]));
      return { toolCalls: [{ name: "inspect", arguments: { code: buggy, test, line: lines.at(-1), expression: "result" } }] };
    }
    const wrong = /1st: 'F1'/.test(result);
    const fixed = buggy.replace("result + alphabet[i]", "alphabet[i] + result");
    expect(call).toBeGreaterThan(1);
    return { toolCalls: [{ name: "submit", arguments: { code: wrong ? fixed : buggy } }] };
  }

  it.each([
    ["whole replies", false],
    ["streamed replies (tool calls as deltas)", true],
  ])("runs the tests, inspects the line the failing trace points at, and submits the fix it saw was needed (%s)", async (_label, stream) => {
    script(debuggingModel);
    const tests = testsOf(record);
    const first = server.fake.requests.length;
    const events = await solve({
      problem: { prompt: record.prompt, entry_point: record.entry_point, code: buggy, tests: tests.slice(0, 4), hidden_tests: tests.slice(4) },
      strategy: "agent",
      n: 1,
      rounds: 2,
      agent: { stream },
    });
    const end = events.at(-1);
    const hidden = tests.slice(4);
    expect(end).toMatchObject({ type: "run.completed", status: "solved", hidden: { passed: hidden.length, total: hidden.length } });
    expect(end?.type === "run.completed" && end.solution?.code).toContain("alphabet[i] + result");
    // Every tool call in the stream, in order, each answered before the next.
    const calls = toolEvents(events).map((event) => [event.type, event.call, event.tool, event.type === "tool.completed" ? event.status : "-"]);
    expect(calls).toEqual([
      ["tool.called", 1, "run_tests", "-"],
      ["tool.completed", 1, "run_tests", "ok"],
      ["tool.called", 2, "inspect", "-"],
      ["tool.completed", 2, "inspect", "ok"],
      ["tool.called", 3, "submit", "-"],
      ["tool.completed", 3, "submit", "ok"],
    ]);
    const inspected = toolEvents(events).find((event) => event.type === "tool.completed" && event.tool === "inspect");
    expect(inspected?.type === "tool.completed" && inspected.result).toContain("`result` each time line 9 was about to run in test 3 (1 time):\n  1st: 'F1'");
    expect(events.filter((event) => event.type === "candidate.generated").map((event) => event.type === "candidate.generated" && [event.candidate, event.source, event.parent, event.description])).toEqual([
      ["r1given", "given", null, "the program to repair"],
      ["r1c0", "llm", "r1given", "submitted by agent 0 after 3 tool calls"],
    ]);
    // The model was asked with streaming exactly when the request said so, and never saw a hidden test.
    const asked = server.fake.requests.slice(first);
    expect(asked).toHaveLength(3);
    for (const request of asked) expect(request.body.stream === true).toBe(stream);
    const seen = asked.flatMap((request) => request.body.messages.map((message) => textOf(message))).join("\n");
    // A hidden test as the model would read it (the public ones are in the task, written this way).
    for (const test of tests.slice(0, 4)) expect(seen).toContain(testText(test, "to_base"));
    for (const test of hidden) expect(seen).not.toContain(testText(test, "to_base"));
    const results = toolEvents(events).map((event) => (event.type === "tool.completed" ? event.result : "")).join("\n");
    const callOf = (test: TestSpec): string => testText(test, "to_base").replace(/^assert /, "").split(" == ")[0] as string;
    expect(results).toContain(callOf(tests[3] as TestSpec));
    for (const test of hidden) expect(results).not.toContain(callOf(test));
  });
});

describe("the agent's tools and its limits", () => {
  it("tells the model what went wrong with a call (an unknown test, a timeout, the budget) and goes on", async () => {
    const loops = "def add(a, b):\n    while True:\n        pass\n";
    script((request, call) => {
      if (call === 0) return { toolCalls: [{ name: "inspect", arguments: { code: RIGHT_ADD, test: 7, line: 2, expression: "a" } }] };
      if (call === 1) return { toolCalls: [{ name: "run_tests", arguments: { code: loops } }] };
      if (call === 2) return { toolCalls: [{ name: "trace_test", arguments: { code: WRONG_ADD, test: 1 } }] };
      return { toolCalls: [{ name: "submit", arguments: { code: RIGHT_ADD } }] };
    });
    const first = server.fake.requests.length;
    const events = await solve({ problem: ADD, strategy: "agent", n: 1, rounds: 1, agent: { tool_calls_per_round: 2, tool_timeout_ms: 400 }, limits: { timeout_ms: 5_000 } });
    const completed = toolEvents(events).filter((event) => event.type === "tool.completed");
    expect(completed.map((event) => [event.tool, event.status])).toEqual([
      ["inspect", "error"],
      ["run_tests", "timeout"],
      ["trace_test", "refused"],
      ["submit", "ok"],
    ]);
    const answers = server.fake.requests.slice(first).map((request) => lastToolResult(request.body));
    expect(answers[1]).toBe("error: test must be the index of a public test, 0 to 1");
    expect(answers[2]).toBe("error: run_tests took longer than 400 ms and was stopped.");
    expect(answers[3]).toContain("budget (2 calls) is spent");
    // The timed-out call was stopped, not left running; the run still solved.
    expect((completed[1]?.duration_ms ?? Infinity) < 1_500).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "solved" });
  });

  it("traces one test, cut to a line range, with secrets masked", async () => {
    const secretive = 'def add(a, b):\n    api_key = "sk-live-abcdefghijklmnop1234"\n    total = a - b\n    return total\n';
    script((request, call) =>
      call === 0 ? { toolCalls: [{ name: "trace_test", arguments: { code: secretive, test: 0, lines: "2-3", format: "concise" } }] } : { toolCalls: [{ name: "submit", arguments: { code: RIGHT_ADD } }] },
    );
    const events = await solve({ problem: ADD, strategy: "agent", n: 1, rounds: 1 });
    const traced = toolEvents(events).find((event) => event.type === "tool.completed" && event.tool === "trace_test");
    const result = traced?.type === "tool.completed" ? traced.result : "";
    expect(result).toMatch(/^test 0: wrong_answer \(lines 2-3 only\)/);
    expect(result).toContain("[L3] total = -1");
    expect(result).not.toContain("[L4]");
    expect(result).not.toContain("sk-live");
    expect(JSON.stringify(events)).not.toContain("sk-live-abcdefghijklmnop1234\"\\n    total");
  });

  it("gives a model that answers in prose one corrective turn, then ends that agent with no program", async () => {
    script(() => ({ texts: ["I would add the numbers."] }));
    const first = server.fake.requests.length;
    const events = await solve({ problem: ADD, strategy: "agent", n: 1, rounds: 1 });
    const asked = server.fake.requests.slice(first);
    expect(asked).toHaveLength(2);
    expect(lastUserMessage(asked[1]!.body)).toContain("Answer with a tool call, not prose");
    expect(events.find((event) => event.type === "candidate.generated")).toMatchObject({ no_code: true, description: "agent 0 gave no program: it answered in prose twice" });
    expect(events.at(-1)).toMatchObject({ type: "run.failed", error: { code: "no_program" } });
  });

  it("selects among the agents' submissions, and exports them as preference pairs", async () => {
    // The first conversation to start submits the right program; the other the wrong one.
    const roles = new Map<string, string>();
    script((request) => {
      const task = request.messages.length;
      if (task === 2) {
        const code = roles.size === 0 ? RIGHT_ADD : WRONG_ADD;
        roles.set(String(roles.size), code);
        return { toolCalls: [{ name: "run_tests", arguments: { code } }] };
      }
      const tested = /Passed 2 of 2/.test(lastToolResult(request)) ? RIGHT_ADD : WRONG_ADD;
      return { toolCalls: [{ name: "submit", arguments: { code: tested } }] };
    });
    const events = await solve({ problem: ADD, strategy: "agent", n: 2, rounds: 1, judge: { method: "agreement" } });
    expect(events.filter((event) => event.type === "candidate.generated").map((event) => event.type === "candidate.generated" && event.code).sort()).toEqual([WRONG_ADD, RIGHT_ADD].sort());
    expect(events.some((event) => event.type === "judge.completed")).toBe(true);
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run.completed", status: "solved", solution: { code: RIGHT_ADD } });
    const response = await fetch(`${server.url}/v1/runs/${end?.run_id}/preferences`);
    const pairs = (await response.text()).split("\n").filter((line) => line !== "").map((line) => PreferencePair.parse(JSON.parse(line)));
    expect(pairs.map((pair) => [pair.chosen, pair.rejected, pair.rule])).toEqual([[RIGHT_ADD, WRONG_ADD, "passing_beats_failing"]]);
    expect(pairs[0]?.prompt).toBe(ADD.prompt);
  });

  it("refuses the agent strategy without a model (503) and with the repair policy (400 naming policy)", async () => {
    const { createApp } = await import("../src/server/app.ts");
    const app = createApp({ executor: pool });
    const without = await app.request("/v1/solve", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ problem: ADD, strategy: "agent" }) });
    expect(without.status).toBe(503);
    expect(((await without.json()) as { error: { code: string } }).error.code).toBe("model_not_configured");
    const repair = await post({ problem: { ...ADD, code: WRONG_ADD }, strategy: "agent", policy: "repair" });
    expect(repair.status).toBe(400);
    expect(((await repair.json()) as { error: { field: string } }).error.field).toBe("policy");
  });
});

describe("the agent and its client", () => {
  it("cancels the model request in flight within 200 ms of the client leaving", async () => {
    script((_request, call) => (call === 0 ? { toolCalls: [{ name: "run_tests", arguments: { code: WRONG_ADD } }] } : { hang: true }));
    const first = server.fake.requests.length;
    const controller = new AbortController();
    const response = await post({ problem: ADD, strategy: "agent", n: 1, stream: true }, controller.signal);
    void readSse(response).catch(() => undefined);
    await expect.poll(() => server.fake.requests.length - first, { interval: 5 }).toBe(2);
    const goneAt = performance.now();
    controller.abort();
    await expect.poll(() => server.fake.requests[first + 1]?.abortedAt, { interval: 5, timeout: 2_000 }).toBeDefined();
    expect((server.fake.requests[first + 1]?.abortedAt ?? Infinity) - goneAt).toBeLessThan(200);
    await expect.poll(() => server.runs.running, { interval: 5 }).toBe(0);
  });

  it("cancels a tool call in the sandbox within 200 ms of the client leaving", async () => {
    const baseline = descendantsOf(pool.workerPids()).length;
    const loops = "def add(a, b):\n    while True:\n        pass\n";
    script(() => ({ toolCalls: [{ name: "run_tests", arguments: { code: loops } }] }));
    const controller = new AbortController();
    const response = await post({ problem: ADD, strategy: "agent", n: 1, stream: true, limits: { timeout_ms: 30_000 } }, controller.signal);
    await readSse(response, (message) => message.event === "tool.called").catch(() => undefined);
    await expect.poll(() => pool.health().workers.busy, { interval: 5, timeout: 5_000 }).toBeGreaterThan(0);
    const goneAt = performance.now();
    controller.abort();
    await expect.poll(() => pool.health().workers.busy, { interval: 5, timeout: 2_000 }).toBe(0);
    expect(performance.now() - goneAt).toBeLessThan(200);
    await expect.poll(() => descendantsOf(pool.workerPids()).length, { timeout: 2_000 }).toBeLessThanOrEqual(baseline);
  });

  it("never outlives deadline_ms, whatever the model and the tools are doing", async () => {
    const loops = "def add(a, b):\n    while True:\n        pass\n";
    script((_request, call) => (call % 2 === 0 ? { toolCalls: [{ name: "run_tests", arguments: { code: loops } }] } : { hang: true }));
    const started = performance.now();
    const events = await solve({ problem: ADD, strategy: "agent", n: 2, deadline_ms: 1_000, limits: { timeout_ms: 30_000 } });
    expect(performance.now() - started).toBeLessThan(1_000 + 400);
    expect(events.at(-1)).toMatchObject({ type: "run.failed", error: { code: "deadline_exceeded" } });
    await expect.poll(() => pool.health().workers.busy, { interval: 5 }).toBe(0);
  });
});
