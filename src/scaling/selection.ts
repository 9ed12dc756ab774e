/**
 * Selection among candidate programs (architecture/judge.md): inputs are
 * synthesized (inputs/synthesize.ts), every distinct program runs once on
 * the public tests and those inputs, inputs most candidates raise on are
 * left out, candidates are clustered by their outputs, the LLM judge and the
 * reward model score them where the method asks, and judge/rank.ts orders
 * them. Executions, input rejection and clustering happen here; the rules of
 * the ranking live in src/judge/.
 *
 * An async generator: it yields `inputs.synthesized`, `candidate.executed`
 * and `judge.completed` as they happen and returns the ranking.
 */
import {
  agreementScores,
  agreementShares,
  clusterByOutputs,
  outputKey,
  rankCandidates,
  relativeRewards,
  type CandidateScorer,
  type Cluster,
  type ComponentScores,
  type OutputVector,
  type RankingEntry,
} from "../judge/index.ts";
import { addUsage, NO_USAGE, type LanguageModel, type TokenUsage } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import type { Logger } from "../shared/logger.ts";
import type { Prompts } from "../shared/prompts.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { ExecutionReport, Language, Limits, TestSpec, TraceCapture, TraceFormat } from "../shared/schema/execution.ts";
import { buildJob } from "../shared/schema/requests.ts";
import type { InputSettings, JudgeSettings, RankedCandidate, SelectRequest, SelectResult } from "../shared/schema/solve.ts";
import { synthesizeInputs, type SynthesizedInputs } from "./inputs/synthesize.ts";
import { judgeClusters } from "./llm-judging.ts";
import { publicTests } from "./public-tests.ts";
import { usageOf } from "./run-context.ts";

export interface SelectionProblem {
  readonly language: Language;
  readonly prompt: string;
  readonly entryPoint: string | undefined;
  /** Public tests, examples from the prompt included. */
  readonly tests: readonly TestSpec[];
}

export interface SelectionCandidate {
  readonly id: string;
  readonly code: string | null;
  /** Where it came from (a chain of a strategy), for events. */
  readonly round?: number;
  readonly chain?: number | null;
}

export interface SelectionSettings {
  readonly judge: JudgeSettings;
  readonly inputs: InputSettings;
  readonly trace: { readonly format: TraceFormat; readonly budget: number; readonly max_events: number; readonly repr_limit: number };
  readonly limits: Limits;
  readonly model?: string | undefined;
}

export interface SelectionDependencies {
  readonly executor: Executor;
  readonly model?: LanguageModel | undefined;
  readonly prompts: Prompts;
  readonly scorer?: CandidateScorer | undefined;
  readonly logger: Logger;
}

export interface SelectionOutcome {
  readonly ranking: RankedCandidate[];
  readonly reports: ReadonlyMap<number, ExecutionReport>;
  readonly inputs: { total: number; from_model: number; from_mutations: number; from_signature: number; dropped: number; rejected: number };
  readonly judge: { method: string; asked: number; abstentions: number; failures: number; fallback: string | null };
  readonly usage: TokenUsage;
  readonly executions: number;
}

/** A synthesized input only has to tell programs apart: a program still busy after this long on one is told apart by that. */
const INPUT_TIMEOUT_MS = 500;
const INPUTS_TOTAL_MS = 3_000;

/** The public part's report and the synthesized inputs' report as one, the public tests first (an error in either is the whole's). */
function joinedReport(publicReport: ExecutionReport | undefined, inputReport: ExecutionReport | undefined, publicCount: number): ExecutionReport {
  const first = (publicReport ?? inputReport) as ExecutionReport;
  if (publicReport === undefined || inputReport === undefined) return first;
  const failed = publicReport.status === "error" ? publicReport : inputReport.status === "error" ? inputReport : undefined;
  if (failed !== undefined) return failed;
  const tests = [...publicReport.tests, ...inputReport.tests.map((test) => ({ ...test, index: test.index + publicCount }))];
  const passed = publicReport.passed + inputReport.passed;
  return { ...publicReport, tests, passed, total: tests.length, status: passed === tests.length ? "passed" : "failed" };
}

/** A program that ran: the sandbox worked and it compiled (a program that does not compile cannot be right). */
function runnable(report: ExecutionReport): boolean {
  return report.status !== "error" && !(report.tests.length > 0 && report.tests.every((test) => test.status === "syntax_error"));
}

/** A report cut to its first `count` tests (the public ones), its figures recounted. */
function publicPart(report: ExecutionReport, count: number): ExecutionReport {
  const tests = report.tests.slice(0, count);
  const passed = tests.filter((test) => test.status === "passed").length;
  return { ...report, tests, passed, total: tests.length, status: report.status === "error" ? "error" : passed === tests.length ? "passed" : "failed" };
}

