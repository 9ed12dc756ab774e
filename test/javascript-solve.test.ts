/**
 * JavaScript through the agent and the selection endpoint: a real server on
 * a loopback port, both sandbox pools behind the router, a fake
 * OpenAI-compatible endpoint that only fixes the program when the revision
 * prompt shows it the failing JavaScript test and its trace.
 */
import { afterAll, beforeAll, expect, it } from "vitest";

import { type JavaScriptPool, type PythonPool, SandboxRouter } from "../src/sandbox/index.ts";
import type { RunEvent } from "../src/shared/schema/events.ts";
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
