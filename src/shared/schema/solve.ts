/** POST /v1/solve: the problem, the scaling settings, and what the run returns. */
import { z } from "zod";

import { ERROR_CODES } from "../errors.ts";

import { POLICY_NAMES, STRATEGY_NAMES } from "./names.ts";
import { checkTestsForLanguage, Language, Limits, MAX_CODE_CHARS, MAX_TESTS_PER_REQUEST, TestSpec, TraceFormat } from "./execution.ts";

export { POLICY_NAMES, STRATEGY_NAMES, type PolicyName, type StrategyName } from "./names.ts";

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const Problem = z.strictObject({
  language: Language.default("python"),
  prompt: z.string().min(1).max(200_000).describe("the task, in words (and signature)"),
  entry_point: z.string().regex(identifier, "must be an identifier").max(200).optional(),
  code: z.string().min(1).max(MAX_CODE_CHARS).optional().describe("a program to repair: round 1 runs it instead of sampling"),
  tests: z.array(TestSpec).max(MAX_TESTS_PER_REQUEST).default([]).describe("public tests: shown to the model, used to revise"),
  doctests: z.boolean().default(false).describe("also turn the examples written in `prompt` (>>> f(x) and similar) into public tests"),
  hidden_tests: z
    .array(TestSpec)
    .max(MAX_TESTS_PER_REQUEST)
    .default([])
    .describe("never shown to the model, never streamed: only the final answer is run against them"),
}).superRefine((problem, context) => {
  checkTestsForLanguage(problem.language, problem.tests, context, ["tests"]);
  checkTestsForLanguage(problem.language, problem.hidden_tests, context, ["hidden_tests"]);
  if (problem.language === "javascript" && problem.doctests) {
    context.addIssue({ code: "custom", path: ["doctests"], message: "doctests are Python's `>>>` examples; give JavaScript examples as tests" });
  }
});
export type Problem = z.infer<typeof Problem>;

export const JudgeSettings = z.strictObject({
  method: z.enum(["agreement", "llm", "reward", "combined"]).default("agreement"),
  mode: z.enum(["pairwise", "listwise"]).default("pairwise").describe("how the LLM judge compares"),
  votes: z.int().min(1).max(9).default(1).describe("repeated judgements, tallied"),
  max_pairs: z.int().min(1).max(200).default(16).describe("pairwise comparisons at most (each asked in both orders)"),
  temperature: z.number().min(0).max(2).default(0.2),
  max_tokens: z.int().min(16).max(16_384).default(1_024),
});
export type JudgeSettings = z.infer<typeof JudgeSettings>;

export const InputSettings = z.strictObject({
  mutations: z.boolean().default(true).describe("inputs made by mutating the public tests' arguments"),
  signature: z.boolean().default(true).describe("when no public test has arguments: inputs made from the entry point's signature (type hints, parameter names) and the description"),
  llm: z.boolean().default(true).describe("inputs written by the model (when one is configured)"),
  max: z.int().min(0).max(200).default(24).describe("synthesized inputs at most"),
});
export type InputSettings = z.infer<typeof InputSettings>;

export const SolveTrace = z.strictObject({
  format: TraceFormat.default("concise"),
  budget: z.int().min(200).max(200_000).default(4_000).describe("characters of test feedback per attempt in a revision prompt"),
  max_events: z.int().min(100).max(1_000_000).default(10_000),
  repr_limit: z.int().min(16).max(2_000).default(80),
});

export const AgentSettings = z.strictObject({
  tool_calls_per_round: z
    .int()
    .min(1)
    .max(50)
    .default(6)
    .describe("each agent may make `rounds` × this many tool calls (submit not counted); past it, tools answer that the budget is spent"),
  tool_timeout_ms: z.int().min(100).max(120_000).default(30_000).describe("one tool call at most; a call past it answers the model with an error"),
  stream: z.boolean().default(false).describe("ask the model for streamed replies (tool calls arrive as deltas) instead of whole ones"),
});
export type AgentSettings = z.infer<typeof AgentSettings>;

/** Chains a model may be asked for per round; the edit search takes more (its programs are cheap). */
export const MAX_MODEL_CHAINS = 64;
export const MAX_EDIT_CHAINS = 256;
export const DEFAULT_CHAINS = { llm: 8, repair: 64, mixed: 8 } as const;