function publicPassed(report: ExecutionReport | undefined, publicCount: number): number {
  return report?.tests.slice(0, publicCount).filter((test) => test.status === "passed").length ?? 0;
}

/**
 * The inputs kept for the comparison. An input most candidates raise on is
 * most likely outside the problem's domain (an empty list for "a non-empty
 * list"): there, even correct programs differ only in the exception they
 * raise. Public tests are always kept.
 */
function keptInputs(reports: ReadonlyMap<number, ExecutionReport>, inputCount: number, publicCount: number): { kept: number[]; rejected: number } {
  const usable = [...reports.values()].filter(runnable);
  const kept: number[] = [];
  let rejected = 0;
  for (let input = 0; input < inputCount; input++) {
    const raised = usable.filter((report) => {
      const status = report.tests[input]?.status;
      return status !== undefined && status !== "passed" && status !== "wrong_answer";
    }).length;
    if (input >= publicCount && usable.length > 1 && raised * 2 > usable.length) rejected += 1;
    else kept.push(input);
  }
  return { kept, rejected };
}

/** What each program that ran did on the kept inputs. */
function outputVectors(reports: ReadonlyMap<number, ExecutionReport>, kept: readonly number[], publicCount: number): OutputVector[] {
  const vectors: OutputVector[] = [];
  for (const [index, report] of reports) {
    if (!runnable(report)) continue;
    vectors.push({
      candidate: index,
      publicPassed: publicPassed(report, publicCount),
      publicTotal: publicCount,
      outputs: kept.map((input) => {
        const test = report.tests[input];
        return test === undefined ? "missing" : outputKey(test);
      }),
    });
  }
  return vectors;
}

/** Why a candidate cannot be ranked among the programs that ran, when it cannot. */
function unusableReason(candidate: SelectionCandidate, report: ExecutionReport | undefined): string | undefined {
  if (candidate.code === null) return "no program in the reply";
  if (report === undefined || report.status === "error") return `could not be run: ${report?.error?.message ?? "sandbox error"}`;
  if (runnable(report)) return undefined;
  const error = report.tests[0]?.error;
  return `does not compile: ${error?.type ?? "SyntaxError"}: ${error?.message ?? ""}${error?.line == null ? "" : ` (line ${error.line})`}`;
}

interface Measured {
  readonly tests: readonly TestSpec[];
  readonly reports: ReadonlyMap<number, ExecutionReport>;
  readonly kept: readonly number[];
  readonly vectors: readonly OutputVector[];
  readonly clusters: readonly Cluster[];
}

interface JudgeScores {
  llm?: Map<number, number>;
  /** In [0, 1] over this set (combined score) and raw (reward order). */
  reward?: Map<number, number>;
  rawReward?: Map<number, number>;
  asked: number;
  abstentions: number;
  failures: number;
  fallback: string | null;
}

export class Selection {
  private usage: TokenUsage = NO_USAGE;
  private executions = 0;
  private readonly codes = new Map<number, string>();

  constructor(
    private readonly problem: SelectionProblem,
    private readonly settings: SelectionSettings,
    private readonly deps: SelectionDependencies,
    private readonly signal: AbortSignal,
  ) {}

  private synthesize(): Promise<SynthesizedInputs> {
    const { deps } = this;
    return synthesizeInputs({ problem: this.problem, settings: this.settings.inputs, model: deps.model, modelName: this.settings.model, prompts: deps.prompts, logger: deps.logger, signal: this.signal });
  }

  /**
   * One program on the public tests (the request's limits, failing ones
   * traced) and on the synthesized inputs (no trace, each input cut to
   * INPUT_TIMEOUT_MS and all of them to INPUTS_TOTAL_MS): an input exists only
   * to tell programs apart, and one that makes a program loop should cost a
   * moment, not the request's whole limit. One report, the public tests first.
   */
  private async runProgram(code: string, tests: readonly TestSpec[]): Promise<ExecutionReport> {
    const { problem, settings } = this;
    const publicCount = problem.tests.length;
    const common = { language: problem.language, code, entryPoint: problem.entryPoint };
    const run = (part: readonly TestSpec[], trace: Partial<TraceCapture>, limits: Limits): Promise<ExecutionReport | undefined> =>
      part.length === 0 ? Promise.resolve(undefined) : this.deps.executor.execute(buildJob({ ...common, tests: part, trace, limits }), { signal: this.signal });
    const inputLimits = { ...settings.limits, timeout_ms: Math.min(settings.limits.timeout_ms, INPUT_TIMEOUT_MS), total_ms: Math.min(settings.limits.total_ms, INPUTS_TOTAL_MS) };
    const [publicReport, inputReport] = await Promise.all([
      run(tests.slice(0, publicCount), { ...settings.trace, mode: "failing", max_tests: 1 }, settings.limits),
      run(tests.slice(publicCount), { mode: "none" }, inputLimits),
    ]);
    return joinedReport(publicReport, inputReport, publicCount);
  }

