/**
 * JavaScript through the agent and the selection endpoint: a real server on
 * a loopback port, both sandbox pools behind the router, a fake
 * OpenAI-compatible endpoint that only fixes the program when the revision
 * prompt shows it the failing JavaScript test and its trace.
 */
import { afterAll, beforeAll, expect, it } from "vitest";

import { HAND_ORDER, RepairPolicy, type EditOrder } from "../src/policy/index.ts";
import { type JavaScriptPool, type PythonPool, SandboxRouter } from "../src/sandbox/index.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
import { Limits } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { JAVASCRIPT_PROBLEMS } from "./fixtures/javascript-problems.ts";
import { fenced, lastUserMessage, type Script } from "./support/fake-llm.ts";
import { startJavaScriptPool, startPool } from "./support/sandbox.ts";
import { startSolveServer } from "./support/solve-server.ts";
import { readSse, runEvents } from "./support/sse.ts";

let python: PythonPool;
let javascript: JavaScriptPool;
let router: SandboxRouter;

beforeAll(async () => {
  [python, javascript] = await Promise.all([startPool({ size: 1 }), startJavaScriptPool({ size: 2 })]);
  router = new SandboxRouter([python, javascript]);
});

afterAll(async () => {
  await router.close();
});

const problem = JAVASCRIPT_PROBLEMS.find((candidate) => candidate.id === "binary-search");

it("repairs a buggy JavaScript program in round 2 from JavaScript-worded feedback and a trace", async () => {
  if (problem?.entryPoint === undefined) throw new Error("the binary-search problem is missing");
  const prompts: string[] = [];
  const script: Script = (request) => {
    const prompt = lastUserMessage(request);
    prompts.push(prompt);
    const informed = prompt.includes("```javascript") && prompt.includes("Test: binarySearch([1, 3, 5, 7, 9], 9)") && prompt.includes("Trace (concise):");
    return { texts: Array.from({ length: request.n ?? 1 }, () => fenced(informed ? problem.reference : problem.buggy, "javascript")) };
  };
  const server = await startSolveServer(router, script);
  try {
    const response = await fetch(`${server.url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        problem: { language: "javascript", prompt: "Write binarySearch(items, target): the index of target in the sorted array, or -1.", entry_point: "binarySearch", code: problem.buggy, tests: problem.tests.slice(0, 3), hidden_tests: problem.tests.slice(3) },
        n: 1,
        rounds: 3,
        stream: true,
      }),
    });
    expect(response.status).toBe(200);
    const events = runEvents((await readSse(response)).messages);
    const completed = events.at(-1) as Extract<RunEvent, { type: "run.completed" }>;
    expect(completed).toMatchObject({ status: "solved", solution: { round: 2 } });
    expect(completed.hidden).toEqual({ passed: 1, total: 1 });
    expect(prompts[0]).toContain("assert.deepStrictEqual(binarySearch([1, 3, 5, 7, 9], 7), 3);");
    expect(JSON.stringify(server.fake.requests[0]?.body.messages)).toContain("You are an expert javascript programmer");
  } finally {
    await server.close();
  }
});

it("ranks JavaScript candidates with /v1/select: the correct programs first", async () => {
  const sumProblem = JAVASCRIPT_PROBLEMS.find((candidate) => candidate.id === "unique-sorted");
  if (sumProblem === undefined) throw new Error("the unique-sorted problem is missing");
  const server = await startSolveServer(router, () => ({ texts: ["no"] }));
  try {
    const candidates = [sumProblem.buggy, sumProblem.reference, "function uniqueSorted(values) {\n  return Array.from(new Set(values)).sort((a, b) => a - b);\n}\n", "function uniqueSorted(values) {\n  return values;\n}\n"];
    const response = await fetch(`${server.url}/v1/select`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: { language: "javascript", prompt: "Sorted unique numbers.", entry_point: "uniqueSorted", tests: sumProblem.tests.slice(0, 1) }, candidates, inputs: { llm: false } }),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { ranking: { index: number }[]; inputs: { synthesized: number } };
    expect(result.ranking.slice(0, 2).map((entry) => entry.index).sort()).toEqual([1, 2]);
  } finally {
    await server.close();
  }
});

it("orders a JavaScript problem's edits by hand when the repair search's order learnt only Python's", async () => {
  const scored: string[] = [];
  // An order like the shipped policy model: trained on Python edits only; it records whose edits it is asked to score.
  const pythonOnly: EditOrder = {
    name: "python-only",
    languages: ["python"],
    score: (edits) => {
      scored.push(edits[0]?.edit.code.includes("function") === true ? "javascript" : "python");
      return HAND_ORDER.score(edits);
    },
  };
  const policy = new RepairPolicy({ order: pythonOnly });
  const cases = [
    { language: "javascript" as const, code: "function larger(a, b) {\n  return a < b ? a : b;\n}\n", entryPoint: "larger" },
    { language: "python" as const, code: "def larger(a, b):\n    return a if a < b else b\n", entryPoint: "larger" },
  ];
  for (const { language, code, entryPoint } of cases) {
    const tests = [{ kind: "call" as const, args: [1, 2], expected: 2 }];
    const limits = Limits.parse({});
    const report = await router.execute(toExecutionJob(ExecuteRequest.parse({ language, code, entry_point: entryPoint, tests })), { signal: new AbortController().signal });
    const given = { round: 1, code, feedback: "", report, tier: 0 };
    const result = await policy.propose({
      problem: { language, prompt: "the larger of two numbers", entryPoint, tests, limits },
      round: 2,
      history: [given],
      others: [],
      k: 8,
      ranked: [given],
      sampling: { temperature: 0, maxTokens: 256 },
      executor: router,
      signal: new AbortController().signal,
    });
    // Either way the fix (`<` → `>`) is among the first proposals.
    expect(result.proposals.map((proposal) => proposal.code)).toContain(code.replace("<", ">"));
  }
  expect(scored).toEqual(["python"]);
  expect(policy.description).toContain("python-only order for python, the hand order otherwise");
});
