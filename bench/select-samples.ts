/**
 * The selection benchmark on real model samples (issue 14): `npm run
 * bench:select -- --samples FILE.jsonl [--data DIR] [--methods a,b,…]
 * [--blocks K] [--concurrency C] [--timeout-ms T]`.
 *
 * FILE holds one record per HumanEval problem in the shared data's schema
 * (../shared/data/README.md): `id`, `entry_point`, `bodies` (the program is
 * the problem's prompt + a body) and `correct` (whether that program passed
 * HumanEval's own tests). Correctness is taken from the file; for a
 * record without `correct`, each program is run once against HumanEval's
 * `check` (3 s, as the shared file was labelled) — never shown to selection.
 *
 * For each problem, the samples are cut into disjoint blocks of 16 (the
 * first K, default every whole block: 5 of 84) and also taken all at once,
 * and each set is ranked by `/v1/select`'s own code (selectPrograms) in two
 * settings:
 *
 *  - with examples: the prompt as it is, `doctests: true` (the examples the
 *    prompt shows are the public tests);
 *  - without examples (CodeT's setting): the prompt cut before its first
 *    example, `tests: []`, `doctests: false`: only synthesized inputs.
 *
 * Printed per setting and set size: the expected pass@1 of a random pick, of
 * a random pick among the samples passing every public test (the example
 * filter), of each method's top pick, and of the oracle (any correct one),
 * averaged over problems (and blocks); and the median time of one selection
 * of 16, measured on the first block, problems one at a time (every program
 * runs there; later sets reuse the reports of identical runs).
 */
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";