  /** Every distinct program once, on `tests`; yields `candidate.executed` per candidate; returns the reports. */
  private async *executeAll(candidates: readonly SelectionCandidate[], tests: readonly TestSpec[]): AsyncGenerator<RunEventPayload, Map<number, ExecutionReport>> {
    const runs = new Map<string, Promise<ExecutionReport>>();
    const pending = candidates.map(async (candidate) => {
      if (candidate.code === null) return undefined;
      let run = runs.get(candidate.code);
      if (run === undefined) {
        this.executions += 1;
        run = this.runProgram(candidate.code, tests);
        runs.set(candidate.code, run);
      }
      return run;
    });
    const reports = new Map<number, ExecutionReport>();
    for (const [index, outcome] of pending.entries()) {
      const report = await outcome;
      if (report !== undefined) reports.set(index, report);
      yield this.executedEvent(candidates[index] as SelectionCandidate, report);
    }
    return reports;
  }

  private executedEvent(candidate: SelectionCandidate, report: ExecutionReport | undefined): RunEventPayload {
    const publicCount = this.problem.tests.length;
    const shown = report?.tests.slice(0, publicCount) ?? [];
    const passed = shown.filter((test) => test.status === "passed").length;
    return {
      type: "candidate.executed",
      round: candidate.round ?? 1,
      chain: candidate.chain ?? null,
      candidate: candidate.id,
      status: candidate.code === null ? "no_code" : report === undefined || report.status === "error" ? "error" : passed === publicCount ? "passed" : "failed",
      passed,
      total: publicCount,
      tests: shown.map((test) => ({ index: test.index, status: test.status })),
      steps: shown.reduce((sum, test) => sum + (test.status === "passed" ? 0 : (test.steps ?? test.steps_at_least ?? 0)), 0),
    };
  }

  /** The LLM judge's scores per candidate (one per cluster), or why agreement decides instead. */
  private async llmScores(measured: Measured, scores: JudgeScores): Promise<void> {
    const model = this.deps.model;
    if (model === undefined) {
      scores.fallback = "no judge model is configured: execution agreement decided";
      return;
    }
    if (measured.clusters.length <= 1) return;
    const outcome = await judgeClusters({
      problem: this.problem,
      settings: this.settings,
      model,
      prompts: this.deps.prompts,
      executor: this.deps.executor,
      signal: this.signal,
      clusters: measured.clusters,
      vectors: measured.vectors,
      tests: measured.kept.map((input) => measured.tests[input] as TestSpec),
      runTests: measured.tests,
      reports: measured.reports,
      codes: this.codes,
      countExecution: () => (this.executions += 1),
    });
    Object.assign(scores, { asked: outcome.asked, abstentions: outcome.abstentions, failures: outcome.failures });
    this.usage = addUsage(this.usage, outcome.usage);
    if (outcome.scores === undefined) {
      scores.fallback = `${outcome.error ?? "the judge could not judge"}: execution agreement decided`;
      return;
    }
    scores.llm = new Map();
    for (const cluster of measured.clusters) {
      const score = outcome.scores.get(cluster.members[0] as number);
      if (score !== undefined) for (const member of cluster.members) scores.llm.set(member, score);
    }
  }

  /** The reward model's scores of every program that ran (on its public-test part: what it was trained on). */
  private async rewardScores(measured: Measured, scores: JudgeScores): Promise<void> {
    const scorer = this.deps.scorer as CandidateScorer;
    const publicCount = this.problem.tests.length;
    const indices = [...measured.reports.keys()];
    const shares = agreementShares(measured.clusters, measured.vectors.length);
    const raw = await scorer.score(
      indices.map((index) => ({
        code: this.codes.get(index) ?? "",
        report: publicPart(measured.reports.get(index) as ExecutionReport, publicCount),
        ...(shares.has(index) ? { agreement: shares.get(index) } : {}),
      })),
      this.signal,
    );
    const relative = relativeRewards(raw);
    scores.rawReward = new Map(indices.map((index, position) => [index, raw[position] ?? 0]));
    scores.reward = new Map(indices.map((index, position) => [index, relative[position] ?? 0]));
  }

