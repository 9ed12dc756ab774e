/**
 * The reward model end to end: the ETA preference rules on real sandbox
 * reports, the features, the shipped ONNX model scoring the trainer's
 * held-out pairs exactly as the trainer did, loading failures, the server's
 * start-up with a good and a broken model, the reward judge in /v1/select
 * and in the sequential strategy.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  DEFAULT_REWARD_DIRECTORY,
  extractFeatures,
  FEATURE_COUNT,
  FEATURE_NAMES,
  loadRewardModel,
  preferenceBetween,
  preferenceBetweenReports,
  RewardModel,
  RewardModelError,
  type CandidateScorer,
  type ScoringCandidate,
} from "../src/judge/index.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { loadPrompts } from "../src/scaling/index.ts";
import { createApp } from "../src/server/app.ts";
import { silentLogger, type Logger } from "../src/shared/logger.ts";
import type { ExecutionReport } from "../src/shared/schema/execution.ts";
import { SelectResult, SolveResult } from "../src/shared/schema/solve.ts";
import { fenced } from "./support/fake-llm.ts";
import { job, startPool } from "./support/sandbox.ts";
import { startServerProcess, stopServerProcess, type StartedServer } from "./support/server-process.ts";
import { startSolveServer } from "./support/solve-server.ts";



let pool: PythonPool;
let reward: RewardModel;

beforeAll(async () => {
  pool = await startPool();
  reward = await loadRewardModel({ provider: "cpu", logger: silentLogger });
});

afterAll(async () => {
  await pool.close();
});

// double(x) with three tests; programs that stand differently under the ETA rules.
const TESTS = [1, 2, 3].map((value) => ({ kind: "call" as const, args: [value], expected: value * 2 }));
const PASSING = "def double(x):\n    return x * 2\n";
const TWO_PASS = "def double(x):\n    return x * 2 if x < 3 else 0\n";
const ONE_PASS_LATE_ERROR =
  "def double(x):\n    if x == 1:\n        return 2\n    total = 0\n    for step in range(40):\n        total += step\n    raise ValueError(total)\n";
const ONE_PASS_EARLY_ERROR = "def double(x):\n    if x == 1:\n        return 2\n    raise ValueError(x)\n";
const SYNTAX_ERROR = "def double(x)\n    return x * 2\n";

function run(code: string): Promise<ExecutionReport> {
  return pool.execute(job({ code, entry_point: "double", tests: TESTS, trace: { mode: "failing" } }));
}

function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    info: (message) => lines.push({ level: "info", message }),
    warn: (message) => lines.push({ level: "warn", message }),
    error: (message) => lines.push({ level: "error", message }),
  };
}

describe("ETA preference pairs", () => {
  it("decides by passing, then tests passed, then steps before the error — and says which rule decided", async () => {
    const [passing, twoPass, late, early] = await Promise.all([PASSING, TWO_PASS, ONE_PASS_LATE_ERROR, ONE_PASS_EARLY_ERROR].map(run));
    expect(preferenceBetweenReports(passing!, twoPass!)).toEqual({ better: 0, rule: "passing_beats_failing" });
    expect(preferenceBetweenReports(twoPass!, passing!)).toEqual({ better: 1, rule: "passing_beats_failing" });
    expect(preferenceBetweenReports(late!, twoPass!)).toEqual({ better: 1, rule: "more_tests_passed" });
    // Both pass one test and raise; the one that got further before raising wins.
    expect(preferenceBetweenReports(early!, late!)).toEqual({ better: 1, rule: "more_steps_before_error" });
    expect(preferenceBetweenReports(late!, early!)).toEqual({ better: 0, rule: "more_steps_before_error" });
    // Two programs that stand the same make no pair.
    expect(preferenceBetweenReports(passing!, await run("def double(x):\n    return x + x\n"))).toBeUndefined();
  });

  it("puts a runtime error over a syntax error when nothing else tells them apart", () => {
    const runtime = { passed: 0, total: 3, failure: "runtime_error" as const, steps: 0 };
    const syntax = { passed: 0, total: 3, failure: "syntax_error" as const, steps: 0 };
    expect(preferenceBetween(syntax, runtime)).toEqual({ better: 1, rule: "milder_failure" });
    expect(preferenceBetween(runtime, syntax)).toEqual({ better: 0, rule: "milder_failure" });
  });
});

describe("features", () => {
  it("are the named vector the model was trained on, scaled to [0, 1]", async () => {
    const [passing, twoPass, syntax] = await Promise.all([PASSING, TWO_PASS, SYNTAX_ERROR].map(run));
    const named = (vector: Float32Array): Record<string, number> => Object.fromEntries(FEATURE_NAMES.map((name, index) => [name, vector[index] as number]));
    const good = named(extractFeatures(PASSING, passing!, 0.5));
    expect(extractFeatures(PASSING, passing!)).toHaveLength(FEATURE_COUNT);
    expect(good).toMatchObject({ pass_fraction: 1, all_passed: 1, syntax_error: 0, agreement: 0.5, agreement_known: 1, steps_known: 0 });
    const partial = named(extractFeatures(TWO_PASS, twoPass!));
    expect(partial["pass_fraction"]).toBeCloseTo(2 / 3, 5);
    expect(partial["wrong_answer_share"]).toBeCloseTo(1 / 3, 5);
    expect(partial).toMatchObject({ all_passed: 0, agreement_known: 0, steps_known: 1 });
    expect(partial["steps_before_failure"]).toBeGreaterThan(0);
    expect(named(extractFeatures(SYNTAX_ERROR, syntax!))).toMatchObject({ syntax_error: 1, pass_fraction: 0 });
    for (const vector of [good, partial]) for (const value of Object.values(vector)) expect(value).toBeGreaterThanOrEqual(0), expect(value).toBeLessThanOrEqual(1);
  });
});

describe("the shipped reward model", () => {
  interface HeldOutPair {
    readonly chosen: number[];
    readonly rejected: number[];
    readonly chosen_score: number;
    readonly rejected_score: number;
  }
  const heldOut: HeldOutPair[] = readFileSync(path.join(DEFAULT_REWARD_DIRECTORY, "heldout.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as HeldOutPair);
  const metadata = JSON.parse(readFileSync(path.join(DEFAULT_REWARD_DIRECTORY, "metadata.json"), "utf8")) as { accuracy: { heldout: number } };

  it("scores the trainer's held-out pairs as the trainer did, and ranks at least 90% of them right", async () => {
    expect(heldOut.length).toBeGreaterThan(500);
    const rows = heldOut.flatMap((pair) => [pair.chosen, pair.rejected]);
    const served = await reward.scoreFeatures(Float32Array.from(rows.flat()), rows.length);
    let right = 0;
    heldOut.forEach((pair, index) => {
      const chosen = served[2 * index] as number;
      const rejected = served[2 * index + 1] as number;
      // float32 through two runtimes: equal to a few units in the last place.
      expect(Math.abs(chosen - pair.chosen_score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(pair.chosen_score)));
      expect(Math.abs(rejected - pair.rejected_score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(pair.rejected_score)));
      // The same order as the trainer's model, pair by pair.
      expect(Math.sign(chosen - rejected)).toBe(Math.sign(pair.chosen_score - pair.rejected_score));
      if (chosen > rejected) right += 1;
    });
    const accuracy = right / heldOut.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(accuracy).toBeCloseTo(metadata.accuracy.heldout, 3);
  });

  it("ranks a passing program over failing ones, from code and report alone", async () => {
    const codes = [ONE_PASS_EARLY_ERROR, SYNTAX_ERROR, PASSING, TWO_PASS];
    const reports = await Promise.all(codes.map(run));
    const scores = await reward.score(codes.map((code, index) => ({ code, report: reports[index] as ExecutionReport })));
    expect(scores).toHaveLength(4);
    expect(Math.max(...scores)).toBe(scores[2]);
    expect(scores[3]).toBeGreaterThan(scores[0] as number);
    expect(reward.status).toMatchObject({ loaded: true, provider: "cpu", feature_version: "tracefix-reward-features/1" });
  });
});

describe("loading a reward model", () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), "tracefix-reward-"));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function copyWith(name: string, change: (metadata: Record<string, unknown>) => void, onnx?: string): string {
    const target = path.join(directory, name);
    cpSync(DEFAULT_REWARD_DIRECTORY, target, { recursive: true });
    const file = path.join(target, "metadata.json");
    const metadata = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    change(metadata);
    writeFileSync(file, JSON.stringify(metadata));
    if (onnx !== undefined) writeFileSync(path.join(target, "reward.onnx"), onnx);
    return target;
  }

  async function loadError(target: string): Promise<RewardModelError> {
    const error = await loadRewardModel({ directory: target, provider: "cpu", logger: silentLogger }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RewardModelError);
    return error as RewardModelError;
  }

  it("refuses a directory without a model, naming it", async () => {
    const error = await loadError(path.join(directory, "nowhere"));
    expect(error.code).toBe("reward_model_missing");
    expect(error.message).toContain("nowhere");
  });

  it("refuses a model trained on other features, saying how to rebuild it", async () => {
    const version = await loadError(copyWith("version", (metadata) => (metadata["feature_version"] = "tracefix-reward-features/0")));
    expect(version.code).toBe("reward_model_mismatch");
    expect(version.message).toContain("npm run reward:data && npm run reward:train");
    const order = await loadError(copyWith("order", (metadata) => (metadata["feature_names"] = [...FEATURE_NAMES].reverse())));
    expect(order.code).toBe("reward_model_mismatch");
    expect(order.message).toContain("expects the features [duration");
  });

  it("refuses a file that is not an ONNX model, and one whose input is named otherwise", async () => {
    expect((await loadError(copyWith("garbage", () => undefined, "not a model"))).code).toBe("reward_model_unreadable");
    const renamed = await loadError(copyWith("renamed", (metadata) => (metadata["input"] = { name: "inputs" })));
    expect(renamed.code).toBe("reward_model_mismatch");
    expect(renamed.message).toContain("inputs [features]");
  });

  it("runs on the CPU when CUDA is asked for and absent, saying so in one line", async () => {
    const logger = recordingLogger();
    const model = await loadRewardModel({ provider: "cuda", logger });
    if (model.provider === "cuda") {
      expect(logger.lines).toEqual([]); // a machine with CUDA: nothing to say
    } else {
      expect(logger.lines).toHaveLength(1);
      expect(logger.lines[0]).toMatchObject({ level: "warn" });
      expect(logger.lines[0]?.message).toMatch(/CUDA.*running on the CPU/);
    }
  });
});

describe("the server's start-up with its reward model", () => {
  const startServer = (environment: Record<string, string>): Promise<StartedServer> => startServerProcess({ ...environment }, ["TRACEFIX_REWARD_MODEL"]);
  const stop = stopServerProcess;

  it("with a mismatched model: starts, logs why, says 'not loaded' in /healthz, and answers a reward request with a clear 503", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "tracefix-reward-server-"));
    cpSync(DEFAULT_REWARD_DIRECTORY, directory, { recursive: true });
    const metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(path.join(directory, "metadata.json"), JSON.stringify({ ...metadata, feature_version: "someone-else/3" }));
    const started = await startServer({ TRACEFIX_REWARD_MODEL: directory });
    try {
      const health = (await (await fetch(`${started.url}/healthz`)).json()) as { reward: { loaded: boolean; reason: string } };
      expect(health.reward.loaded).toBe(false);
      expect(health.reward.reason).toContain("someone-else/3");
      expect(started.log()).toMatch(/reward model not loaded: .*someone-else\/3/);
      const response = await fetch(`${started.url}/v1/select`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ problem: { prompt: "double", entry_point: "double", tests: TESTS }, candidates: [PASSING, TWO_PASS], judge: { method: "reward" } }),
      });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("reward_model_unavailable");
      expect((await fetch(`${started.url}/healthz`)).status).toBe(200);
    } finally {
      await stop(started);
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it("with the shipped model and CUDA asked for: one line about CUDA, and /healthz says it runs on the CPU", async () => {
    const started = await startServer({ TRACEFIX_REWARD_PROVIDER: "cuda" });
    try {
      const health = (await (await fetch(`${started.url}/healthz`)).json()) as { reward: { loaded: boolean; provider: string; heldout_accuracy: number } };
      expect(health.reward.loaded).toBe(true);
      expect(health.reward.heldout_accuracy).toBeGreaterThanOrEqual(0.9);
      // The policy model says the same of itself in its own line (test/policy-model.test.ts).
      const cudaLines = started.log().split("\n").filter((line) => line.includes("CUDA") && line.includes("reward model"));
      // onnxruntime's own error output for the failed attempt is silenced.
      expect(started.log()).not.toContain("onnxruntime_src");
      if (health.reward.provider === "cpu") expect(cudaLines).toHaveLength(1);
      else expect(health.reward.provider).toBe("cuda");
    } finally {
      await stop(started);
    }
  }, 60_000);
});

/** A scorer that prefers programs carrying a marker, and records what it was asked. */
class MarkerScorer implements CandidateScorer {
  readonly description = "prefers '# preferred'";
  readonly calls: ScoringCandidate[][] = [];
  score(candidates: readonly ScoringCandidate[]): Promise<number[]> {
    this.calls.push([...candidates]);
    return Promise.resolve(candidates.map((candidate) => (candidate.code.includes("# preferred") ? 1 : 0)));
  }
}

