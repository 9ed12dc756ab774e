/**
 * Selection among candidate programs (DESIGN.md, "Judging"): inputs are
 * synthesized (by the model and by mutating the public tests' arguments),
 * every candidate runs on the public tests and those inputs, candidates are
 * clustered by their outputs, and the requested method ranks them:
 *
 * - agreement: the largest agreeing cluster among those passing the most
 *   public tests (no model needed);
 * - llm: the LLM judge compares one representative per cluster; when it
 *   cannot judge (failures, unreadable replies) agreement decides;
 * - reward: the reward model's score;
 * - combined: the weighted sum of judge/combine.ts.
 *
 * An async generator: it yields `inputs.synthesized`, `candidate.executed`
 * and `judge.completed` as they happen and returns the ranking.
 */
import {
  agreementScores,
  agreementShares,
  clusterByOutputs,
  combinedScore,
  disagreements,
  LlmJudge,
  outputKey,
  relativeRewards,
  type CandidateScorer,
  type Cluster,
  type ComponentScores,
  type JudgedCandidate,
  type OutputVector,
} from "../judge/index.ts";
import { addUsage, NO_USAGE, usageOfFailure, type LanguageModel, type TokenUsage } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import { AbortedError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { Prompts } from "../shared/prompts.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { ExecutionJob, ExecutionReport, Language, Limits, TestSpec, TraceFormat } from "../shared/schema/execution.ts";
import type { InputSettings, JudgeSettings, RankedCandidate, SelectRequest, SelectResult } from "../shared/schema/solve.ts";
import { callExpression, entryPointInstruction, render, testText } from "../trace/index.ts";
import { fromJson, LiteralError, parseLiteral, printLiteral, toJson, type PyValue } from "../trace/index.ts";
import { argumentsOf, mutateArguments } from "./inputs/mutate.ts";
import { publicTests } from "./public-tests.ts";

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
  readonly inputs: { total: number; from_model: number; from_mutations: number; dropped: number; rejected: number };
  readonly judge: { method: string; asked: number; abstentions: number; failures: number; fallback: string | null };
  readonly usage: TokenUsage;
  readonly executions: number;
}

const OUTPUT_LINES = 6;

/** A program that ran: the sandbox worked and it compiled (a program that does not compile cannot be right). */
function runnable(report: ExecutionReport): boolean {
  return report.status !== "error" && !(report.tests.length > 0 && report.tests.every((test) => test.status === "syntax_error"));
}

/**
 * A call test with these arguments, in the form the problem's language runs:
 * a Python literal, or JSON for JavaScript (undefined when JSON cannot hold them).
 */
function callTestWith(problem: SelectionProblem, items: readonly PyValue[]): TestSpec | undefined {
  if (problem.language !== "javascript") return { kind: "call", input: printLiteral({ type: "list", items: [...items] }) };
  const args = toJson({ type: "list", items: [...items] });
  return Array.isArray(args) ? { kind: "call", args } : undefined;
}

/** One line of model-written input: a Python literal, or JSON for JavaScript. */
function parseInputLine(problem: SelectionProblem, line: string): PyValue {
  if (problem.language !== "javascript") return parseLiteral(line);
  try {
    return fromJson(JSON.parse(line));
  } catch (error) {
    throw new LiteralError(`not JSON: ${(error as Error).message}`);
  }
}

/** How the model is asked to write inputs: literals of the problem's language. */
function inputFormat(problem: SelectionProblem, example: readonly PyValue[] | undefined): string {
  if (problem.language === "javascript") {
    const shown = example === undefined ? undefined : toJson({ type: "list", items: [...example] });
    return isCallProblem(problem)
      ? `each line the argument list of one call as a JSON array, e.g. ${shown === undefined ? '[1, "a"]' : JSON.stringify(shown)}`
      : "each line the whole standard input as one JSON string";
  }
  return isCallProblem(problem)
    ? `each line the argument list of one call as a Python list, e.g. ${example === undefined ? "[1, 'a']" : printLiteral({ type: "list", items: [...example] })}`
    : "each line the whole standard input as one Python string literal";
}

