/**
 * The scaling core in-process: each strategy and the LLM policy over a
 * MockLanguageModel (our own LanguageModel interface, recording its calls),
 * a policy that is not a model at all, and the real sandbox. Fast: no HTTP,
 * no LangChain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { CandidateScorer, ScoringCandidate } from "../src/judge/index.ts";
import { LlmPolicy, type Policy, type ProposeRequest } from "../src/policy/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { runRequestOf, runStrategy, type ScalingDependencies } from "../src/scaling/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { loadPrompts } from "../src/shared/prompts.ts";
import type { RunEvent, RunEventPayload } from "../src/shared/schema/events.ts";
import { SolveRequest, type SolveResult } from "../src/shared/schema/solve.ts";
import { ADD, PRODUCT_ADD, RIGHT_ADD, WRONG_ADD } from "./fixtures/add.ts";
import { failing, fence, MockLanguageModel, type MockScript } from "./support/mock-model.ts";
import { startPool } from "./support/sandbox.ts";

let pool: PythonPool;
const prompts = loadPrompts();

beforeAll(async () => {
  pool = await startPool({ size: 2 });
});

afterAll(async () => {
  await pool.close();
});

const WRONG = WRONG_ADD;
const RIGHT = RIGHT_ADD;
const PRODUCT = PRODUCT_ADD;

async function run(body: Record<string, unknown>, deps: Partial<ScalingDependencies> & Pick<ScalingDependencies, "policy">, signal = new AbortController().signal) {
  const request = runRequestOf(SolveRequest.parse({ problem: ADD, ...body }), deps.policy.name === "repair" ? "repair" : "llm");
  const generator = runStrategy({ runId: "run_test", request, signal }, { executor: pool, prompts, logger: silentLogger, ...deps });
  const events: RunEventPayload[] = [];
  let step = await generator.next();
  while (step.done !== true) {
    events.push(step.value);
    step = await generator.next();
  }
  return { events, result: step.value as SolveResult };
}

function withModel(script: MockScript): { model: MockLanguageModel; policy: Policy } {
  const model = new MockLanguageModel(script);
  return { model, policy: new LlmPolicy(model, prompts) };
}

const types = (events: readonly RunEventPayload[]): string[] => events.map((event) => event.type);

describe("sequential", () => {
  it("samples N programs in one call, revises the failing chains from their feedback, and stops at the first that passes", async () => {
    const { model, policy } = withModel((request, call) => (call === 0 ? [fence(WRONG), fence(PRODUCT)] : [fence(request.messages.at(-1)?.content.includes("Expected: 3") ? RIGHT : WRONG)]));
    const { events, result } = await run({ n: 2, rounds: 3 }, { policy, model });
    expect(result).toMatchObject({ status: "solved", stopped: "solved", solution: { code: RIGHT, round: 2, chosen_by: "first_passing" }, hidden: { passed: 1, total: 1 } });
    expect(model.calls[0]?.n).toBe(2);
    // Round 2: one call per chain (their histories differ), each prompt carrying its own chain's failure.
    expect(model.calls.slice(1).map((call) => call.n)).toEqual([1, 1]);
    expect(model.prompts[1]).toContain("[Round 1 Generated code]");
    expect(types(events)[0]).toBe("run.started");
    expect(types(events).at(-1)).toBe("run.completed");
    expect(events.filter((event) => event.type === "candidate.generated").every((event) => event.type === "candidate.generated" && event.source === "llm")).toBe(true);
    expect(result.usage.llm_calls).toBe(3);
  });

  it("repairs the given program: round 1 runs it without a model call, and chains with one history share a request", async () => {
    const { model, policy } = withModel(() => [fence(RIGHT), fence(RIGHT), fence(RIGHT)]);
    const { events, result } = await run({ n: 3, rounds: 2, problem: { ...ADD, code: WRONG } }, { policy, model });
    expect(result.status).toBe("solved");
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]?.n).toBe(3);
    expect(events.find((event) => event.type === "candidate.generated")).toMatchObject({ candidate: "r1given", source: "given", chain: null, parent: null });
    // Each revision names the program it was made from.
    expect(events.filter((event) => event.type === "candidate.generated" && event.round === 2).map((event) => event.type === "candidate.generated" && event.parent)).toEqual(["r1given", "r1given", "r1given"]);
    expect(events.find((event) => event.type === "round.started")).toMatchObject({ mode: "given" });
  });

  it("shows other chains' attempts with context all", async () => {
    const { model, policy } = withModel((_request, call) => (call === 0 ? [fence(WRONG), fence(PRODUCT)] : [fence(WRONG)]));
    await run({ n: 2, rounds: 2, context: "all" }, { policy, model });
    for (const prompt of model.prompts.slice(1)) expect(prompt).toContain("another attempt");
  });

  it("fails with the policy's error when no chain gets a program, counting the calls", async () => {
    const { policy } = withModel(() => failing());
    const { result } = await run({ n: 2, rounds: 2 }, { policy });
    expect(result).toMatchObject({ status: "failed", error: { code: "model_server_error", stage: "policy" } });
    expect(result.usage.llm_calls).toBe(1);
  });

  it("answers an unsolved run with the program the scorer prefers, and asks the scorer", async () => {
    const partly = "def add(a, b):\n    return 3\n"; // one test passed: first by the ETA order
    const marked = "def add(a, b):\n    # preferred\n    return 7\n";
    const calls: ScoringCandidate[][] = [];
    const scorer: CandidateScorer = {
      description: "prefers the marked program",
      async score(candidates) {
        calls.push([...candidates]);
        return candidates.map((candidate) => (candidate.code.includes("preferred") ? 1 : 0));
      },
    };
    const { policy } = withModel(() => [fence(partly), fence(marked)]);
    const { result } = await run({ n: 2, rounds: 1 }, { policy, scorer });
    expect(result).toMatchObject({ status: "unsolved", solution: { code: marked, chosen_by: "best_so_far" } });
    expect(calls).toHaveLength(1);
  });

  it("stops at deadline_ms with a model that never answers", async () => {
    const { policy } = withModel(() => "hang");
    const started = performance.now();
    const { result } = await run({ n: 1, deadline_ms: 1_000 }, { policy });
    expect(result).toMatchObject({ status: "failed", error: { code: "deadline_exceeded" } });
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe("hybrid and parallel", () => {
  it("hybrid: a chain that passes stops revising, the others go on, then the selection chooses", async () => {
    const { model, policy } = withModel((_request, call) => (call === 0 ? [fence(RIGHT), fence(WRONG)] : [fence(RIGHT)]));
    const { events, result } = await run({ strategy: "hybrid", n: 2, rounds: 3, inputs: { llm: false } }, { policy, model });
    expect(result.status).toBe("solved");
    // Round 2 revises only the failing chain.
    expect(events.filter((event) => event.type === "round.started").map((event) => (event.type === "round.started" ? event.chains : []))).toEqual([[0, 1], [1]]);
    expect(types(events)).toContain("judge.completed");
  });

  it("parallel: one round collected without running, then every program runs once in the selection", async () => {
    const other = "def add(a, b):\n    return b + a\n";
    const { model, policy } = withModel(() => [fence(WRONG), fence(RIGHT), fence(other)]);
    const { events, result } = await run({ strategy: "parallel", n: 3, inputs: { llm: false } }, { policy, model });
    expect(model.calls).toHaveLength(1);
    const order = types(events);
    expect(order.indexOf("inputs.synthesized")).toBeLessThan(order.indexOf("candidate.executed"));
    expect(order.filter((type) => type === "candidate.executed")).toHaveLength(3);
    expect([RIGHT, other]).toContain(result.solution?.code);
    expect(result.solution?.chosen_by).toBe("selection");
    expect(result.status).toBe("solved");
  });
});

describe("a policy that is not a language model", () => {
  /** Proposes edits of the chain's last program from a fixed list; counts what it was asked. */
  class ListPolicy implements Policy {
    readonly name = "list";
    readonly description = "fixed edits";
    readonly requests: ProposeRequest[] = [];
    constructor(private readonly programs: readonly string[]) {}
    async propose(request: ProposeRequest) {
      this.requests.push(request);
      const code = this.programs[Math.min(request.round - 1, this.programs.length - 1)] ?? null;
      return { proposals: Array.from({ length: request.k }, () => ({ code, source: "edit" as const, description: `edit ${request.round}`, reasoning: "" })), usage: { calls: 0, promptTokens: 0, completionTokens: 0 } };
    }
  }

  it("drives the same strategies: the chain history it sees carries the execution reports", async () => {
    const policy = new ListPolicy([WRONG, RIGHT]);
    const { events, result } = await run({ n: 1, rounds: 3 }, { policy });
    expect(result).toMatchObject({ status: "solved", solution: { code: RIGHT, round: 2 }, usage: { llm_calls: 0 } });
    const second = policy.requests[1];
    expect(second?.history[0]).toMatchObject({ round: 1, code: WRONG });
    expect(second?.history[0]?.report?.tests.map((test) => test.status)).toEqual(["wrong_answer", "wrong_answer"]);
    expect(second?.history[0]?.feedback).toContain("Expected: 3");
    const generated = events.filter((event): event is Extract<RunEvent, { type: "candidate.generated" }> => event.type === "candidate.generated");
    expect(generated.map((event) => [event.source, event.description])).toEqual([
      ["edit", "edit 1"],
      ["edit", "edit 2"],
    ]);
  });
});

describe("the LLM policy", () => {
  it("takes an unfenced reply only when it compiles, and keeps prose as the reasoning", async () => {
    const { policy } = withModel((_request, call) => [call === 0 ? "I would need more details first." : RIGHT]);
    const { events, result } = await run({ n: 1, rounds: 2 }, { policy });
    const generated = events.filter((event): event is Extract<RunEvent, { type: "candidate.generated" }> => event.type === "candidate.generated");
    expect(generated[0]).toMatchObject({ code: null, no_code: true, reasoning: "I would need more details first." });
    expect(generated[1]).toMatchObject({ code: RIGHT, no_code: false });
    expect(result.status).toBe("solved");
  });
});