describe("the reward judge at work", () => {
  const candidates = [ONE_PASS_EARLY_ERROR, PASSING, SYNTAX_ERROR, TWO_PASS, "def double(x):\n    return x << 1\n"];
  const problem = { prompt: "Return twice x.\n\n>>> double(5)\n10\n", entry_point: "double", tests: TESTS.slice(0, 2) };

  it("/v1/select with judge.method reward ranks by the ONNX model's scores", async () => {
    const app = createApp({ executor: pool, selection: { prompts: loadPrompts(), model: undefined, scorer: reward } });
    const response = await app.request("/v1/select", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem, candidates, judge: { method: "reward" }, inputs: { llm: false } }),
    });
    expect(response.status).toBe(200);
    const result = SelectResult.parse(await response.json());
    expect(result.judge).toMatchObject({ method: "reward", fallback: null });
    expect([1, 4]).toContain(result.ranking[0]?.index);
    expect(result.ranking[0]?.scores.reward).toBeGreaterThan(result.ranking.find((entry) => entry.index === 0)?.scores.reward ?? 1);
    expect(result.ranking[0]?.reasons.join(" ")).toContain("reward model");
    expect(result.ranking.at(-1)?.index).toBe(2);
  });

  it("/v1/select with judge.method combined carries the reward beside agreement", async () => {
    const app = createApp({ executor: pool, selection: { prompts: loadPrompts(), model: undefined, scorer: reward } });
    const response = await app.request("/v1/select", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem, candidates, judge: { method: "combined" }, inputs: { llm: false } }),
    });
    const result = SelectResult.parse(await response.json());
    expect([1, 4]).toContain(result.ranking[0]?.index);
    for (const entry of result.ranking.filter((ranked) => ranked.index !== 2)) expect(entry.scores.reward).toBeTypeOf("number");
  });

  /** One round of two programs that both fail; the run's result. */
  async function unsolvedRun(programs: readonly [string, string], scorer: CandidateScorer): Promise<SolveResult> {
    const server = await startSolveServer(pool, (request) => ({ texts: programs.map((code) => fenced(code)).slice(0, request.n ?? 1) }), { scorer });
    try {
      const response = await fetch(`${server.url}/v1/solve`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ problem: { prompt: "Return twice x.", entry_point: "double", tests: TESTS }, n: 2, rounds: 1 }),
      });
      return SolveResult.parse(await response.json());
    } finally {
      await server.close();
    }
  }

  it("sequential: an unsolved run answers with the program the reward model prefers", async () => {
    // Neither program passes; by the ETA order the first (one test passed) would be the answer.
    const better = "def double(x):\n    return 2 if x == 1 else 0\n";
    const preferred = "def double(x):\n    # preferred\n    return 0\n";
    const scorer = new MarkerScorer();
    const result = await unsolvedRun([better, preferred], scorer);
    expect(result.status).toBe("unsolved");
    expect(result.solution?.code).toBe(preferred);
    expect(scorer.calls).toHaveLength(1);
    expect(scorer.calls[0]?.map((candidate) => candidate.code).sort()).toEqual([better, preferred].sort());
  });

  it("sequential with the ONNX model: the model is asked, and its best-scored program is the unsolved answer", async () => {
    const oneTest = "def double(x):\n    return 2 if x == 1 else 0\n";
    const asked: { codes: string[]; scores: number[] }[] = [];
    // The real model, seen through a recorder: the answer must be its choice, not merely the ETA order's.
    const recording: CandidateScorer = {
      description: reward.description,
      async score(candidates) {
        const scores = await reward.score(candidates);
        asked.push({ codes: candidates.map((candidate) => candidate.code), scores });
        return scores;
      },
    };
    const result = await unsolvedRun(["def double(x):\n    return -1\n", oneTest], recording);
    expect(asked).toHaveLength(1);
    const [first] = asked;
    const best = first?.codes[first.scores.indexOf(Math.max(...first.scores))];
    expect(result.solution?.code).toBe(best);
    expect(result.solution).toMatchObject({ code: oneTest, passed: 1, total: 3 });
  });
});