import { dataDirectory, datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import { loadRewardModel, type CandidateScorer } from "../src/judge/index.ts";
import type { ExecuteOptions, Executor } from "../src/sandbox/index.ts";
import { PythonPool } from "../src/sandbox/index.ts";
import { loadPrompts, publicTests, selectPrograms } from "../src/scaling/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import type { ExecutionJob, ExecutionReport } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { JudgeSettings, SelectRequest, type RankedCandidate } from "../src/shared/schema/solve.ts";
import { option } from "../src/cli/options.ts";

interface SampleRecord {
  readonly id: string;
  readonly entry_point: string;
  readonly bodies: readonly string[];
  readonly correct?: readonly boolean[];
}

interface LabelledSamples {
  readonly id: string;
  readonly bodies: readonly string[];
  readonly correct: readonly boolean[];
}

const BLOCK = 16;
const samplesFile = option("samples") as string;
const data = option("data") ?? dataDirectory();
const methods = (option("methods") ?? "combined,agreement,reward").split(",").map((name) => JudgeSettings.shape.method.parse(name));
const concurrency = Number(option("concurrency") ?? 4);
// Samples that loop forever are common: each test of theirs costs its whole limit. 1 s is ample for HumanEval's programs.
const timeoutMs = Number(option("timeout-ms") ?? 1_000);

/**
 * The prompt without its examples: cut at the first line that starts an
 * example (an "Example"/"For example" heading, a `>>>` line, or a call of
 * the entry point inside the docstring), the docstring closed again.
 */
function withoutExamples(prompt: string, entryPoint: string): string {
  const lines = prompt.split("\n");
  const definition = lines.findIndex((line) => new RegExp(`^\\s*def ${entryPoint}\\s*\\(`).test(line));
  const call = new RegExp(`\\b${entryPoint}\\s*\\(`);
  const cut = lines.findIndex(
    (line, index) => index > definition && (/^\s*(for\s+)?(an?\s+)?examples?\b/i.test(line) || /^\s*>>>/.test(line) || call.test(line) || /^\s*(input|output)\s*:/i.test(line)),
  );
  if (definition < 0 || cut < 0) return prompt;
  const body = lines.slice(definition).join("\n");
  const quote = body.includes("'''") && !body.includes('"""') ? "'''" : '"""';
  const indent = /^(\s*)/.exec(lines[definition + 1] ?? "    ")?.[1] ?? "    ";
  return `${lines.slice(0, cut).join("\n").trimEnd()}\n${indent}${quote}\n`;
}

/** Identical jobs give identical reports: each program runs once per setting, whatever sets it is in. */
function reusingExecutor(inner: Executor): { executor: Executor; fresh: () => number } {
  const reports = new Map<string, Promise<ExecutionReport>>();
  const executor: Executor = {
    languages: inner.languages,
    execute(job: ExecutionJob, options?: ExecuteOptions): Promise<ExecutionReport> {
      const key = JSON.stringify(job);
      let report = reports.get(key);
      if (report === undefined) {
        report = inner.execute(job, options);
        reports.set(key, report);
      }
      return report;
    },
    admit: (language, client) => inner.admit(language, client),
    checkSyntax: (language, code, options) => inner.checkSyntax(language, code, options),
    edits: (language, request, options) => inner.edits(language, request, options),
    health: () => inner.health(),
    close: () => inner.close(),
  };
  return { executor, fresh: () => reports.size };
}

interface SetOutcome {
  readonly random: number;
  readonly filter: number;
  readonly oracle: number;
  readonly picks: Readonly<Record<string, number>>;
}

type Setting = "with examples" | "without examples";

function requestFor(record: DatasetRecord, setting: Setting, candidates: readonly string[], method: JudgeSettings["method"]): SelectRequest {
  const withExamples = setting === "with examples";
  return SelectRequest.parse({
    problem: {
      language: "python",
      prompt: withExamples ? record.prompt : withoutExamples(record.prompt, record.entry_point),
      entry_point: record.entry_point,
      tests: [],
      doctests: withExamples,
    },
    candidates,
    judge: { method },
    inputs: { llm: false },
    limits: { timeout_ms: timeoutMs },
  });
}

const pool = await PythonPool.start({ logger: silentLogger });
const prompts = loadPrompts();
const scorer: CandidateScorer | undefined = methods.some((name) => name === "reward" || name === "combined") ? await loadRewardModel({ provider: "cpu", logger: silentLogger }) : undefined;
const records = new Map((await loadDataset(datasetPath("humaneval", data))).map((record) => [record.id, record]));
/** Whether each program passes HumanEval's own tests, from the file or by running them. */
async function labelled(sample: SampleRecord): Promise<LabelledSamples> {
  if (sample.correct !== undefined) return { id: sample.id, bodies: sample.bodies, correct: sample.correct };
  const record = records.get(sample.id) as DatasetRecord;
  const correct = await Promise.all(
    sample.bodies.map(async (body) => {
      const job = toExecutionJob(ExecuteRequest.parse({ code: record.prompt + body, entry_point: record.entry_point, tests: testsOf(record), trace: { mode: "none" }, limits: { timeout_ms: 3_000 } }));
      return (await pool.execute(job)).status === "passed";
    }),
  );
  return { id: sample.id, bodies: sample.bodies, correct };
}

const samples = await Promise.all(
  readFileSync(samplesFile, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as SampleRecord)
    .filter((sample) => records.has(sample.id))
    .map(labelled),
);
const blockCount = Math.min(Number(option("blocks") ?? Infinity), Math.min(...samples.map((sample) => Math.floor(sample.bodies.length / BLOCK))));

const executors: Record<Setting, ReturnType<typeof reusingExecutor>> = { "with examples": reusingExecutor(pool), "without examples": reusingExecutor(pool) };

/** Ranks one set of samples by every method; the filter is computed from the same public results. */
async function measureSet(record: DatasetRecord, setting: Setting, bodies: readonly string[], correct: readonly boolean[], timings?: number[]): Promise<SetOutcome> {
  const candidates = bodies.map((body) => record.prompt + body);
  const picks: Record<string, number> = {};
  let ranking: readonly RankedCandidate[] = [];
  for (const method of methods) {
    const request = requestFor(record, setting, candidates, method);
    const started = performance.now();
    const signal = new AbortController().signal;
    setMaxListeners(0, signal); // one listener per program running
    const result = await selectPrograms(request, { executor: executors[setting].executor, prompts, scorer, logger: silentLogger }, signal);
    // The first method's call runs every program; the others reuse its reports.
    if (method === methods[0]) timings?.push(performance.now() - started);
    const top = result.ranking[0];
    picks[method] = top !== undefined && correct[top.index] === true ? 1 : 0;
    ranking = result.ranking;
  }
  // Every method sees the same public results: the filter reads them from the last ranking.
  const passesPublic = new Set(ranking.filter((entry) => entry.public.total > 0 && entry.public.passed === entry.public.total).map((entry) => entry.index));
  const share = (flags: readonly boolean[]): number => flags.filter(Boolean).length / Math.max(1, flags.length);
  const passing = correct.filter((_, index) => passesPublic.has(index));
  return { random: share(correct), filter: passing.length === 0 ? share(correct) : share(passing), oracle: correct.some(Boolean) ? 1 : 0, picks };
}

async function inTurns<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const SETTINGS: readonly Setting[] = ["with examples", "without examples"];
const percent = (sum: number, count: number): string => `${((100 * sum) / Math.max(1, count)).toFixed(1)}%`.padStart(7);
const median = (values: readonly number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;
const started = performance.now();
console.log(`tracefix selection benchmark — real samples from ${samplesFile}: ${samples.length} problems, ${BLOCK} per set (${blockCount} disjoint blocks) and ${samples[0]?.bodies.length ?? 0} at once`);
console.log(`  methods ${methods.join(", ")}; timeout_ms ${timeoutMs} per test; no model (no LLM-written inputs, no LLM judge); expected pass@1 of the top pick, averaged over problems and blocks`);
for (const setting of SETTINGS) {
  const timings: number[] = [];
  const blocks: SetOutcome[] = [];
  const wholes: SetOutcome[] = [];
  // The first block, one problem at a time: its selections run every program, and are timed.
  for (const sample of samples) blocks.push(await measureSet(records.get(sample.id) as DatasetRecord, setting, sample.bodies.slice(0, BLOCK), sample.correct.slice(0, BLOCK), timings));
  await inTurns(samples, concurrency, async (sample) => {
    const record = records.get(sample.id) as DatasetRecord;
    for (let block = 1; block < blockCount; block++) {
      const range = [block * BLOCK, (block + 1) * BLOCK] as const;
      blocks.push(await measureSet(record, setting, sample.bodies.slice(...range), sample.correct.slice(...range)));
    }
    wholes.push(await measureSet(record, setting, sample.bodies, sample.correct));
  });
  console.log(`\n  ${setting} (${setting === "with examples" ? "doctests: true" : "prompt cut before its examples, tests: [], doctests: false"})`);
  console.log(`    ${"".padEnd(26)}${`N = ${BLOCK}`.padStart(9)}${`N = ${samples[0]?.bodies.length ?? 0}`.padStart(9)}`);
  const row = (name: string, value: (outcome: SetOutcome) => number): void =>
    console.log(`    ${name.padEnd(26)}  ${percent(blocks.reduce((sum, outcome) => sum + value(outcome), 0), blocks.length)}  ${percent(wholes.reduce((sum, outcome) => sum + value(outcome), 0), wholes.length)}`);
  row("random", (outcome) => outcome.random);
  row("example filter", (outcome) => outcome.filter);
  for (const method of methods) row(method, (outcome) => outcome.picks[method] ?? 0);
  row("oracle (any correct)", (outcome) => outcome.oracle);
  console.log(`    median /v1/select call (${BLOCK} candidates, first block, ${methods[0]}): ${median(timings).toFixed(0)} ms; distinct runs ${executors[setting].fresh()}`);
}
console.log(`\n  ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
await pool.close();
