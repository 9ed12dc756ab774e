/**
 * The reward model's training data:
 *
 *   npm run reward:data -- [--data DIR] [--out FILE] [--per-program N] [--seed S] [--pairs-per-problem K]
 *
 * For every problem of HumanEval and QuixBugs (read from DIR, default
 * TRACEFIX_DATA_DIR or ../shared/data): the reference program and mutants
 * of it (models/trainer/mutate_programs.py) are run in the sandbox against
 * the problem's tests (the prompt's examples first, for HumanEval), their
 * failing tests traced; each gets its feature vector (judge/reward/features.ts,
 * agreement = the share of the problem's other candidates with the same
 * outputs); pairs are made by the ETA rules (judge/preferences.ts), at most
 * K per problem, spread over the rules. One JSON object per line:
 *   {"problem_id", "rule", "chosen": [...], "rejected": [...]}
 * No program text is written.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { dataDirectory, datasetPath, loadDataset, testsOf, type DatasetRecord } from "../datasets/index.ts";
import {
  agreementShares,
  clusterByOutputs,
  extractFeatures,
  FEATURE_NAMES,
  FEATURE_VERSION,
  outputKey,
  preferenceBetweenReports,
  type OutputVector,
  type PreferenceRule,
} from "../judge/index.ts";
import { PythonPool } from "../sandbox/index.ts";
import { publicTests } from "../scaling/index.ts";
import { silentLogger } from "../shared/logger.ts";
import type { ExecutionReport, TestSpec } from "../shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../shared/schema/requests.ts";
import { option } from "./options.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const data = option("data", dataDirectory());
const out = option("out", path.join(ROOT, "models/reward/data/pairs.jsonl"));
const perProgram = Number(option("per-program", "12"));
const seed = Number(option("seed", "7"));
const pairsPerProblem = Number(option("pairs-per-problem", "40"));

/** The tests a candidate is judged on: HumanEval's examples and its check(); QuixBugs' I/O tests. */
function testsFor(record: DatasetRecord): TestSpec[] {
  const examples =
    record.source === "HumanEval"
      ? publicTests({ language: "python", prompt: record.prompt, entry_point: record.entry_point, tests: [], hidden_tests: [], doctests: true })
      : [];
  return [...examples, ...testsOf(record)];
}

async function mutants(file: string): Promise<Map<string, string[]>> {
  const { stdout } = await promisify(execFile)(
    "python3",
    [path.join(ROOT, "models/trainer/mutate_programs.py"), file, "--per-program", String(perProgram), "--seed", String(seed)],
    { maxBuffer: 64 << 20 },
  );
  const byProblem = new Map<string, string[]>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const mutant = JSON.parse(line) as { problem_id: string; code: string };
    byProblem.set(mutant.problem_id, [...(byProblem.get(mutant.problem_id) ?? []), mutant.code]);
  }
  return byProblem;
}

/** A deterministic shuffle (seeded by the problem) so that the data is the same on every run. */
function shuffled<T>(items: T[], key: string): T[] {
  let state = [...key].reduce((hash, character) => (Math.imul(hash, 31) + character.charCodeAt(0)) | 0, seed);
  const next = (): number => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) | 0;
    return (state >>> 0) / 4294967296;
  };
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

const round = (vector: Float32Array): number[] => Array.from(vector, (value) => Math.round(value * 1e6) / 1e6);

const pool = await PythonPool.start({ logger: silentLogger });
// Lines per problem, written in the datasets' order once all ran: the file
// does not depend on which problem finished first.
const lines: string[][] = [];
const counts: Record<PreferenceRule, number> = { passing_beats_failing: 0, more_tests_passed: 0, more_steps_before_error: 0, milder_failure: 0 };
let problems = 0;
let candidatesRun = 0;
for (const name of ["humaneval", "quixbugs"] as const) {
  const file = datasetPath(name, data);
  const records = await loadDataset(file);
  const byProblem = await mutants(file);
  await Promise.all(
    records.map(async (record) => {
      const problemLines: string[] = [];
      lines.push(problemLines);
      const tests = testsFor(record);
      const codes = [record.reference_code, ...(byProblem.get(record.id) ?? [])];
      const reports: ExecutionReport[] = await Promise.all(
        codes.map((code) =>
          pool.execute(
            toExecutionJob(
              ExecuteRequest.parse({ code, entry_point: record.entry_point, tests, trace: { mode: "failing", max_tests: 3 }, limits: { timeout_ms: 1_000 } }),
            ),
          ),
        ),
      );
      candidatesRun += codes.length;
      const usable = reports.map((report, index) => ({ report, index })).filter(({ report }) => report.status !== "error");
      // Agreement among the problem's candidates: the share of the others with the same outputs.
      const vectors: OutputVector[] = usable.map(({ report, index }) => ({ candidate: index, publicPassed: report.passed, publicTotal: report.total, outputs: report.tests.map(outputKey) }));
      const shares = agreementShares(clusterByOutputs(vectors), vectors.length);
      const features = new Map(usable.map(({ report, index }) => [index, extractFeatures(codes[index] as string, report, shares.get(index) ?? 0)]));
      // Every pair the ETA rules decide, spread over the rules.
      const byRule = new Map<PreferenceRule, { chosen: number; rejected: number }[]>();
      for (let first = 0; first < usable.length; first++) {
        for (let second = first + 1; second < usable.length; second++) {
          const a = usable[first] as { report: ExecutionReport; index: number };
          const b = usable[second] as { report: ExecutionReport; index: number };
          const preference = preferenceBetweenReports(a.report, b.report);
          if (preference === undefined) continue;
          const pair = preference.better === 0 ? { chosen: a.index, rejected: b.index } : { chosen: b.index, rejected: a.index };
          byRule.set(preference.rule, [...(byRule.get(preference.rule) ?? []), pair]);
        }
      }
      const rules = [...byRule.keys()];
      if (rules.length === 0) return;
      problems += 1;
      const quota = Math.ceil(pairsPerProblem / rules.length);
      for (const rule of rules) {
        for (const pair of shuffled(byRule.get(rule) ?? [], `${record.id}/${rule}`).slice(0, quota)) {
          counts[rule] += 1;
          problemLines.push(
            `${JSON.stringify({ problem_id: record.id, rule, chosen: round(features.get(pair.chosen) as Float32Array), rejected: round(features.get(pair.rejected) as Float32Array) })}\n`,
          );
        }
      }
    }),
  );
}
writeFileSync(out, lines.flat().join(""));
await pool.close();
// The trainer reads what the vectors mean from here, and writes it into the model's metadata.
writeFileSync(path.join(path.dirname(out), "features.json"), `${JSON.stringify({ version: FEATURE_VERSION, names: FEATURE_NAMES }, null, 2)}\n`);
const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
process.stderr.write(
  `${JSON.stringify({ out, feature_version: FEATURE_VERSION, features: FEATURE_NAMES.length, problems, candidates: candidatesRun, pairs: total, by_rule: counts, per_program: perProgram, seed })}\n`,
);