export const SolveRequest = z.strictObject({
  problem: Problem,
  strategy: z
    .enum(STRATEGY_NAMES)
    .default("sequential")
    .describe(
      "sequential: revise until one passes; parallel: N programs, then selection; hybrid: revise N chains, then select among them; agent: N model-driven agents run, trace and inspect code through tools, then select among their submissions",
    ),
  policy: z.enum(POLICY_NAMES).default("auto").describe("what proposes the programs: auto (the model when configured, else repair), llm, repair (the built-in edit search), mixed (each round the edit search, then the model for the chains it did not fix)"),
  n: z
    .int()
    .min(1)
    .max(MAX_EDIT_CHAINS)
    .optional()
    .describe(`chains (programs per round): default ${DEFAULT_CHAINS.llm} with a model (also mixed), ${DEFAULT_CHAINS.repair} with the edit search; at most ${MAX_MODEL_CHAINS} unless policy is repair`),
  rounds: z.int().min(1).max(10).default(4),
  temperature: z.number().min(0).max(2).default(0.7),
  max_tokens: z.int().min(16).max(65_536).default(2_048),
  model: z.string().min(1).max(200).optional().describe("a model name the configured endpoint serves"),
  context: z.enum(["chain", "all"]).default("chain").describe("a revision sees its own chain's attempts, or every chain's"),
  trace: SolveTrace.prefault({}),
  limits: Limits.prefault({}),
  deadline_ms: z.int().min(1_000).max(3_600_000).default(600_000),
  judge: JudgeSettings.prefault({}).describe("parallel and hybrid: how the answer is selected"),
  inputs: InputSettings.prefault({}).describe("parallel and hybrid: the synthesized inputs candidates are compared on"),
  agent: AgentSettings.prefault({}).describe("strategy agent: each agent's tool budget and timeouts"),
  stream: z.boolean().default(false).describe("Server-Sent Events instead of one JSON response"),
  on_disconnect: z.enum(["cancel", "continue"]).default("cancel"),
}).superRefine((request, context) => {
  if (request.n !== undefined && request.n > MAX_MODEL_CHAINS && request.policy !== "repair") {
    context.addIssue({ code: "custom", path: ["n"], message: `at most ${MAX_MODEL_CHAINS} chains unless policy is "repair"` });
  }
  if (request.strategy === "agent" && (request.policy === "repair" || request.policy === "mixed")) {
    context.addIssue({ code: "custom", path: ["policy"], message: 'the agent strategy is driven by a language model: policy "auto" or "llm"' });
  }
  // Round 1 of a repair is the given program itself, and parallel has no round after it.
  if (request.strategy === "parallel" && request.problem.code !== undefined) {
    context.addIssue({ code: "custom", path: ["strategy"], message: 'parallel samples n programs once and never revises: to repair problem.code use "sequential" (the default) or "hybrid"' });
  }
  if (request.problem.tests.length === 0 && !request.problem.doctests) {
    context.addIssue({ code: "custom", path: ["problem", "tests"], message: "give public tests (or set problem.doctests to take them from the prompt)" });
  }
});
export type SolveRequest = z.infer<typeof SolveRequest>;

export const SelectRequest = z.strictObject({
  problem: Problem,
  candidates: z.array(z.string().max(MAX_CODE_CHARS)).min(1).max(128).describe("programs to rank"),
  judge: JudgeSettings.prefault({}),
  inputs: InputSettings.prefault({}),
  trace: SolveTrace.prefault({}),
  limits: Limits.prefault({}),
  model: z.string().min(1).max(200).optional(),
});
export type SelectRequest = z.infer<typeof SelectRequest>;

export const RankedCandidate = z.object({
  index: z.int().describe("into the request's candidates"),
  score: z.number(),
  cluster: z.int().nullable().describe("execution-agreement cluster, 0 = the best; null: no program"),
  public: z.object({ passed: z.int(), total: z.int() }),
  scores: z.object({ public: z.number(), agreement: z.number(), llm: z.number().optional(), reward: z.number().optional() }),
  reasons: z.array(z.string()),
});
export type RankedCandidate = z.infer<typeof RankedCandidate>;

export const JudgeSummary = z.object({
  method: z.string(),
  asked: z.int().describe("LLM judge questions asked"),
  abstentions: z.int(),
  failures: z.int(),
  fallback: z.string().nullable().describe("why another method decided, when the requested one could not"),
});

export const InputsSummary = z.object({
  total: z.int(),
  from_model: z.int(),
  from_mutations: z.int(),
  from_signature: z.int().describe("inputs made from the signature, when the public tests had no arguments to mutate"),
  dropped: z.int().describe("model-written inputs that were not valid argument lists"),
  rejected: z.int().describe("inputs most candidates raised on (likely outside the problem's domain), left out of the comparison"),
});

export const Usage = z.object({
  llm_calls: z.int().describe("requests sent to the model endpoint, failed attempts included"),
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  executions: z.int().describe("sandbox jobs: each distinct program once on the public tests (a program proposed twice runs once), plus the answer's hidden-test run and selection re-runs"),
  wall_ms: z.number(),
});
export const SelectResult = z.object({
  ranking: z.array(RankedCandidate).describe("best first"),
  inputs: InputsSummary,
  judge: JudgeSummary,
  usage: Usage,
});
export type SelectResult = z.infer<typeof SelectResult>;

export type Usage = z.infer<typeof Usage>;

export const CandidateStatus = z.enum(["passed", "failed", "error", "no_code"]);
export type CandidateStatus = z.infer<typeof CandidateStatus>;

export const ChosenBy = z.enum(["first_passing", "selection", "only_program", "best_so_far"]);
export type ChosenBy = z.infer<typeof ChosenBy>;

export const Solution = z.object({
  candidate: z.string(),
  round: z.int(),
  chain: z.int().nullable().describe("null: the given program (repair mode)"),
  code: z.string(),
  passed: z.int(),
  total: z.int(),
  chosen_by: ChosenBy.optional().describe(
    "why this program answers: first_passing, the first program proposed (in the policy's order) that passes every public test; selection, ranked first among the final programs (judge.completed says by what); only_program, the one distinct program the agents gave; best_so_far, none passed: the best by the reward model, else the ETA order",
  ),
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

export const RunError = z.object({ code: z.enum(ERROR_CODES), stage: z.string(), message: z.string() });
export type RunError = z.infer<typeof RunError>;

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
