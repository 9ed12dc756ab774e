/**
 * The state of one run that every strategy shares: the request, its signal
 * and deadline, the public tests, the chains and every candidate so far,
 * the round summaries, usage, and the one place a program is executed and
 * judged against the public tests (each distinct program once per run).
 */
import { setMaxListeners } from "node:events";

import { compareEta, etaStanding, type CandidateScorer, type EtaStanding } from "../judge/index.ts";
import { addUsage, NO_USAGE, type Attempt, type LanguageModel, type Policy, type ToolAgent, type PolicyProblem, type ProposalSource, type ProposedEdit, type TokenUsage } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import { PolicyAbortedError, PolicyError, TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { Prompts } from "../shared/prompts.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { ExecutionReport, Limits, TestSpec, TraceCapture } from "../shared/schema/execution.ts";
import { buildJob } from "../shared/schema/requests.ts";
import type { CandidateStatus, RoundSummary, Usage } from "../shared/schema/solve.ts";
import { diagnostics } from "../trace/index.ts";
import { publicTests } from "./public-tests.ts";
import type { RunRequest } from "./resolve.ts";

export interface ScalingDependencies {
  /** Proposes each chain's programs. */
  readonly policy: Policy;
  /** The judge's and input writer's model, when one is configured (selection only). */
  readonly model?: LanguageModel | undefined;
  readonly executor: Executor;
  readonly prompts: Prompts;
  readonly logger: Logger;
  /** The reward model, when one is loaded (judge.method "reward" / "combined", unsolved answers). */
  readonly scorer?: CandidateScorer | undefined;
  /** The tool-calling agent of strategy "agent", when a model is configured. */
  readonly agent?: ToolAgent | undefined;
}

export interface RunInput {
  readonly runId: string;
  readonly request: RunRequest;
  /** Aborted when the run is cancelled (client gone, server stopping). */
  readonly signal: AbortSignal;
}

export interface Candidate {
  readonly id: string;
  readonly round: number;
  readonly chain: number | null;
  readonly code: string | null;
  /** The id of the candidate this program was made from (a revision's or an edit's base), null for a fresh sample. */
  readonly parent: string | null;
  readonly source: ProposalSource;
  readonly description: string;
  readonly edit?: ProposedEdit | undefined;
  report: ExecutionReport | undefined;
  standing: EtaStanding;
  feedback: string;
}

export interface Chain {
  readonly index: number;
  readonly attempts: Attempt[];
  /** Hybrid: the chain's program passed every public test, it stops revising. */
  passing: Candidate | undefined;
  latest: Candidate | undefined;
}

export const NO_CODE_FEEDBACK = "The reply contained no program: give the complete program in a single code block.";

export function candidateStatus(candidate: Candidate): CandidateStatus {
  if (candidate.code === null) return "no_code";
  if (candidate.report === undefined || candidate.report.status === "error") return "error";
  return candidate.report.status === "passed" ? "passed" : "failed";
}

/** Usage as the API reports it. */
export function usageOf(tokens: TokenUsage, executions: number, wallMs: number): Usage {
  return {
    llm_calls: tokens.calls,
    prompt_tokens: tokens.promptTokens,
    completion_tokens: tokens.completionTokens,
    executions,
    wall_ms: Math.round(wallMs),
  };
}

/** How much slower than the given program an edit of it may be, per test and in all (a fix is rarely slower than the bug). */
const TRIAL_SLOWDOWN = 5;
const TRIAL_MIN_TIMEOUT_MS = 200;
/** When the given program finished no test (it loops): 250 ms per test, and one timeout ends a trial. */
const TRIAL_TIMEOUT_UNKNOWN_MS = 250;

/**
 * Limits for edits of the given program: 5× its slowest finished test per
 * test (at least 200 ms), 5× its total in all, never more than the
 * request's; a trial's budget leaves room for one timeout, not one per test.
 */
export function trialLimitsFrom(limits: Limits, given: ExecutionReport): Limits {
  const finished = given.tests.flatMap((test) => (test.duration_ms === null || test.status === "timeout" ? [] : [test.duration_ms]));
  const timeout = finished.length === 0 ? TRIAL_TIMEOUT_UNKNOWN_MS : Math.max(TRIAL_MIN_TIMEOUT_MS, Math.ceil(TRIAL_SLOWDOWN * Math.max(...finished)) + 100);
  const timeoutMs = Math.min(limits.timeout_ms, timeout);
  const total = Math.max(timeoutMs + 200, Math.ceil(TRIAL_SLOWDOWN * finished.reduce((sum, duration) => sum + duration, 0)) + 500);
  return { ...limits, timeout_ms: timeoutMs, total_ms: Math.max(100, Math.min(limits.total_ms, total)) };
}

export class RunContext {
  readonly request: RunRequest;
  readonly deps: ScalingDependencies;
  /** Aborted when the run is cancelled or its deadline passes. */
  readonly signal: AbortSignal;
  readonly chains: Chain[];
  readonly candidates: Candidate[] = [];
  readonly rounds: RoundSummary[] = [];
  /** Public tests: the given ones and, with `doctests`, the prompt's examples. */
  readonly tests: TestSpec[];
  private readonly deadline: AbortSignal;
  private readonly startedAt = performance.now();
  /** The same program is run once per run and limits (the public tests do not change; a mixed run's model programs keep the request's limits, its edits trial ones). */
  private readonly executions = new Map<Limits, Map<string, Promise<ExecutionReport>>>();
  /** The limits candidates run with: the request's, or (timesFromGiven) ones taken from the given program's times. */
  private trialLimits: Limits;
  private tokens: TokenUsage = NO_USAGE;
  private executionCount = 0;
  /** What the model endpoint last failed with: a run stopped at its deadline says it (e.g. rate limited). */
  private lastModelFailure: PolicyError | undefined;

  constructor(input: RunInput, deps: ScalingDependencies) {
    this.request = input.request;
    this.deps = deps;
    this.deadline = AbortSignal.timeout(input.request.deadline_ms);
    this.signal = AbortSignal.any([input.signal, this.deadline]);
    // Every model request and sandbox job of the run listens to its signal.
    setMaxListeners(0, this.signal);
    this.chains = Array.from({ length: input.request.n }, (_, index) => ({ index, attempts: [], passing: undefined, latest: undefined }));
    this.tests = publicTests(input.request.problem);
    this.trialLimits = input.request.limits;
  }

  get deadlinePassed(): boolean {
    return this.deadline.aborted;
  }

  get problem(): PolicyProblem {
    const problem = this.request.problem;
    return { language: problem.language, prompt: problem.prompt, entryPoint: problem.entry_point, tests: this.tests, limits: this.trialLimits };
  }

  /** Counts a sandbox job run outside the run's own execution path (an agent's tool). */
  countExecution(): void {
    this.executionCount += 1;
  }

  addUsage(usage: TokenUsage, executions = 0): void {
    this.tokens = addUsage(this.tokens, usage);
    this.executionCount += executions;
  }

  usageSoFar(): Usage {
    return usageOf(this.tokens, this.executionCount, performance.now() - this.startedAt);
  }

  noteModelFailure(error: unknown): void {
    if (error instanceof PolicyError) this.lastModelFailure = error;
    else if (error instanceof PolicyAbortedError && error.lastFailure !== undefined) this.lastModelFailure = error.lastFailure;
  }

  /** Why a run reached its deadline without a program. */
  deadlineError(): TracefixError {
    const failure = this.lastModelFailure;
    const deadline = this.request.deadline_ms;
    if (failure === undefined) return new TracefixError("deadline_exceeded", "scaling", `no program was run within deadline_ms (${deadline} ms)`);
    return new TracefixError(
      "deadline_exceeded",
      "scaling",
      `no program was run within deadline_ms (${deadline} ms): the model endpoint kept failing (${failure.code}: ${failure.message})`,
      { details: { last_model_error: failure.code } },
    );
  }

  /** Chains still revising: all of them, except (hybrid) those whose program passes. */
  active(): Chain[] {
    return this.chains.filter((chain) => chain.passing === undefined);
  }

  /**
   * A job of `code` against `tests`; traced jobs re-run one failing test for
   * the diagnostics. `capture` overrides the trace settings (an agent's
   * trace of one test, its probe).
   */
  job(code: string, tests: readonly TestSpec[], traced: boolean, limits: Limits = this.trialLimits, capture: Partial<TraceCapture> = {}): ReturnType<typeof buildJob> {
    const { problem, trace } = this.request;
    return buildJob({
      language: problem.language,
      code,
      entryPoint: problem.entry_point,
      tests,
      trace: { ...trace, mode: traced ? "failing" : "none", max_tests: 1, ...capture },
      limits,
    });
  }

  /** `code` on the public tests (failing ones traced unless the policy traces itself), once per run: a second call gets the first run's report. */
  executePublic(code: string, signal: AbortSignal, limits: Limits = this.trialLimits): Promise<ExecutionReport> {
    let byCode = this.executions.get(limits);
    if (byCode === undefined) {
      byCode = new Map();
      this.executions.set(limits, byCode);
    }
    let pending = byCode.get(code);
    if (pending === undefined) {
      this.executionCount += 1;
      // A policy that does not read traces (the edit search traces what it edits) has its programs run untraced.
      pending = this.deps.executor.execute(this.job(code, this.tests, this.deps.policy.readsTraces !== false, limits), { signal });
      byCode.set(code, pending);
      // A cancelled execution must not be reused by a later round.
      const cached = byCode;
      pending.catch(() => cached.delete(code));
    }
    return pending;
  }

  /** Runs a candidate on the public tests; returns its `candidate.executed` event. */
  async evaluate(candidate: Candidate, signal: AbortSignal): Promise<RunEventPayload> {
    if (candidate.code !== null) {
      // The trial limits fit edits of the given program; a model's program may be another algorithm, and keeps the request's.
      candidate.report = await this.executePublic(candidate.code, signal, candidate.source === "llm" ? this.request.limits : this.trialLimits);
      if (candidate.source === "given" && this.deps.policy.timesFromGiven === true) this.trialLimits = trialLimitsFrom(this.request.limits, candidate.report);
      candidate.standing = etaStanding(candidate.report);
      candidate.feedback = candidate.report.status === "passed" ? "All tests passed." : this.feedbackFor(candidate.code, candidate.report);
    }
    const report = candidate.report;
    return {
      type: "candidate.executed",
      round: candidate.round,
      chain: candidate.chain,
      candidate: candidate.id,
      status: candidateStatus(candidate),
      passed: report?.passed ?? 0,
      total: report?.total ?? this.tests.length,
      tests: (report?.tests ?? []).map((test) => ({ index: test.index, status: test.status })),
      steps: candidate.standing.steps,
      feedback: candidate.feedback,
    };
  }

  /** The diagnostics of a run of `code` on the public tests, in the request's trace format and budget. */
  feedbackFor(code: string, report: ExecutionReport): string {
    const { problem, trace } = this.request;
    return diagnostics(code, this.tests, report, { format: trace.format, budget: trace.budget, entryPoint: problem.entry_point, language: problem.language });
  }

  summarize(round: number, candidates: readonly Candidate[], solved: boolean): void {
    this.rounds.push({
      round,
      solved,
      candidates: candidates.map((candidate) => ({
        candidate: candidate.id,
        chain: candidate.chain,
        status: candidateStatus(candidate),
        passed: candidate.report?.passed ?? 0,
        total: candidate.report?.total ?? this.tests.length,
      })),
    });
  }

  /** The programs run so far, best first by the ETA order (stable: earlier first among equals). */
  ranked(): Candidate[] {
    const programs = this.candidates.filter((candidate) => candidate.code !== null && candidate.report !== undefined);
    return programs.sort((left, right) => compareEta(left.standing, right.standing));
  }

  /** The best program so far by the ETA order. */
  best(): Candidate | undefined {
    return this.ranked()[0];
  }

  /**
   * The answer of an unsolved run: by the reward model when one is loaded
   * (ties by the ETA order), else by the ETA order.
   */
  async bestUnsolved(): Promise<Candidate | undefined> {
    const scorer = this.deps.scorer;
    const programs = this.candidates.filter((candidate) => candidate.code !== null && candidate.report !== undefined && candidate.report.status !== "error");
    if (scorer === undefined || programs.length < 2 || this.signal.aborted) return this.best();
    try {
      const scores = await scorer.score(programs.map((candidate) => ({ code: candidate.code as string, report: candidate.report as ExecutionReport })));
      const ranked = programs
        .map((candidate, position) => ({ candidate, score: scores[position] ?? -Infinity }))
        .sort((left, right) => right.score - left.score || compareEta(left.candidate.standing, right.candidate.standing));
      return ranked[0]?.candidate;
    } catch (error) {
      this.deps.logger.warn("the reward model could not score; the ETA order decides", { error: String(error) });
      return this.best();
    }
  }

  /** The answer against the hidden tests, untraced; nothing of them is shown. */
  async hidden(answer: Candidate): Promise<{ passed: number; total: number } | null> {
    const tests = this.request.problem.hidden_tests;
    if (tests.length === 0 || answer.code === null) return null;
    try {
      this.executionCount += 1;
      const report = await this.deps.executor.execute(this.job(answer.code, tests, false, this.request.limits), { signal: this.signal });
      return report.status === "error" ? null : { passed: report.passed, total: report.total };
    } catch {
      return null;
    }
  }
}
