/**
 * Selection: execution agreement, the LLM judge (a scripted model over real
 * HTTP), POST /v1/select, and the parallel and hybrid strategies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { clusterByOutputs, disagreements, LlmJudge, type JudgedCandidate } from "../src/judge/index.ts";
import { OpenAICompatibleModel } from "../src/policy/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { loadPrompts } from "../src/scaling/index.ts";
import { createApp } from "../src/server/app.ts";
import { SelectResult } from "../src/shared/schema/solve.ts";
import { FakeLLM, fenced, lastUserMessage, type Script } from "./support/fake-llm.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer } from "./support/solve-server.ts";
import { readSse, runEvents } from "./support/sse.ts";

let pool: PythonPool;
let fake: FakeLLM | undefined;

beforeAll(async () => {
  pool = await startPool();
});

afterAll(async () => {
  await pool.close();
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function model(script: Script): Promise<OpenAICompatibleModel> {
  fake = await FakeLLM.start(script);
  return new OpenAICompatibleModel({ baseURL: fake.url, apiKey: "k", model: "judge", backoffMs: 5, maxAttempts: 2 });
}

// Maximum of a list: the right one, two rewrites of it, and three wrong ones —
// one of which passes the public tests (it fails on negative numbers).
const RIGHT = "def largest(values):\n    return max(values)\n";
const RIGHT_LOOP = "def largest(values):\n    best = values[0]\n    for value in values[1:]:\n        if value > best:\n            best = value\n    return best\n";
const RIGHT_SORT = "def largest(values):\n    return sorted(values)[-1]\n";
const WRONG_ZERO = "def largest(values):\n    best = 0\n    for value in values:\n        if value > best:\n            best = value\n    return best\n";
const WRONG_FIRST = "def largest(values):\n    return values[0]\n";
const WRONG_MIN = "def largest(values):\n    return min(values)\n";
const PROBLEM = {
  prompt: "Return the largest number in a non-empty list.\n\n>>> largest([1, 5, 3])\n5\n",
  entry_point: "largest",
  tests: [{ kind: "call", args: [[3, 9, 2]], expected: 9 }],
  doctests: true,
};

describe("execution agreement", () => {
  it("clusters identical behaviour and ranks by public tests, then size", () => {
    const clusters = clusterByOutputs([
      { candidate: 0, publicPassed: 1, publicTotal: 2, outputs: ["value:1", "value:2"] },
      { candidate: 1, publicPassed: 2, publicTotal: 2, outputs: ["value:1", "value:3"] },
      { candidate: 2, publicPassed: 1, publicTotal: 2, outputs: ["value:1", "value:2"] },
      { candidate: 3, publicPassed: 2, publicTotal: 2, outputs: ["value:1", "raised:ValueError"] },
      { candidate: 4, publicPassed: 2, publicTotal: 2, outputs: ["value:1", "value:3"] },
    ]);
    expect(clusters.map((cluster) => cluster.members)).toEqual([[1, 4], [3], [0, 2]]);
    expect(disagreements([{ candidate: 0, publicPassed: 0, publicTotal: 0, outputs: ["a", "b"] }, { candidate: 1, publicPassed: 0, publicTotal: 0, outputs: ["a", "c"] }])).toEqual([1]);
  });

  it("counts votes input by input, so programs that differ on one input still outvote a common mistake", () => {
    const vector = (candidate: number, outputs: string[]) => ({ candidate, publicPassed: 0, publicTotal: 0, outputs });
    const clusters = clusterByOutputs([
      vector(0, ["value:2", "value:3", "value:4", "value:None"]), // wrong, twice
      vector(1, ["value:2", "value:3", "value:4", "value:None"]),
      vector(2, ["value:2", "value:5", "value:6", "value:0"]), // right, split by the last input (outside the domain)
      vector(3, ["value:2", "value:5", "value:6", "value:0"]),
      vector(4, ["value:2", "value:5", "value:6", "raised:IndexError"]),
    ]);
    // By size alone the mistake would tie the right pair and beat the third right program.
    expect(clusters.map((cluster) => cluster.members)).toEqual([[2, 3], [4], [0, 1]]);
    expect(clusters.map((cluster) => cluster.votes)).toEqual([5 + 3 + 3 + 2, 5 + 3 + 3, 5 + 2 + 2]);
  });

  it("puts programs that only raise or return None after those that answer, however many they are", () => {
    const vector = (candidate: number, outputs: string[]) => ({ candidate, publicPassed: 0, publicTotal: 0, outputs });
    const clusters = clusterByOutputs([
      vector(0, ["raised:NameError", "raised:NameError"]),
      vector(1, ["raised:NameError", "raised:NameError"]),
      vector(2, ["value:None", "value:None"]),
      vector(3, ["value:7", "raised:ValueError"]),
    ]);
    expect(clusters[0]).toMatchObject({ members: [3], answers: true });
    expect(clusters.slice(1).every((cluster) => !cluster.answers)).toBe(true);
  });
});

describe("the LLM judge", () => {
  const problem = { language: "python", problem: "Return the largest number.", tests: "assert largest([3, 9, 2]) == 9" };
  const candidates: JudgedCandidate[] = [
    { index: 0, code: WRONG_ZERO, outputs: "largest([-1]) → 0", trace: "" },
    { index: 1, code: RIGHT, outputs: "largest([-1]) → -1", trace: "" },
    { index: 2, code: WRONG_MIN, outputs: "largest([-1]) → -1", trace: "" },
  ];
  const settings = { mode: "pairwise" as const, votes: 2, maxPairs: 16, temperature: 0, maxTokens: 256 };

  it("asks every pair in both orders, votes times, and counts a win only when both orders agree", async () => {
    // A fair judge: it names whichever program uses max().
    const judge = new LlmJudge(
      await model((request) => {
        const prompt = lastUserMessage(request);
        const a = prompt.indexOf("[Program A]");
        const b = prompt.indexOf("[Program B]");
        const winner = prompt.indexOf("max(values)") > b ? "B" : prompt.indexOf("max(values)") > a && prompt.indexOf("max(values)") < b ? "A" : "tie";
        return { texts: [`Thinking about it.\nAnswer: ${winner}`] };
      }),
      loadPrompts(),
      settings,
    );
    const outcome = await judge.judge(problem, candidates);
    expect(outcome.asked).toBe(3 * 2 * 2);
    expect(fake?.requests).toHaveLength(12);
    // Both orders of every pair were asked.
    const shown = outcome.verdicts.map((verdict) => verdict.shown.join(">"));
    for (const [first, second] of [[0, 1], [0, 2], [1, 2]]) {
      expect(shown.filter((order) => order === `${first}>${second}`)).toHaveLength(2);
      expect(shown.filter((order) => order === `${second}>${first}`)).toHaveLength(2);
    }
    expect(outcome.scores?.get(1)).toBe(1);
    expect(outcome.scores?.get(0)).toBe(0);
    expect(outcome.abstentions).toBe(0);
  });

  it("gives a judge that always answers A no wins at all", async () => {
    const judge = new LlmJudge(await model(() => ({ texts: ["Answer: A"] })), loadPrompts(), settings);
    const outcome = await judge.judge(problem, candidates);
    expect([...(outcome.scores?.values() ?? [])]).toEqual([0, 0, 0]);
  });

  it("asks once more after an unreadable reply, then abstains; with nothing readable the judge has no scores", async () => {
    const judge = new LlmJudge(await model(() => ({ texts: ["I cannot decide."] })), loadPrompts(), { ...settings, votes: 1, maxPairs: 1 });
    const outcome = await judge.judge(problem, candidates);
    expect(fake?.requests).toHaveLength(4); // one pair, two orders, each asked twice
    expect(outcome.abstentions).toBe(2);
    expect(outcome.scores).toBeUndefined();
  });

  it("counts a failing model as failures and returns no scores instead of throwing", async () => {
    const judge = new LlmJudge(await model(() => ({ status: 500 })), loadPrompts(), { ...settings, votes: 1, maxPairs: 1 });
    const outcome = await judge.judge(problem, candidates);
    expect(outcome.failures).toBe(2);
    expect(outcome.scores).toBeUndefined();
    expect(outcome.error).toContain("failed");
  });

  it("ranks listwise, in a rotated order per vote, with Borda points", async () => {
    const judge = new LlmJudge(
      await model((request) => {
        const prompt = lastUserMessage(request);
        // Name the program using max() first, the one starting at 0 last.
        const order = [1, 2, 3].sort((left, right) => {
          const rank = (label: number): number => {
            const section = prompt.split(`[Program ${label}]`)[1]?.split("[Program")[0] ?? "";
            return section.includes("max(values)") ? 0 : section.includes("best = 0") ? 2 : 1;
          };
          return rank(left) - rank(right);
        });
        return { texts: [`Ranking: ${order.join(" > ")}`] };
      }),
      loadPrompts(),
      { ...settings, mode: "listwise", votes: 3 },
    );
    const outcome = await judge.judge(problem, candidates);
    expect(new Set(outcome.verdicts.map((verdict) => verdict.shown[0])).size).toBe(3);
    expect(outcome.scores?.get(1)).toBe(1);
    expect(outcome.scores?.get(0)).toBe(0);
  });
});

describe("POST /v1/select", () => {
  const candidates = [WRONG_ZERO, RIGHT_LOOP, WRONG_FIRST, RIGHT, "not a program at all", RIGHT_SORT, WRONG_MIN];

  function post(app: ReturnType<typeof createApp>, body: unknown): Promise<Response> {
    return Promise.resolve(app.request("/v1/select", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  }

  it("ranks the agreeing correct programs first with agreement, with scores, clusters and reasons", async () => {
    const app = createApp({ executor: pool });
    const response = await post(app, { problem: PROBLEM, candidates });
    expect(response.status).toBe(200);
    const result = SelectResult.parse(await response.json());
    expect(result.ranking).toHaveLength(candidates.length);
    expect(result.ranking.slice(0, 3).map((entry) => entry.index).sort()).toEqual([1, 3, 5]);
    expect(new Set(result.ranking.slice(0, 3).map((entry) => entry.cluster))).toEqual(new Set([0]));
    const top = result.ranking[0];
    expect(top?.public).toEqual({ passed: 2, total: 2 }); // the given test and the prompt's example
    expect(top?.reasons.join(" ")).toContain("2 other candidates give the same outputs");
    // The program that only misses negative numbers passes the public tests but not the mutations.
    const zero = result.ranking.find((entry) => entry.index === 0);
    expect(zero?.public.passed).toBe(2);
    expect(zero?.cluster).not.toBe(0);
    expect(result.ranking.at(-1)).toMatchObject({ index: 4, cluster: null });
    expect(result.inputs.from_mutations).toBeGreaterThan(5);
    expect(result.judge).toMatchObject({ method: "agreement", fallback: null });
  });

  it("with no examples and no tests, compares the programs on inputs made from the signature", async () => {
    const app = createApp({ executor: pool });
    const problem = { prompt: 'from typing import List\n\ndef largest(values: List[int]) -> int:\n    """The largest of a non-empty list of integers."""\n', entry_point: "largest", tests: [], doctests: false };
    const result = SelectResult.parse(await (await post(app, { problem, candidates })).json());
    expect(result.inputs.from_signature).toBeGreaterThan(5);
    expect(result.inputs.from_mutations).toBe(0);
    expect(result.ranking.slice(0, 3).map((entry) => entry.index).sort()).toEqual([1, 3, 5]);
    // Only a list of negative numbers tells the program that starts from 0 apart, and the signature's inputs have one.
    expect(result.ranking.find((entry) => entry.index === 0)?.cluster).not.toBe(0);
  });

  it("falls back to agreement when the judge model fails, and says so", async () => {
    const judgeModel = await model(() => ({ status: 500 }));
    const app = createApp({ executor: pool, selection: { prompts: loadPrompts(), model: judgeModel } });
    const response = await post(app, { problem: PROBLEM, candidates, judge: { method: "llm" }, inputs: { llm: false } });
    const result = SelectResult.parse(await response.json());
    expect(result.judge.fallback).toContain("agreement decided");
    expect(result.judge.failures).toBeGreaterThan(0);
    expect([1, 3, 5]).toContain(result.ranking[0]?.index);
  });

  it("uses the judge's verdicts when it can judge, combined with agreement", async () => {
    // A judge that recognises the right programs.
    const right = (section: string): boolean => [RIGHT, RIGHT_LOOP, RIGHT_SORT].some((code) => section.includes(code.trim()));
    const judgeModel = await model((request) => {
      const prompt = lastUserMessage(request);
      if (prompt.includes("new test inputs")) return { texts: ["```\n[[-5, -2]]\n[[0]]\n[1, 2]\nnot a list\n```"] };
      const [before, after] = prompt.split("[Program B]") as [string, string];
      const a = right(before);
      const b = right(after);
      return { texts: [`Answer: ${a === b ? "tie" : a ? "A" : "B"}`] };
    });
    const app = createApp({ executor: pool, selection: { prompts: loadPrompts(), model: judgeModel } });
    const result = SelectResult.parse(await (await post(app, { problem: PROBLEM, candidates, judge: { method: "combined" } })).json());
    expect(result.inputs).toMatchObject({ from_model: 2, dropped: 2 });
    expect(result.judge.asked).toBeGreaterThan(0);
    expect(result.judge.fallback).toBeNull();
    expect([1, 3, 5]).toContain(result.ranking[0]?.index);
    expect(result.ranking[0]?.scores.llm).toBe(1);
  });

  it.each([
    ["an unknown method", { method: "vibes" }, "judge.method"],
    ["too many votes", { votes: 10 }, "judge.votes"],
    ["no pairs", { max_pairs: 0 }, "judge.max_pairs"],
    ["an unknown mode", { mode: "tournament" }, "judge.mode"],
  ])("answers 400 naming the field for %s", async (_label, judge, field) => {
    const response = await post(createApp({ executor: pool }), { problem: PROBLEM, candidates, judge });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe(field);
  });

  it("answers 503 when the reward model is asked for and none is loaded", async () => {
    const response = await post(createApp({ executor: pool }), { problem: PROBLEM, candidates, judge: { method: "reward" } });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("reward_model_unavailable");
  });
});

describe("parallel and hybrid scaling in /v1/solve", () => {
  it("parallel: samples N programs once, synthesizes inputs, and selects — streaming every stage", async () => {
    const samples = [WRONG_ZERO, RIGHT, WRONG_FIRST, RIGHT_LOOP, WRONG_MIN, RIGHT_SORT];
    const server = await startSolveServer(pool, (request) =>
      lastUserMessage(request).includes("new test inputs") ? { texts: ["```\n[[-3, -7]]\n```"] } : { texts: samples.slice(0, request.n ?? 1).map((code) => fenced(code)) },
    );
    try {
      const response = await fetch(`${server.url}/v1/solve`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ problem: { ...PROBLEM, hidden_tests: [{ kind: "call", args: [[-4, -1, -9]], expected: -1 }] }, strategy: "parallel", n: 6, stream: true }),
      });
      const events = runEvents((await readSse(response)).messages);
      const types = events.map((event) => event.type);
      expect(types.slice(0, 3)).toEqual(["run.started", "round.started", "candidate.generated"]);
      expect(types.indexOf("inputs.synthesized")).toBeGreaterThan(types.lastIndexOf("candidate.generated"));
      expect(types.filter((type) => type === "candidate.executed")).toHaveLength(6);
      expect(types.indexOf("judge.completed")).toBeGreaterThan(types.lastIndexOf("candidate.executed"));
      expect(types.at(-1)).toBe("run.completed");
      const inputs = events.find((event) => event.type === "inputs.synthesized");
      expect(inputs).toMatchObject({ from_model: 1 });
      const completed = events.at(-1);
      expect(completed).toMatchObject({ type: "run.completed", status: "solved", hidden: { passed: 1, total: 1 } });
      expect([RIGHT, RIGHT_LOOP, RIGHT_SORT]).toContain(completed?.type === "run.completed" ? completed.solution?.code : "");
      expect(server.fake.requests).toHaveLength(2); // one sampling request, one for inputs
    } finally {
      await server.close();
    }
  });

  it("hybrid: revises each chain until it passes, then selects among the chains' programs", async () => {
    const server = await startSolveServer(pool, (request) => {
      const prompt = lastUserMessage(request);
      if (prompt.includes("new test inputs")) return { texts: ["```\n[[-2, -8]]\n```"] };
      // Round 1: a wrong program and a right one; revisions fix the wrong one.
      if (prompt.includes("[Round 1 Test Feedback]")) return { texts: [fenced(RIGHT_LOOP)] };
      return { texts: [fenced(WRONG_FIRST), fenced(RIGHT)].slice(0, request.n ?? 1) };
    });
    try {
      const response = await fetch(`${server.url}/v1/solve`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ problem: PROBLEM, strategy: "hybrid", n: 2, rounds: 3, stream: true }),
      });
      const events = runEvents((await readSse(response)).messages);
      const rounds = events.filter((event) => event.type === "round.started");
      expect(rounds.map((event) => (event.type === "round.started" ? event.chains : []))).toEqual([[0, 1], [0]]);
      expect(events.some((event) => event.type === "judge.completed")).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: "run.completed", status: "solved" });
    } finally {
      await server.close();
    }
  });
});