function isCallProblem(problem: SelectionProblem): boolean {
  return problem.entryPoint !== undefined && !problem.tests.some((test) => test.kind === "stdio");
}

/** Arguments (call problems) or stdin texts (stdio problems) the model wrote, validated. */
function parseModelInputs(text: string, problem: SelectionProblem, arity: number | undefined): { tests: TestSpec[]; dropped: number } {
  const block = /```[^\n]*\n([\s\S]*?)```/.exec(text)?.[1] ?? text;
  const tests: TestSpec[] = [];
  let dropped = 0;
  for (const raw of block.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("//")) continue;
    let value: PyValue;
    try {
      value = parseInputLine(problem, line);
    } catch (error) {
      if (!(error instanceof LiteralError)) throw error;
      dropped += 1;
      continue;
    }
    if (isCallProblem(problem)) {
      if ((value.type !== "list" && value.type !== "tuple") || (arity !== undefined && value.items.length !== arity)) {
        dropped += 1;
        continue;
      }
      const test = callTestWith(problem, value.items);
      if (test === undefined) dropped += 1;
      else tests.push(test);
    } else if (value.type === "str") {
      tests.push({ kind: "stdio", stdin: value.value });
    } else dropped += 1;
  }
  return { tests, dropped };
}

function inputKey(test: TestSpec): string {
  return test.kind === "call" ? `call:${test.input ?? JSON.stringify(test.args)}` : test.kind === "stdio" ? `stdio:${test.stdin}` : "";
}

/** A report cut to its first `count` tests (the public ones), its figures recounted. */
function publicPart(report: ExecutionReport, count: number): ExecutionReport {
  const tests = report.tests.slice(0, count);
  const passed = tests.filter((test) => test.status === "passed").length;
  return { ...report, tests, passed, total: tests.length, status: report.status === "error" ? "error" : passed === tests.length ? "passed" : "failed" };
}

export class Selection {
  private usage: TokenUsage = NO_USAGE;
  private executions = 0;

  constructor(
    private readonly problem: SelectionProblem,
    private readonly settings: SelectionSettings,
    private readonly deps: SelectionDependencies,
    private readonly signal: AbortSignal,
  ) {}

  // -- inputs -------------------------------------------------------------------
  private async synthesize(): Promise<{ tests: TestSpec[]; fromModel: number; fromMutations: number; dropped: number }> {
    const { inputs } = this.settings;
    const publicArguments = this.problem.tests.map(argumentsOf).filter((args): args is PyValue[] => args !== undefined);
    const arity = publicArguments[0]?.length;
    const seen = new Set(this.problem.tests.map(inputKey));
    const chosen: TestSpec[] = [];
    let fromModel = 0;
    let dropped = 0;
    const take = (test: TestSpec): boolean => {
      const key = inputKey(test);
      if (seen.has(key) || chosen.length >= inputs.max) return false;
      seen.add(key);
      chosen.push(test);
      return true;
    };
    if (inputs.llm && this.deps.model !== undefined && inputs.max > 0) {
      const prompt = this.deps.prompts.synthesizeInputs.render({
        language: this.problem.language,
        problem: this.problem.prompt.trim(),
        entry_point_instruction: entryPointInstruction({ entry_point: this.problem.entryPoint, tests: this.problem.tests }),
        tests: this.problem.tests.map((test) => testText(test, this.problem.entryPoint, this.problem.language)).join("\n"),
        count: String(Math.min(inputs.max, 12)),
        format: inputFormat(this.problem, publicArguments[0]),
      });
      try {
        const result = await this.deps.model.generate({
          messages: [{ role: "user", content: prompt }],
          n: 1,
          temperature: 0.7,
          maxTokens: 1_024,
          model: this.settings.model,
          signal: this.signal,
        });
        this.usage = addUsage(this.usage, result.usage);
        const parsed = parseModelInputs(result.completions[0]?.text ?? "", this.problem, arity);
        dropped += parsed.dropped;
        for (const test of parsed.tests) if (take(test)) fromModel += 1;
      } catch (error) {
        this.usage = addUsage(this.usage, usageOfFailure(error));
        if (error instanceof AbortedError || this.signal.aborted) throw error;
        this.deps.logger.warn("input synthesis by the model failed; mutations only", { error: String(error) });
      }
    }
    let fromMutations = 0;
    if (inputs.mutations && publicArguments.length > 0) {
      for (const args of mutateArguments(publicArguments, inputs.max)) {
        const test = callTestWith(this.problem, args);
        if (test !== undefined && take(test)) fromMutations += 1;
      }
    }
    return { tests: chosen, fromModel, fromMutations, dropped };
  }

