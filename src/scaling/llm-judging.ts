/**
 * What the LLM judge is shown, prepared from a selection's executions: one
 * representative per cluster (as many as `max_pairs` allows pairwise, 8
 * listwise), its outputs where the candidates disagree, and a short trace
 * rendering (a failing public test's, else a traced run of the first input
 * where they differ).
 */
import { disagreements, LlmJudge, type Cluster, type JudgedCandidate, type LlmJudgeOutcome, type OutputVector } from "../judge/index.ts";
import type { LanguageModel } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import type { Prompts } from "../shared/prompts.ts";
import type { ExecutionReport, TestSpec } from "../shared/schema/execution.ts";
import { buildJob } from "../shared/schema/requests.ts";
import { callExpression, render, testText } from "../trace/index.ts";
import type { SelectionProblem, SelectionSettings } from "./selection.ts";

const OUTPUT_LINES = 6;

export interface JudgingInput {
  readonly problem: SelectionProblem;
  readonly settings: SelectionSettings;
  readonly model: LanguageModel;
  readonly prompts: Prompts;
  readonly executor: Executor;
  readonly signal: AbortSignal;
  readonly clusters: readonly Cluster[];
  readonly vectors: readonly OutputVector[];
  /** The compared inputs (public tests first), in the vectors' order. */
  readonly tests: readonly TestSpec[];
  /** Every test the candidates ran, in the reports' order (rejected inputs included). */
  readonly runTests: readonly TestSpec[];
  readonly reports: ReadonlyMap<number, ExecutionReport>;
  readonly codes: ReadonlyMap<number, string>;
  /** Counts the traced re-runs made for the judge. */
  readonly countExecution: () => void;
}

function representativesOf(input: JudgingInput): number[] {
  const settings = input.settings.judge;
  // As many clusters as max_pairs allows pairwise (k(k-1)/2 pairs), 8 listwise.
  const limit = settings.mode === "listwise" ? 8 : Math.max(2, Math.floor((1 + Math.sqrt(1 + 8 * settings.max_pairs)) / 2));
  return input.clusters.slice(0, limit).map((cluster) => cluster.members[0] as number);
}

function outputsText(input: JudgingInput, vector: OutputVector, differing: readonly number[]): string {
  const { problem } = input;
  return differing
    .map((index) => {
      const test = input.tests[index] as TestSpec;
      const shown = test.kind === "call" ? callExpression(problem.entryPoint, test, problem.language) : test.kind === "stdio" ? `stdin ${JSON.stringify(test.stdin)}` : "test";
      return `${shown} → ${(vector.outputs[index] ?? "").replace(/^value:|^stdout:/, "")}`;
    })
    .join("\n");
}

/** A short trace rendering: a failing public test's, else one of the first input where candidates differ. */
async function traceFor(input: JudgingInput, index: number, differing: number | undefined): Promise<string> {
  const { problem, settings } = input;
  const code = input.codes.get(index) ?? "";
  const report = input.reports.get(index) as ExecutionReport;
  const options = { budget: Math.min(1_500, settings.trace.budget), entryPoint: problem.entryPoint, language: problem.language };
  const traced = report.tests.find((test) => test.trace !== undefined && test.status !== "passed");
  if (traced !== undefined) return render(settings.trace.format, code, input.runTests[traced.index], traced, options);
  if (differing === undefined || code === "") return "";
  const test = input.tests[differing] as TestSpec;
  input.countExecution();
  const job = buildJob({ language: problem.language, code, entryPoint: problem.entryPoint, tests: [test], trace: { ...settings.trace, mode: "all", max_tests: 1 }, limits: settings.limits });
  const only = (await input.executor.execute(job, { signal: input.signal })).tests[0];
  return only === undefined ? "" : render(settings.trace.format, code, test, only, options);
}

/** Asks the judge about the clusters' representatives. */
export async function judgeClusters(input: JudgingInput): Promise<LlmJudgeOutcome> {
  const representatives = representativesOf(input);
  const chosen = input.vectors.filter((vector) => representatives.includes(vector.candidate));
  const differing = disagreements(chosen).slice(0, OUTPUT_LINES);
  const judged: JudgedCandidate[] = await Promise.all(
    representatives.map(async (index) => {
      const vector = input.vectors.find((entry) => entry.candidate === index) as OutputVector;
      return { index, code: input.codes.get(index) ?? "", outputs: outputsText(input, vector, differing), trace: await traceFor(input, index, differing[0]) };
    }),
  );
  const { problem, settings } = input;
  const judge = settings.judge;
  return new LlmJudge(input.model, input.prompts, {
    mode: judge.mode,
    votes: judge.votes,
    maxPairs: judge.max_pairs,
    temperature: judge.temperature,
    maxTokens: judge.max_tokens,
    model: settings.model,
  }).judge(
    {
      language: problem.language,
      problem: problem.prompt.trim(),
      tests: problem.tests.map((test) => testText(test, problem.entryPoint, problem.language)).join("\n"),
    },
    judged,
    input.signal,
  );
}
