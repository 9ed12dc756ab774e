/**
 * The events of a run: streamed as Server-Sent Events (`event:` is `type`,
 * `id:` is `id`, `data:` the whole object as JSON), kept per run for replay.
 * One union, used by the server, the tests and any client. Hidden tests
 * never appear in an event; only the final count of those passed does.
 */
import { z } from "zod";

import { CandidateStatus, HiddenResult, InputsSummary, JudgeSummary, RunError, Solution, Usage } from "./solve.ts";
import { EditOperator } from "./edits.ts";
import { TestStatus } from "./execution.ts";

const envelope = {
  id: z.int().positive().describe("increasing per run, from 1; the SSE id"),
  run_id: z.string(),
  time: z.string().describe("ISO 8601"),
};

export const RunStarted = z.object({
  ...envelope,
  type: z.literal("run.started"),
  strategy: z.string(),
  n: z.int(),
  rounds: z.int(),
  temperature: z.number(),
  model: z.string(),
  policy: z.string().describe("what proposed the programs: llm, repair or mixed (auto resolved)"),
  context: z.string(),
  trace: z.object({ format: z.string(), budget: z.int() }),
  deadline_ms: z.int(),
  problem: z.object({
    prompt: z.string().describe("the task as the client sent it (the prompt of the exported preference pairs)"),
    language: z.string(),
    entry_point: z.string().nullable(),
    public_tests: z.int(),
    hidden_tests: z.int(),
    repair: z.boolean(),
  }),
});

export const RoundStarted = z.object({
  ...envelope,
  type: z.literal("round.started"),
  round: z.int(),
  mode: z.enum(["given", "generate", "revise", "agent"]).describe("agent: the agents' whole session (strategy agent has one round)"),
  chains: z.array(z.int()),
});

export const CandidateGenerated = z.object({
  ...envelope,
  type: z.literal("candidate.generated"),
  round: z.int(),
  chain: z.int().nullable(),
  candidate: z.string(),
  code: z.string().nullable(),
  parent: z.string().nullable().describe("the candidate this program was made from (a revision's or an edit's base; a diff's left side), null for a fresh sample"),
  source: z.enum(["llm", "edit", "given"]).describe("where the program came from: a model's sample, an edit of an earlier program, the client's own"),
  description: z.string().describe("what the program is, in one line"),
  reasoning: z.string(),
  no_code: z.boolean(),
  finish_reason: z.string().optional(),
  edit: z
    .object({
      line: z.int(),
      operator: EditOperator,
      before: z.string(),
      after: z.string(),
      suspiciousness: z.number().describe("fault localisation's score of the edited line, 0..1"),
      depth: z.int().describe("edits from the given program (1: a single edit)"),
    })
    .optional()
    .describe("source `edit`: the edit that made this program from an earlier one"),
});

export const CandidateExecuted = z.object({
  ...envelope,
  type: z.literal("candidate.executed"),
  round: z.int(),
  chain: z.int().nullable(),
  candidate: z.string(),
  status: CandidateStatus,
  passed: z.int(),
  total: z.int(),
  tests: z.array(z.object({ index: z.int(), status: TestStatus })),
  steps: z.int().describe("steps the failing public tests ran before failing: the ETA tie-break between two programs that pass as many"),
  feedback: z.string().optional().describe("the diagnostics the next revision prompt carries"),
});

export const InputsSynthesized = z.object({
  ...envelope,
  type: z.literal("inputs.synthesized"),
  // Before anything ran: how many inputs were rejected is known only later (in the result).
  ...InputsSummary.omit({ rejected: true }).shape,
});

export const JudgeCompleted = z.object({
  ...envelope,
  type: z.literal("judge.completed"),
  ...JudgeSummary.shape,
  ranking: z.array(z.object({ candidate: z.string(), score: z.number(), cluster: z.int().nullable(), reasons: z.array(z.string()) })),
});

export const PolicyLocalized = z.object({
  ...envelope,
  type: z.literal("policy.localized"),
  round: z.int(),
  lines: z
    .array(z.object({ line: z.int(), suspiciousness: z.number() }))
    .describe("fault localisation of the program(s) the repair search edits this round, most suspicious first (at most 50)"),
});

export const RoundCompleted = z.object({
  ...envelope,
  type: z.literal("round.completed"),
  round: z.int(),
  solved: z.boolean(),
  best: z.object({ candidate: z.string(), passed: z.int(), total: z.int() }).nullable(),
  edits_tried: z.int().describe("programs made by edits that were run this round"),
});

export const ToolCalled = z.object({
  ...envelope,
  type: z.literal("tool.called"),
  agent: z.int().describe("the agent's index (its chain)"),
  call: z.int().describe("the agent's tool calls, from 1"),
  tool: z.string().describe("the tool the model named (one of run_tests, trace_test, inspect, submit, or an unknown name it is told of)"),
  arguments: z.record(z.string(), z.unknown()).describe("as the model sent them; strings past 16,000 characters cut and marked"),
});

export const ToolCompleted = z.object({
  ...envelope,
  type: z.literal("tool.completed"),
  agent: z.int(),
  call: z.int(),
  tool: z.string(),
  status: z.enum(["ok", "error", "timeout", "refused"]).describe("error: the tool failed and said why to the model; refused: past the agent's budget or unknown"),
  duration_ms: z.number(),
  result: z.string().describe("what the model was told (cut past 16,000 characters)"),
});

export const RunCompleted = z.object({
  ...envelope,
  type: z.literal("run.completed"),
  status: z.enum(["solved", "unsolved"]),
  stopped: z.enum(["solved", "rounds", "deadline"]),
  solution: Solution.nullable(),
  hidden: HiddenResult.nullable(),
  usage: Usage,
});

export const RunFailed = z.object({
  ...envelope,
  type: z.literal("run.failed"),
  error: RunError,
  usage: Usage,
});

export const RunEvent = z.discriminatedUnion("type", [
  RunStarted,
  RoundStarted,
  CandidateGenerated,
  PolicyLocalized,
  CandidateExecuted,
  InputsSynthesized,
  JudgeCompleted,
  RoundCompleted,
  ToolCalled,
  ToolCompleted,
  RunCompleted,
  RunFailed,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent["type"];
/** An event as a strategy yields it: the run stamps id, run_id and time. */
export type RunEventPayload = RunEvent extends infer Event ? (Event extends RunEvent ? Omit<Event, "id" | "run_id" | "time"> : never) : never;

export const TERMINAL_EVENTS: readonly RunEventType[] = ["run.completed", "run.failed"];