  private job(code: string, tests: readonly TestSpec[], mode: "failing" | "all"): ExecutionJob {
    const trace = this.settings.trace;
    return {
      language: this.problem.language,
      code,
      entryPoint: this.problem.entryPoint,
      tests,
      trace: { mode, format: trace.format, budget: trace.budget, max_events: trace.max_events, repr_limit: trace.repr_limit, max_tests: 1 },
      limits: this.settings.limits,
    };
  }

  // -- the whole selection -------------------------------------------------------
  async *run(candidates: readonly SelectionCandidate[]): AsyncGenerator<RunEventPayload, SelectionOutcome> {
    candidates.forEach((candidate, index) => {
      if (candidate.code !== null) this.codes.set(index, candidate.code);
    });
    const synthesized = await this.synthesize();
    yield {
      type: "inputs.synthesized",
      total: synthesized.tests.length,
      from_model: synthesized.fromModel,
      from_mutations: synthesized.fromMutations,
      dropped: synthesized.dropped,
    };
    const publicCount = this.problem.tests.length;
    const tests = [...this.problem.tests, ...synthesized.tests];

    // Every distinct program once, on the public tests and the synthesized inputs.
    const reports = new Map<number, ExecutionReport>();
    const runs = new Map<string, Promise<ExecutionReport>>();
    const pending = candidates.map(async (candidate, index) => {
      if (candidate.code === null) return { index, report: undefined };
      let run = runs.get(candidate.code);
      if (run === undefined) {
        this.executions += 1;
        run = this.deps.executor.execute(this.job(candidate.code, tests, "failing"), { signal: this.signal });
        runs.set(candidate.code, run);
      }
      return { index, report: await run };
    });
    for (const outcome of pending) {
      const { index, report } = await outcome;
      if (report !== undefined) reports.set(index, report);
      const candidate = candidates[index] as SelectionCandidate;
      const publicTests = report?.tests.slice(0, publicCount) ?? [];
      const passed = publicTests.filter((test) => test.status === "passed").length;
      yield {
        type: "candidate.executed",
        round: candidate.round ?? 1,
        chain: candidate.chain ?? null,
        candidate: candidate.id,
        status: candidate.code === null ? "no_code" : report === undefined || report.status === "error" ? "error" : passed === publicCount ? "passed" : "failed",
        passed,
        total: publicCount,
        tests: publicTests.map((test) => ({ index: test.index, status: test.status })),
        steps: publicTests.reduce((sum, test) => sum + (test.status === "passed" ? 0 : (test.steps ?? test.steps_at_least ?? 0)), 0),
      };
    }

    // An input most candidates raise on is most likely outside the problem's
    // domain (an empty list for "a non-empty list"): there, even correct
    // programs differ only in the exception they raise. Such inputs are left
    // out of the comparison.
    const usable = [...reports.values()].filter(runnable);
    const kept: number[] = [];
    let rejected = 0;
    for (let input = 0; input < tests.length; input++) {
      if (input < publicCount) {
        kept.push(input);
        continue;
      }
      const raised = usable.filter((report) => {
        const status = report.tests[input]?.status;
        return status !== undefined && status !== "passed" && status !== "wrong_answer";
      }).length;
      if (usable.length > 1 && raised * 2 > usable.length) rejected += 1;
      else kept.push(input);
    }
    // Clusters of identical behaviour (among programs that run at all).
    const vectors: OutputVector[] = [];
    for (const [index, report] of reports) {
      if (!runnable(report)) continue;
      const publicTests = report.tests.slice(0, publicCount);
      vectors.push({
        candidate: index,
        publicPassed: publicTests.filter((test) => test.status === "passed").length,
        publicTotal: publicCount,
        outputs: kept.map((input) => {
          const test = report.tests[input];
          return test === undefined ? "missing" : outputKey(test);
        }),
      });
    }
    const clusters = clusterByOutputs(vectors);
    const clusterOf = new Map<number, Cluster>();
    for (const cluster of clusters) for (const member of cluster.members) clusterOf.set(member, cluster);
    const agreement = agreementScores(clusters, vectors.length);
    const method = this.settings.judge.method;

    // The LLM judge, on one representative per cluster.
    let llm: Map<number, number> | undefined;
    let fallback: string | null = null;
    let asked = 0;
    let abstentions = 0;
    let failures = 0;
    if (method === "llm" || method === "combined") {
      if (this.deps.model === undefined) {
        fallback = "no judge model is configured: execution agreement decided";
      } else if (clusters.length > 1) {
        const outcome = await this.judgeClusters(clusters, vectors, kept.map((input) => tests[input] as TestSpec), reports);
        asked = outcome.asked;
        abstentions = outcome.abstentions;
        failures = outcome.failures;
        this.usage = addUsage(this.usage, outcome.usage);
        if (outcome.scores === undefined) fallback = `${outcome.error ?? "the judge could not judge"}: execution agreement decided`;
        else {
          llm = new Map();
          for (const cluster of clusters) {
            const score = outcome.scores.get(cluster.members[0] as number);
            if (score !== undefined) for (const member of cluster.members) llm.set(member, score);
          }
        }
      }
    }

    // The reward model.
    // Relative rewards (in [0, 1] over this set) for the combined score, the raw ones for the reward order.
    let reward: Map<number, number> | undefined;
    let rawReward: Map<number, number> | undefined;
    if ((method === "reward" || method === "combined") && this.deps.scorer !== undefined && reports.size > 0) {
      const indices = [...reports.keys()];
      const shares = agreementShares(clusters, vectors.length);
      const scores = await this.deps.scorer.score(
        indices.map((index) => ({
          code: candidates[index]?.code ?? "",
          // The model was trained on reports of real tests: the synthesized inputs (no expected value) are left out.
          report: publicPart(reports.get(index) as ExecutionReport, publicCount),
          ...(shares.has(index) ? { agreement: shares.get(index) } : {}),
        })),
        this.signal,
      );
      const relative = relativeRewards(scores);
      rawReward = new Map(indices.map((index, position) => [index, scores[position] ?? 0]));
      reward = new Map(indices.map((index, position) => [index, relative[position] ?? 0]));
    } else if (method === "reward") {
      fallback = "no reward model is loaded: execution agreement decided";
    }

    const ranking = this.rank(candidates, reports, clusterOf, agreement, llm, reward, rawReward, publicCount);
    yield {
      type: "judge.completed",
      method,
      asked,
      abstentions,
      failures,
      fallback,
      ranking: ranking.map((entry) => ({
        candidate: (candidates[entry.index] as SelectionCandidate).id,
        score: entry.score,
        cluster: entry.cluster,
        reasons: entry.reasons,
      })),
    };
    return {
      ranking,
      reports,
      inputs: {
        total: synthesized.tests.length,
        from_model: synthesized.fromModel,
        from_mutations: synthesized.fromMutations,
        dropped: synthesized.dropped,
        rejected,
      },
      judge: { method, asked, abstentions, failures, fallback },
      usage: this.usage,
      executions: this.executions,
    };
  }

