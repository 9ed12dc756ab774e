/** POST /v1/solve: the problem, the scaling settings, and what the run returns. */
import { z } from "zod";

import { Language, Limits, MAX_CODE_CHARS, MAX_TESTS_PER_REQUEST, TestSpec, TraceFormat } from "./execution.ts";

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const Problem = z.strictObject({
  language: Language.default("python"),
  prompt: z.string().min(1).max(200_000).describe("the task, in words (and signature)"),
  entry_point: z.string().regex(identifier, "must be an identifier").max(200).optional(),
  code: z.string().min(1).max(MAX_CODE_CHARS).optional().describe("a program to repair: round 1 runs it instead of sampling"),
  tests: z.array(TestSpec).min(1).max(MAX_TESTS_PER_REQUEST).describe("public tests: shown to the model, used to revise"),
  hidden_tests: z
    .array(TestSpec)
    .max(MAX_TESTS_PER_REQUEST)
    .default([])
    .describe("never shown to the model, never streamed: only the final answer is run against them"),
});
export type Problem = z.infer<typeof Problem>;

export const SolveTrace = z.strictObject({
  format: TraceFormat.default("concise"),
  budget: z.int().min(200).max(200_000).default(4_000).describe("characters of test feedback per attempt in a revision prompt"),
  max_events: z.int().min(100).max(1_000_000).default(10_000),
  repr_limit: z.int().min(16).max(2_000).default(80),
});

export const SolveRequest = z.strictObject({
  problem: Problem,
  strategy: z.enum(["sequential"]).default("sequential"),
  n: z.int().min(1).max(64).default(8).describe("chains (programs sampled per round)"),
  rounds: z.int().min(1).max(10).default(4),
  temperature: z.number().min(0).max(2).default(0.7),
  max_tokens: z.int().min(16).max(65_536).default(2_048),
  model: z.string().min(1).max(200).optional().describe("a model name the configured endpoint serves"),
  context: z.enum(["chain", "all"]).default("chain").describe("a revision sees its own chain's attempts, or every chain's"),
  trace: SolveTrace.prefault({}),
  limits: Limits.prefault({}),
  deadline_ms: z.int().min(1_000).max(3_600_000).default(600_000),
  stream: z.boolean().default(false).describe("Server-Sent Events instead of one JSON response"),
  on_disconnect: z.enum(["cancel", "continue"]).default("cancel"),
});
export type SolveRequest = z.infer<typeof SolveRequest>;

export const Usage = z.object({
  llm_calls: z.int(),
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  executions: z.int(),
  wall_ms: z.number(),
});
export type Usage = z.infer<typeof Usage>;

export const CandidateStatus = z.enum(["passed", "failed", "error", "no_code"]);
export type CandidateStatus = z.infer<typeof CandidateStatus>;

export const Solution = z.object({
  candidate: z.string(),
  round: z.int(),
  chain: z.int().nullable().describe("null: the given program (repair mode)"),
  code: z.string(),
  passed: z.int(),
  total: z.int(),
});
export type Solution = z.infer<typeof Solution>;

export const HiddenResult = z.object({ passed: z.int(), total: z.int() });

export const RoundSummary = z.object({
  round: z.int(),
  solved: z.boolean(),
  candidates: z.array(
    z.object({
      candidate: z.string(),
      chain: z.int().nullable(),
      status: CandidateStatus,
      passed: z.int(),
      total: z.int(),
    }),
  ),
});
export type RoundSummary = z.infer<typeof RoundSummary>;

export const RunError = z.object({ code: z.string(), stage: z.string(), message: z.string() });

export const SolveResult = z.object({
  run_id: z.string(),
  status: z.enum(["solved", "unsolved", "failed"]),
  stopped: z.enum(["solved", "rounds", "deadline", "error", "cancelled"]),
  solution: Solution.nullable().describe("when unsolved, the best program by the ETA order"),
  hidden: HiddenResult.nullable(),
  rounds: z.array(RoundSummary),
  usage: Usage,
  error: RunError.optional(),
});
export type SolveResult = z.infer<typeof SolveResult>;
