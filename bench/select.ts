/**
 * npm run bench:select [-- --data DIR] [--seed N] [--method agreement|reward|combined] [--heldout]
 * npm run bench:select -- --samples FILE.jsonl   (real model samples: bench/select-samples.ts)
 *
 * How often selection picks a correct program, against a random pick and a
 * public-test filter (a random pick among the candidates passing every
 * public test), per problem, averaged.
 *
 * Candidate sets made here from HumanEval and QuixBugs: correct programs
 * (the reference, two rewrites of it, mutants that still pass every test)
 * and wrong ones (mutants that fail a test, preferring those that pass the
 * public tests). Mutants come from models/trainer/mutate_programs.py.
 * A candidate is correct when it passes every test of the problem (public and
 * hidden); that is decided by running it, never assumed.
 *
 * --method reward / combined loads the shipped reward model (models/reward);
 * --heldout keeps only the problems the reward model was not trained on
 * (metadata.json's data.heldout_problems), so its figure is out of sample.
 *
 * Public tests: HumanEval — the examples in the prompt (problems without any
 * are skipped); QuixBugs — the first two I/O tests.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import { dataDirectory, datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import { PythonPool } from "../src/sandbox/index.ts";
import { loadPrompts, publicTests, Selection } from "../src/scaling/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { Limits, type TestSpec } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { JudgeSettings, InputSettings, SolveTrace } from "../src/shared/schema/solve.ts";
import { DEFAULT_REWARD_DIRECTORY, loadRewardModel, type CandidateScorer } from "../src/judge/index.ts";
import { option } from "../src/cli/options.ts";

if (option("samples") !== undefined) {
  await import("./select-samples.ts");
  process.exit(0);
}

const data = option("data") ?? dataDirectory();
const seed = Number(option("seed") ?? 11);
const method = JudgeSettings.shape.method.parse(option("method") ?? "agreement");
const heldOutOnly = process.argv.includes("--heldout");

/**
 * mulberry32, seeded per problem (from --seed and the problem's id): the sets
 * are the same every run, whatever order the problems finish in and
 * whichever problems are kept.
 */