  private async judgeClusters(
    clusters: readonly Cluster[],
    vectors: readonly OutputVector[],
    tests: readonly TestSpec[],
    reports: ReadonlyMap<number, ExecutionReport>,
  ): ReturnType<LlmJudge["judge"]> {
    const settings = this.settings.judge;
    // As many clusters as max_pairs allows pairwise (k(k-1)/2 pairs), 8 listwise.
    const limit = settings.mode === "listwise" ? 8 : Math.max(2, Math.floor((1 + Math.sqrt(1 + 8 * settings.max_pairs)) / 2));
    const representatives = clusters.slice(0, limit).map((cluster) => cluster.members[0] as number);
    const chosen = vectors.filter((vector) => representatives.includes(vector.candidate));
    const differing = disagreements(chosen).slice(0, OUTPUT_LINES);
    const judged: JudgedCandidate[] = await Promise.all(
      representatives.map(async (index) => {
        const report = reports.get(index) as ExecutionReport;
        const vector = vectors.find((entry) => entry.candidate === index) as OutputVector;
        const outputs = differing
          .map((input) => {
            const test = tests[input] as TestSpec;
            const shown = test.kind === "call" ? callExpression(this.problem.entryPoint, test, this.problem.language) : test.kind === "stdio" ? `stdin ${JSON.stringify(test.stdin)}` : "test";
            return `${shown} → ${(vector.outputs[input] ?? "").replace(/^value:|^stdout:/, "")}`;
          })
          .join("\n");
        return { index, code: this.codeOf(index), outputs, trace: await this.traceFor(index, report, tests, differing[0]) };
      }),
    );
    return new LlmJudge(this.deps.model as LanguageModel, this.deps.prompts, {
      mode: settings.mode,
      votes: settings.votes,
      maxPairs: settings.max_pairs,
      temperature: settings.temperature,
      maxTokens: settings.max_tokens,
      model: this.settings.model,
    }).judge(
      {
        language: this.problem.language,
        problem: this.problem.prompt.trim(),
        tests: this.problem.tests.map((test) => testText(test, this.problem.entryPoint, this.problem.language)).join("\n"),
      },
      judged,
      this.signal,
    );
  }