  private async judge(measured: Measured): Promise<JudgeScores> {
    const method = this.settings.judge.method;
    const scores: JudgeScores = { asked: 0, abstentions: 0, failures: 0, fallback: null };
    if (method === "llm" || method === "combined") await this.llmScores(measured, scores);
    if (method !== "reward" && method !== "combined") return scores;
    // The reward model scores a program's report on real tests; with none, it would score noise (worse than a random pick, measured).
    if (this.problem.tests.length === 0) {
      if (method === "reward") scores.fallback = "no public tests for the reward model to score: execution agreement decided";
    } else if (this.deps.scorer !== undefined && measured.reports.size > 0) await this.rewardScores(measured, scores);
    else if (method === "reward") scores.fallback = "no reward model is loaded: execution agreement decided";
    return scores;
  }

  private rankingEntries(candidates: readonly SelectionCandidate[], measured: Measured, judged: JudgeScores): RankingEntry[] {
    const publicCount = this.problem.tests.length;
    const clusterOf = new Map<number, Cluster>();
    for (const cluster of measured.clusters) for (const member of cluster.members) clusterOf.set(member, cluster);
    const agreement = agreementScores(measured.clusters, measured.vectors.length);
    return candidates.map((candidate, index) => {
      const report = measured.reports.get(index);
      const passed = publicPassed(report, publicCount);
      const scores: ComponentScores = {
        public: publicCount === 0 ? 1 : passed / publicCount,
        agreement: agreement.get(index) ?? 0,
        ...(judged.llm?.has(index) ? { llm: judged.llm.get(index) as number } : {}),
        ...(judged.reward?.has(index) ? { reward: judged.reward.get(index) as number } : {}),
      };
      return { index, unusable: unusableReason(candidate, report), passed, publicTotal: publicCount, cluster: clusterOf.get(index), scores, rawReward: judged.rawReward?.get(index) };
    });
  }

  /** The whole selection. */
  async *run(candidates: readonly SelectionCandidate[]): AsyncGenerator<RunEventPayload, SelectionOutcome> {
    candidates.forEach((candidate, index) => {
      if (candidate.code !== null) this.codes.set(index, candidate.code);
    });
    const synthesized = await this.synthesize();
    this.usage = addUsage(this.usage, synthesized.usage);
    const inputs = { total: synthesized.tests.length, from_model: synthesized.fromModel, from_mutations: synthesized.fromMutations, from_signature: synthesized.fromSignature, dropped: synthesized.dropped };
    yield { type: "inputs.synthesized", ...inputs };
    const publicCount = this.problem.tests.length;
    const tests = [...this.problem.tests, ...synthesized.tests];
    const reports = yield* this.executeAll(candidates, tests);
    const { kept, rejected } = keptInputs(reports, tests.length, publicCount);
    const vectors = outputVectors(reports, kept, publicCount);
    const measured: Measured = { tests, reports, kept, vectors, clusters: clusterByOutputs(vectors) };
    const judged = await this.judge(measured);
    const method = this.settings.judge.method;
    const ranking = rankCandidates(method, this.rankingEntries(candidates, measured, judged));
    const judge = { method, asked: judged.asked, abstentions: judged.abstentions, failures: judged.failures, fallback: judged.fallback };
    yield {
      type: "judge.completed",
      ...judge,
      ranking: ranking.map((entry) => ({ candidate: (candidates[entry.index] as SelectionCandidate).id, score: entry.score, cluster: entry.cluster, reasons: entry.reasons })),
    };
    return { ranking, reports, inputs: { ...inputs, rejected }, judge, usage: this.usage, executions: this.executions };
  }
}

/** POST /v1/select: ranks the client's programs; the stage events are not needed here. */
export async function selectPrograms(request: SelectRequest, deps: SelectionDependencies, signal: AbortSignal): Promise<SelectResult> {
  const started = performance.now();
  const selection = new Selection(
    { language: request.problem.language, prompt: request.problem.prompt, entryPoint: request.problem.entry_point, tests: publicTests(request.problem) },
    { judge: request.judge, inputs: request.inputs, trace: request.trace, limits: request.limits, model: request.model },
    deps,
    signal,
  );
  const events = selection.run(request.candidates.map((code, index) => ({ id: `c${index}`, code })));
  let step = await events.next();
  while (step.done !== true) step = await events.next();
  const outcome = step.value;
  return { ranking: outcome.ranking, inputs: outcome.inputs, judge: outcome.judge, usage: usageOf(outcome.usage, outcome.executions, performance.now() - started) };
}