function generator(problemId: string): () => number {
  let state = seed;
  for (const character of problemId) state = Math.imul(state ^ character.charCodeAt(0), 0x01000193);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

interface Problem {
  readonly record: DatasetRecord;
  readonly publicTests: TestSpec[];
  readonly allTests: TestSpec[];
}

function problemOf(record: DatasetRecord): Problem | undefined {
  const all = testsOf(record);
  if (record.source === "HumanEval") {
    const examples = publicTests({ language: "python", prompt: record.prompt, entry_point: record.entry_point, tests: [], hidden_tests: [], doctests: true });
    if (examples.length === 0) return undefined;
    return { record, publicTests: examples, allTests: [...examples, ...all] };
  }
  if (all.length < 3 || all[0]?.kind !== "call") return undefined;
  // The public tests come first in allTests (label() relies on it).
  return { record, publicTests: all.slice(0, 2), allTests: all };
}

/** Rewrites that keep the behaviour: a comment, a renamed helper. */
function rewrites(code: string, entryPoint: string): string[] {
  const commented = `# a straightforward solution\n${code.replace(/\n(def |\s+return )/, "\n\n$1")}`;
  const wrapped = `${code.replaceAll(new RegExp(`\\b${entryPoint}\\b`, "g"), `_${entryPoint}_impl`)}\n\ndef ${entryPoint}(*args, **kwargs):\n    return _${entryPoint}_impl(*args, **kwargs)\n`;
  return [commented, wrapped];
}

const pool = await PythonPool.start({ logger: silentLogger });
const prompts = loadPrompts();
const records = [...(await loadDataset(datasetPath("humaneval", data))), ...(await loadDataset(datasetPath("quixbugs", data)))];
const heldOut = new Set((JSON.parse(readFileSync(path.join(DEFAULT_REWARD_DIRECTORY, "metadata.json"), "utf8")) as { data: { heldout_problems: string[] } }).data.heldout_problems);
const problems = new Map(records.filter((record) => !heldOutOnly || heldOut.has(record.id)).map((record) => [record.id, problemOf(record)]));

// Programs that loop forever are common among mutants: short deadlines keep the benchmark short.
const TIMEOUT_MS = 500;

/** Runs every test once: correct = all pass; the public tests are the first ones. */
async function label(problem: Problem, code: string): Promise<{ correct: boolean; passesPublic: boolean }> {
  const report = await pool.execute(
    toExecutionJob(ExecuteRequest.parse({ code, entry_point: problem.record.entry_point, tests: problem.allTests, trace: { mode: "none" }, limits: { timeout_ms: TIMEOUT_MS } })),
  );
  const publicCount = problem.publicTests.length;
  return {
    correct: report.status === "passed",
    passesPublic: report.tests.length > 0 && report.tests.slice(0, publicCount).every((test) => test.status === "passed"),
  };
}

interface Sample {
  readonly code: string;
  readonly correct: boolean;
  readonly passesPublic: boolean;
}

const sets = new Map<string, Sample[]>();
{
  const mutantsOf = new Map<string, string[]>();
  for (const name of ["humaneval", "quixbugs"] as const) {
    const { stdout } = await promisify(execFile)("python3", [path.join(import.meta.dirname, "../models/trainer/mutate_programs.py"), datasetPath(name, data), "--per-program", "14", "--seed", String(seed)], {
      maxBuffer: 64 << 20,
    });
    for (const line of stdout.split("\n").filter(Boolean)) {
      const mutant = JSON.parse(line) as { problem_id: string; code: string };
      mutantsOf.set(mutant.problem_id, [...(mutantsOf.get(mutant.problem_id) ?? []), mutant.code]);
    }
  }
  await Promise.all(
    [...problems.entries()].map(async ([id, problem]) => {
      if (problem === undefined) return;
      const record = problem.record;
      const random = generator(id);
      const labelled = await Promise.all(
        (mutantsOf.get(id) ?? []).map(async (code) => ({ code, ...(await label(problem, code)) })),
      );
      const wrong = labelled.filter((sample) => !sample.correct);
      // Wrong programs that pass the public tests are the hard ones; real samples are full of them.
      const plausible = shuffle(wrong.filter((sample) => sample.passesPublic), random);
      const other = shuffle(wrong.filter((sample) => !sample.passesPublic), random);
      const rightCount = 1 + Math.floor(random() * 3); // 1–3 correct programs
      const wrongCount = 3 + Math.floor(random() * 4); // 3–6 wrong ones
      const right: Sample[] = shuffle([
        { code: record.reference_code, correct: true, passesPublic: true },
        ...rewrites(record.reference_code, record.entry_point).map((code) => ({ code, correct: true, passesPublic: true })),
        ...labelled.filter((sample) => sample.correct),
      ], random).slice(0, rightCount);
      const chosenWrong = [...plausible.slice(0, Math.ceil(wrongCount / 2)), ...other].slice(0, wrongCount);
      if (chosenWrong.length === 0) return;
      sets.set(id, shuffle([...right, ...chosenWrong], random));
    }),
  );
}

const scorer: CandidateScorer | undefined = method === "reward" || method === "combined" ? await loadRewardModel({ provider: "cpu", logger: silentLogger }) : undefined;

let randomSum = 0;
let filterSum = 0;
let pickSum = 0;
let candidates = 0;
const started = performance.now();
await Promise.all(
  [...sets.entries()].map(async ([id, samples]) => {
    const problem = problems.get(id) as Problem;
    candidates += samples.length;
    const correct = samples.filter((sample) => sample.correct).length;
    randomSum += correct / samples.length;
    const passing = samples.filter((sample) => sample.passesPublic);
    filterSum += passing.length === 0 ? correct / samples.length : passing.filter((sample) => sample.correct).length / passing.length;
    const selection = new Selection(
      { language: "python", prompt: problem.record.prompt, entryPoint: problem.record.entry_point, tests: problem.publicTests },
      {
        judge: JudgeSettings.parse({ method }),
        inputs: InputSettings.parse({ llm: false }),
        trace: SolveTrace.parse({}),
        limits: Limits.parse({ timeout_ms: TIMEOUT_MS }),
      },
      { executor: pool, prompts, scorer, logger: silentLogger },
      new AbortController().signal,
    );
    const events = selection.run(samples.map((sample, index) => ({ id: `c${index}`, code: sample.code })));
    let step = await events.next();
    while (step.done !== true) step = await events.next();
    const top = step.value.ranking[0];
    if (top !== undefined && samples[top.index]?.correct) pickSum += 1;
  }),
);
const count = sets.size;
const percent = (value: number): string => `${((100 * value) / Math.max(1, count)).toFixed(1)}%`;
console.log(`tracefix selection benchmark — sets made from HumanEval + QuixBugs mutants, method ${method}`);
console.log(`  problems ${count}${heldOutOnly ? " (held out from the reward model's training)" : ""}, candidates ${candidates} (${(candidates / Math.max(1, count)).toFixed(1)} per problem), ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`  a correct program picked:`);
console.log(`    random pick                        ${percent(randomSum)}`);
console.log(`    random among those passing public  ${percent(filterSum)}`);
console.log(`    ${method.padEnd(34)} ${percent(pickSum)}`);
await pool.close();