  private readonly codes = new Map<number, string>();

  private codeOf(index: number): string {
    return this.codes.get(index) ?? "";
  }

  /** A short trace rendering: a failing public test's, else one of the first input where candidates differ. */
  private async traceFor(index: number, report: ExecutionReport, tests: readonly TestSpec[], differing: number | undefined): Promise<string> {
    const code = this.codeOf(index);
    const budget = Math.min(1_500, this.settings.trace.budget);
    const traced = report.tests.find((test) => test.trace !== undefined && test.status !== "passed");
    if (traced !== undefined) {
      return render(this.settings.trace.format, code, tests[traced.index], traced, { budget, entryPoint: this.problem.entryPoint, language: this.problem.language });
    }
    if (differing === undefined || code === "") return "";
    const test = tests[differing] as TestSpec;
    this.executions += 1;
    const rerun = await this.deps.executor.execute(this.job(code, [test], "all"), { signal: this.signal });
    const only = rerun.tests[0];
    return only === undefined ? "" : render(this.settings.trace.format, code, test, only, { budget, entryPoint: this.problem.entryPoint, language: this.problem.language });
  }

  private rank(
    candidates: readonly SelectionCandidate[],
    reports: ReadonlyMap<number, ExecutionReport>,
    clusterOf: ReadonlyMap<number, Cluster>,
    agreement: ReadonlyMap<number, number>,
    llm: ReadonlyMap<number, number> | undefined,
    reward: ReadonlyMap<number, number> | undefined,
    rawReward: ReadonlyMap<number, number> | undefined,
    publicCount: number,
  ): RankedCandidate[] {
    const method = this.settings.judge.method;
    const entries = candidates.map((candidate, index): RankedCandidate & { order: number[] } => {
      const report = reports.get(index);
      const cluster = clusterOf.get(index);
      const passed = report?.tests.slice(0, publicCount).filter((test) => test.status === "passed").length ?? 0;
      const scores: ComponentScores = {
        public: publicCount === 0 ? 1 : passed / publicCount,
        agreement: agreement.get(index) ?? 0,
        ...(llm?.has(index) ? { llm: llm.get(index) as number } : {}),
        ...(reward?.has(index) ? { reward: reward.get(index) as number } : {}),
      };
      const reasons: string[] = [];
      if (candidate.code === null) reasons.push("no program in the reply");
      else if (report === undefined || report.status === "error") reasons.push(`could not be run: ${report?.error?.message ?? "sandbox error"}`);
      else if (!runnable(report)) {
        const error = report.tests[0]?.error;
        reasons.push(`does not compile: ${error?.type ?? "SyntaxError"}: ${error?.message ?? ""}${error?.line == null ? "" : ` (line ${error.line})`}`);
      } else {
        reasons.push(`passes ${passed}/${publicCount} public tests`);
        if (cluster !== undefined) {
          const others = cluster.members.length - 1;
          reasons.push(
            others === 0
              ? `no other candidate gives the same outputs (cluster ${cluster.id})`
              : `${others} other candidate${others === 1 ? "" : "s"} give the same outputs on every input (cluster ${cluster.id})`,
          );
        }
        if (scores.llm !== undefined) reasons.push(`LLM judge: ${(scores.llm * 100).toFixed(0)}% of its comparisons won`);
        if (scores.reward !== undefined) {
          reasons.push(`reward model: ${(rawReward?.get(index) ?? 0).toFixed(2)} (${(scores.reward * 100).toFixed(0)}% of the way from the worst candidate to the best)`);
        }
      }
      const usable = candidate.code !== null && report !== undefined && runnable(report);
      const clusterRank = cluster?.id ?? Number.MAX_SAFE_INTEGER;
      let score: number;
      let order: number[];
      if (!usable) {
        score = 0;
        order = [1, 0, 0, index];
      } else if (method === "llm" && scores.llm !== undefined) {
        score = scores.llm;
        order = [0, -scores.llm, clusterRank, index];
      } else if (method === "reward" && scores.reward !== undefined) {
        score = scores.reward;
        order = [0, -(rawReward?.get(index) ?? 0), clusterRank, index];
      } else if (method === "combined") {
        score = combinedScore(scores);
        order = [0, -score, clusterRank, index];
      } else {
        // Agreement (and the fallback of the others): cluster rank decides.
        score = scores.agreement;
        order = [0, clusterRank, -scores.public, index];
      }
      return { index, score: Math.round(score * 1e6) / 1e6, cluster: cluster?.id ?? null, public: { passed, total: publicCount }, scores, reasons, order };
    });
    entries.sort((left, right) => {
      for (let position = 0; position < left.order.length; position++) {
        const difference = (left.order[position] as number) - (right.order[position] as number);
        if (difference !== 0) return difference;
      }
      return 0;
    });
    return entries.map(({ order: _order, ...entry }) => entry);
  }
}

/** POST /v1/select: ranks the client's programs; the stage events are not needed here. */
export async function selectPrograms(
  request: SelectRequest,
  deps: SelectionDependencies,
  signal: AbortSignal,
): Promise<SelectResult> {
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
  return {
    ranking: outcome.ranking,
    inputs: outcome.inputs,
    judge: outcome.judge,
    usage: {
      llm_calls: outcome.usage.calls,
      prompt_tokens: outcome.usage.promptTokens,
      completion_tokens: outcome.usage.completionTokens,
      executions: outcome.executions,
      wall_ms: Math.round(performance.now() - started),
    },
  };
}
