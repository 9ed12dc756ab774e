/**
 * The scaling strategies (DESIGN.md, "Scaling strategies").
 *
 * Sequential: N chains. Round 1
 * samples N programs (or runs the problem's own program: repair); every
 * chain whose program fails gets its diagnostics — the failing tests and the
 * trace rendering — appended, and is revised in the next round. The run stops
 * at the first program that passes every public test, or after R rounds,
 * with at most N×R programs. Unsolved, the best program by the ETA order is
 * the answer. Only the answer ever meets the hidden tests.
 *
 * Hybrid: the same revision loop, except that each chain stops when its
 * program passes and the others go on; then a selection (selection.ts) among
 * every chain's final program. Parallel: one round of N programs, then the
 * selection, which runs each program once on the public tests and the
 * synthesized inputs.
 *
 * An async generator: it yields events as they happen (generations and
 * executions run concurrently) and returns the result.
 */
import { setMaxListeners } from "node:events";

import { compareEta, etaStanding, type EtaStanding } from "../judge/index.ts";
import { addUsage, extractCode, NO_USAGE, usageOfFailure, type ChatMessage, type LanguageModel, type TokenUsage } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import { AbortedError, PolicyAbortedError, PolicyError, TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { ExecutionJob, ExecutionReport, TestSpec } from "../shared/schema/execution.ts";
import type { CandidateStatus, RoundSummary, SolveRequest, SolveResult, Solution, Usage } from "../shared/schema/solve.ts";
import { diagnostics, entryPointInstruction, testsText } from "../trace/index.ts";
import { EventChannel } from "./channel.ts";
import { publicTests } from "./public-tests.ts";
import { Selection, type SelectionCandidate } from "./selection.ts";
import type { CandidateScorer } from "../judge/index.ts";
import type { Prompts } from "../shared/prompts.ts";

export interface ScalingDependencies {
  readonly model: LanguageModel;
  readonly executor: Executor;
  readonly prompts: Prompts;
  readonly logger: Logger;
  /** The reward model, when one is loaded (judge.method "reward" / "combined"). */
  readonly scorer?: CandidateScorer | undefined;
}

export interface RunInput {
  readonly runId: string;
  readonly request: SolveRequest;
  /** Aborted when the run is cancelled (client gone, server stopping). */
  readonly signal: AbortSignal;
}

interface Attempt {
  readonly round: number;
  readonly code: string | null;
  readonly feedback: string;
}

interface Chain {
  readonly index: number;
  readonly attempts: Attempt[];
  /** Hybrid: the chain's program passed every public test, it stops revising. */
  passing: Candidate | undefined;
  latest: Candidate | undefined;
}

interface Candidate {
  readonly id: string;
  readonly round: number;
  readonly chain: number | null;
  readonly code: string | null;
  report: ExecutionReport | undefined;
  standing: EtaStanding;
  feedback: string;
}

const NO_CODE_FEEDBACK = "The reply contained no program: give the complete program in a single code block.";

function candidateStatus(candidate: Candidate): CandidateStatus {
  if (candidate.code === null) return "no_code";
  if (candidate.report === undefined || candidate.report.status === "error") return "error";
  return candidate.report.status === "passed" ? "passed" : "failed";
}

class ScalingRun {
  private readonly request: SolveRequest;
  private readonly deps: ScalingDependencies;
  private readonly signal: AbortSignal;
  private readonly deadline: AbortSignal;
  private readonly startedAt = performance.now();
  private readonly chains: Chain[];
  private readonly candidates: Candidate[] = [];
  private readonly rounds: RoundSummary[] = [];
  /** The same program is run once per run (the public tests do not change). */
  private readonly executions = new Map<string, Promise<ExecutionReport>>();
  private usage: TokenUsage = NO_USAGE;
  private executionCount = 0;
  /** What the endpoint last failed with: a run stopped at its deadline says it (e.g. rate limited). */
  private lastModelFailure: PolicyError | undefined;
  /** Public tests: the given ones and, with `doctests`, the prompt's examples. */
  private readonly tests: TestSpec[];

  constructor(input: RunInput, deps: ScalingDependencies) {
    this.request = input.request;
    this.deps = deps;
    this.deadline = AbortSignal.timeout(input.request.deadline_ms);
    this.signal = AbortSignal.any([input.signal, this.deadline]);
    // Every model request and sandbox job of the run listens to its signal.
    setMaxListeners(0, this.signal);
    this.chains = Array.from({ length: input.request.n }, (_, index) => ({ index, attempts: [], passing: undefined, latest: undefined }));
    this.tests = publicTests(input.request.problem);
  }

  usageSoFar(): Usage {
    return {
      llm_calls: this.usage.calls,
      prompt_tokens: this.usage.promptTokens,
      completion_tokens: this.usage.completionTokens,
      executions: this.executionCount,
      wall_ms: Math.round(performance.now() - this.startedAt),
    };
  }

  get deadlinePassed(): boolean {
    return this.deadline.aborted;
  }

  private noteModelFailure(error: unknown): void {
    if (error instanceof PolicyError) this.lastModelFailure = error;
    else if (error instanceof PolicyAbortedError && error.lastFailure !== undefined) this.lastModelFailure = error.lastFailure;
  }

  /** Why a run reached its deadline without a program. */
  private deadlineError(): TracefixError {
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

  // -- prompts --------------------------------------------------------------
  private messages(user: string): ChatMessage[] {
    const language = this.request.problem.language;
    return [
      { role: "system", content: this.deps.prompts.system.render({ language }) },
      { role: "user", content: user },
    ];
  }

  private problemValues(): Record<string, string> {
    const problem = this.request.problem;
    return {
      language: problem.language,
      problem: problem.prompt.trim(),
      entry_point_instruction: entryPointInstruction(problem),
      tests: testsText(this.tests, problem.entry_point, problem.language),
    };
  }

  private attemptText(attempt: Attempt, label: string): string {
    return this.deps.prompts.reviseRound.render({
      label,
      language: this.request.problem.language,
      code: (attempt.code ?? "(no code)").replace(/\n$/, ""),
      feedback: attempt.feedback,
    });
  }

  private revisePrompt(chain: Chain): string {
    const blocks = chain.attempts.map((attempt) => this.attemptText(attempt, `Round ${attempt.round}`));
    if (this.request.context === "all") {
      // Every other chain's latest attempt, after this chain's own history.
      for (const other of this.chains) {
        if (other === chain) continue;
        const latest = other.attempts.at(-1);
        if (latest === undefined || (chain.attempts.at(-1)?.code === latest.code && latest.code !== null)) continue;
        blocks.push(this.attemptText(latest, `Round ${latest.round}, another attempt`));
      }
    }
    return this.deps.prompts.revise.render({ ...this.problemValues(), history: blocks.join("\n\n") });
  }

  // -- execution ------------------------------------------------------------
  private job(code: string, tests: readonly TestSpec[], traced: boolean): ExecutionJob {
    const request = this.request;
    return {
      language: request.problem.language,
      code,
      entryPoint: request.problem.entry_point,
      tests,
      trace: {
        mode: traced ? "failing" : "none",
        format: request.trace.format,
        budget: request.trace.budget,
        max_events: request.trace.max_events,
        repr_limit: request.trace.repr_limit,
        // The diagnostics render one failing test with its trace.
        max_tests: 1,
      },
      limits: request.limits,
    };
  }

  private execute(code: string, signal: AbortSignal): Promise<ExecutionReport> {
    let pending = this.executions.get(code);
    if (pending === undefined) {
      this.executionCount += 1;
      pending = this.deps.executor.execute(this.job(code, this.tests, true), { signal });
      this.executions.set(code, pending);
      // A cancelled execution must not be reused by a later round.
      pending.catch(() => this.executions.delete(code));
    }
    return pending;
  }

  /** Runs a candidate, reports it; true when it passes every public test. */
  private async evaluate(candidate: Candidate, channel: EventChannel<RunEventPayload>, signal: AbortSignal): Promise<boolean> {
    if (candidate.code !== null) {
      candidate.report = await this.execute(candidate.code, signal);
      candidate.standing = etaStanding(candidate.report);
      candidate.feedback =
        candidate.report.status === "passed"
          ? "All tests passed."
          : diagnostics(candidate.code, this.tests, candidate.report, {
              format: this.request.trace.format,
              budget: this.request.trace.budget,
              entryPoint: this.request.problem.entry_point,
              language: this.request.problem.language,
            });
    }
    const report = candidate.report;
    channel.push({
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
    });
    return report?.status === "passed";
  }

  private async candidateFrom(
    text: string,
    reasoning: string | undefined,
    finishReason: string | undefined,
    round: number,
    chain: number,
    signal: AbortSignal,
  ): Promise<{ candidate: Candidate; event: RunEventPayload }> {
    const extracted = extractCode(text, this.request.problem.language);
    let code = extracted.code ?? null;
    if (extracted.source === "whole" && code !== null) {
      // An unfenced reply is a program only if it compiles.
      const check = await this.deps.executor.checkSyntax(this.request.problem.language, code, { signal });
      if (!check.ok) code = null;
    }
    const candidate: Candidate = {
      id: `r${round}c${chain}`,
      round,
      chain,
      code,
      report: undefined,
      standing: etaStanding(undefined),
      feedback: code === null ? NO_CODE_FEEDBACK : "",
    };
    const thinking = [reasoning, extracted.reasoning].filter((part): part is string => part !== undefined && part !== "").join("\n\n");
    const event: RunEventPayload = {
      type: "candidate.generated",
      round,
      chain,
      candidate: candidate.id,
      code,
      reasoning: code === null && extracted.source === "whole" ? text : thinking,
      no_code: code === null,
      ...(finishReason === undefined ? {} : { finish_reason: finishReason }),
    };
    return { candidate, event };
  }

  // -- rounds ----------------------------------------------------------------
  /**
   * One round's work: generations (chains with the same prompt share one
   * request with n = their number), each program executed as soon as it
   * exists. Resolves with the first passing candidate, if any.
   */
  private async round(round: number, channel: EventChannel<RunEventPayload>): Promise<Candidate | undefined> {
    const request = this.request;
    const controller = new AbortController();
    const signal = AbortSignal.any([this.signal, controller.signal]);
    setMaxListeners(0, signal);
    let solved: Candidate | undefined;
    const roundCandidates: Candidate[] = [];
    const strategy = request.strategy;
    const consider = async (candidate: Candidate, chain: Chain | undefined): Promise<void> => {
      roundCandidates.push(candidate);
      this.candidates.push(candidate);
      if (chain !== undefined) chain.latest = candidate;
      // Parallel: the selection runs every candidate once, on more inputs.
      if (strategy === "parallel") return;
      try {
        const passes = await this.evaluate(candidate, channel, signal);
        if (!passes) return;
        if (strategy === "hybrid") {
          // This chain is done; the others go on revising.
          for (const owner of chain === undefined ? this.chains : [chain]) owner.passing ??= candidate;
          return;
        }
        if (solved === undefined) {
          solved = candidate;
          controller.abort(); // the first passing program ends the round: the rest is no longer needed
        }
      } catch (error) {
        if (!(error instanceof AbortedError) || !controller.signal.aborted || this.signal.aborted) throw error;
      }
    };

    if (round === 1 && request.problem.code !== undefined) {
      // Repair: the given program is round 1, shared by every chain.
      const candidate: Candidate = {
        id: "r1given",
        round,
        chain: null,
        code: request.problem.code,
        report: undefined,
        standing: etaStanding(undefined),
        feedback: "",
      };
      channel.push({ type: "candidate.generated", round, chain: null, candidate: candidate.id, code: candidate.code, reasoning: "", no_code: false });
      await consider(candidate, undefined);
      for (const chain of this.chains) chain.latest = candidate;
      for (const chain of this.chains) chain.attempts.push({ round, code: candidate.code, feedback: candidate.feedback });
      this.summarize(round, roundCandidates, solved);
      return solved;
    }

    const groups = new Map<string, Chain[]>();
    for (const chain of this.active()) {
      const prompt = round === 1 ? this.deps.prompts.generate.render(this.problemValues()) : this.revisePrompt(chain);
      const group = groups.get(prompt);
      if (group === undefined) groups.set(prompt, [chain]);
      else group.push(chain);
    }
    const failures: unknown[] = [];
    const evaluations: Promise<void>[] = [];
    const attempts = new Map<Chain, Candidate>();
    await Promise.all(
      [...groups.entries()].map(async ([prompt, chains]) => {
        let result;
        try {
          result = await this.deps.model.generate({
            messages: this.messages(prompt),
            n: chains.length,
            temperature: request.temperature,
            maxTokens: request.max_tokens,
            model: request.model,
            signal,
          });
        } catch (error) {
          this.usage = addUsage(this.usage, usageOfFailure(error));
          this.noteModelFailure(error);
          if (controller.signal.aborted && !this.signal.aborted) return; // solved meanwhile
          failures.push(error);
          return;
        }
        this.usage = addUsage(this.usage, result.usage);
        await Promise.all(
          chains.map(async (chain, position) => {
            const completion = result.completions[position];
            try {
              const made = await this.candidateFrom(completion?.text ?? "", completion?.reasoning, completion?.finishReason, round, chain.index, signal);
              attempts.set(chain, made.candidate);
              channel.push(made.event);
              evaluations.push(consider(made.candidate, chain));
            } catch (error) {
              if (controller.signal.aborted && !this.signal.aborted) return; // solved meanwhile
              throw error;
            }
          }),
        );
      }),
    );
    await Promise.all(evaluations);
    if (this.signal.aborted) throw new AbortedError("scaling");
    if (failures.length > 0 && attempts.size === 0) {
      // No chain got a program this round: the endpoint is failing.
      throw failures[0];
    }
    for (const chain of this.active()) {
      const candidate = attempts.get(chain);
      chain.attempts.push(
        candidate === undefined
          ? { round, code: null, feedback: "The model could not be reached for this attempt." }
          : { round, code: candidate.code, feedback: candidate.feedback },
      );
    }
    this.summarize(round, roundCandidates, solved);
    return solved;
  }

  /** Chains still revising: all of them, except (hybrid) those whose program passes. */
  private active(): Chain[] {
    return this.chains.filter((chain) => chain.passing === undefined);
  }

  private summarize(round: number, candidates: readonly Candidate[], solved: Candidate | undefined): void {
    this.rounds.push({
      round,
      solved: solved !== undefined,
      candidates: candidates.map((candidate) => ({
        candidate: candidate.id,
        chain: candidate.chain,
        status: candidateStatus(candidate),
        passed: candidate.report?.passed ?? 0,
        total: candidate.report?.total ?? this.tests.length,
      })),
    });
  }

  /**
   * The answer of an unsolved run: by the reward model when one is loaded
   * (ties by the ETA order), else by the ETA order.
   */
  private async bestUnsolved(): Promise<Candidate | undefined> {
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

  best(): Candidate | undefined {
    const programs = this.candidates.filter((candidate) => candidate.code !== null && candidate.report !== undefined);
    return programs.sort((left, right) => compareEta(left.standing, right.standing))[0];
  }

  // -- the run ----------------------------------------------------------------
  async *run(runId: string): AsyncGenerator<RunEventPayload, SolveResult> {
    const request = this.request;
    const problem = request.problem;
    yield {
      type: "run.started",
      strategy: request.strategy,
      n: request.n,
      rounds: request.rounds,
      temperature: request.temperature,
      model: request.model ?? this.deps.model.description,
      context: request.context,
      trace: { format: request.trace.format, budget: request.trace.budget },
      deadline_ms: request.deadline_ms,
      problem: {
        prompt: problem.prompt,
        language: problem.language,
        entry_point: problem.entry_point ?? null,
        public_tests: problem.tests.length,
        hidden_tests: problem.hidden_tests.length,
        repair: problem.code !== undefined,
      },
    };
    let solved: Candidate | undefined;
    let stopped: SolveResult["stopped"] = "rounds";
    let answer: { candidate: Candidate; passed: number; total: number } | undefined;
    const strategy = request.strategy;
    try {
      const rounds = strategy === "parallel" ? 1 : request.rounds;
      for (let round = 1; round <= rounds && solved === undefined; round++) {
        if (this.active().length === 0) break; // hybrid: every chain passes
        yield {
          type: "round.started",
          round,
          mode: round === 1 ? (problem.code === undefined ? "generate" : "given") : "revise",
          chains: this.active().map((chain) => chain.index),
        };
        const channel = new EventChannel<RunEventPayload>();
        const work = this.round(round, channel);
        for await (const event of channel.drain(work)) yield event;
        solved = await work;
        const best = solved ?? this.best();
        yield {
          type: "round.completed",
          round,
          solved: solved !== undefined || (strategy === "hybrid" && this.active().length === 0),
          best: best === undefined ? null : { candidate: best.id, passed: best.standing.passed, total: best.standing.total },
        };
      }
      if (solved !== undefined) {
        stopped = "solved";
        answer = { candidate: solved, passed: solved.standing.passed, total: solved.standing.total };
      } else if (strategy !== "sequential") {
        answer = yield* this.select();
        if (answer !== undefined && answer.passed === answer.total) stopped = "solved";
      }
    } catch (error) {
      if (!(this.deadlinePassed && (error instanceof AbortedError || this.signal.aborted))) {
        return yield* this.fail(runId, error);
      }
      stopped = "deadline";
    }
    if (answer === undefined) {
      const best = await this.bestUnsolved();
      if (best !== undefined) answer = { candidate: best, passed: best.standing.passed, total: best.standing.total };
    }
    if (answer === undefined || answer.candidate.code === null) {
      return yield* this.fail(
        runId,
        stopped === "deadline"
          ? this.deadlineError()
          : new TracefixError("no_program", "scaling", "the model produced no program in any round"),
      );
    }
    const hidden = stopped === "deadline" ? null : await this.hidden(answer.candidate);
    const chosen = answer.candidate;
    const solution: Solution = {
      candidate: chosen.id,
      round: chosen.round,
      chain: chosen.chain,
      code: chosen.code ?? "",
      passed: answer.passed,
      total: answer.total,
    };
    const status = stopped === "solved" ? "solved" : "unsolved";
    const usage = this.usageSoFar();
    yield { type: "run.completed", status, stopped: stopped === "solved" ? "solved" : stopped, solution, hidden, usage };
    return { run_id: runId, status, stopped, solution, hidden, rounds: this.rounds, usage };
  }

  /**
   * Parallel and hybrid: the selection among the final programs — every
   * candidate (parallel), or each chain's passing or last program (hybrid).
   */
  private async *select(): AsyncGenerator<RunEventPayload, { candidate: Candidate; passed: number; total: number } | undefined> {
    const request = this.request;
    const finals: Candidate[] = [];
    const pool = request.strategy === "parallel" ? this.candidates : this.chains.map((chain) => chain.passing ?? chain.latest);
    for (const candidate of pool) {
      if (candidate !== undefined && !finals.includes(candidate)) finals.push(candidate);
    }
    if (finals.length === 0) return undefined;
    const selection = new Selection(
      { language: request.problem.language, prompt: request.problem.prompt, entryPoint: request.problem.entry_point, tests: this.tests },
      { judge: request.judge, inputs: request.inputs, trace: request.trace, limits: request.limits, model: request.model },
      { executor: this.deps.executor, model: this.deps.model, prompts: this.deps.prompts, scorer: this.deps.scorer, logger: this.deps.logger },
      this.signal,
    );
    const candidates: SelectionCandidate[] = finals.map((candidate) => ({ id: candidate.id, code: candidate.code, round: candidate.round, chain: candidate.chain }));
    const outcome = yield* selection.run(candidates);
    this.usage = addUsage(this.usage, outcome.usage);
    this.executionCount += outcome.executions;
    const winner = outcome.ranking[0];
    if (winner === undefined) return undefined;
    const candidate = finals[winner.index] as Candidate;
    const report = outcome.reports.get(winner.index);
    if (report !== undefined && candidate.report === undefined) {
      candidate.report = report;
      candidate.standing = etaStanding(report);
    }
    return { candidate, passed: winner.public.passed, total: winner.public.total };
  }

  /** The answer against the hidden tests, untraced; nothing of them is shown. */
  private async hidden(answer: Candidate): Promise<{ passed: number; total: number } | null> {
    const tests = this.request.problem.hidden_tests;
    if (tests.length === 0 || answer.code === null) return null;
    try {
      this.executionCount += 1;
      const report = await this.deps.executor.execute(this.job(answer.code, tests, false), { signal: this.signal });
      return report.status === "error" ? null : { passed: report.passed, total: report.total };
    } catch {
      return null;
    }
  }

  private *fail(runId: string, error: unknown): Generator<RunEventPayload, SolveResult> {
    const cancelled = error instanceof AbortedError || (this.signal.aborted && !this.deadlinePassed);
    const problem =
      error instanceof TracefixError
        ? { code: cancelled ? "cancelled" : error.code, stage: error.stage, message: error.message }
        : { code: "internal_error", stage: "scaling", message: String(error) };
    if (cancelled) {
      problem.code = "cancelled";
      problem.message = "the run was cancelled";
    }
    if (!(error instanceof TracefixError) && !cancelled) this.deps.logger.error("run failed", { run_id: runId, error: String(error) });
    const usage = this.usageSoFar();
    yield { type: "run.failed", error: problem, usage };
    return {
      run_id: runId,
      status: "failed",
      stopped: cancelled ? "cancelled" : "error",
      solution: null,
      hidden: null,
      rounds: this.rounds,
      usage,
      error: problem,
    };
  }
}

/** Runs the request's strategy (sequential, parallel or hybrid), yielding its events, returning its result. */
export function runStrategy(input: RunInput, deps: ScalingDependencies): AsyncGenerator<RunEventPayload, SolveResult> {
  return new ScalingRun(input, deps).run(input.runId);
}
