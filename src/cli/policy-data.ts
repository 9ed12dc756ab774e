/**
 * The policy model's training data:
 *
 *   npm run policy:data -- [--data DIR] [--out models/policy/data] [--per-problem K] [--seed S]
 *                          [--limit 300] [--workers 2] [--only mbpp|quixbugs] [--problems N]
 *
 * For every reference program of MBPP (974; each `test_list` assert one
 * test, `test_setup_code` first) and QuixBugs (40; its tests, testsOf) —
 * never HumanEval's, which are for evaluation (bench/policy.ts) — read from
 * DIR (default TRACEFIX_DATA_DIR or ../shared/data): up to K buggy mutants,
 * each ONE random edit of the reference from the sandbox's editor (seeded),
 * kept when it parses and fails a test; for each, the repair search's
 * candidate edits (editCandidates, `limit` of them) labelled 1 for the edit
 * back to the reference, else 0 (policy-groups.ts). A group without its fix
 * among the candidates is dropped (and counted). One JSON object per line,
 * in dataset order:
 *   {"problem_id", "source", "mutation", "features": [[...], ...], "labels": [...], "hand_rank_of_fix"}
 * and features.json beside it (the feature names and version). No program
 * text is written.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pLimit from "p-limit";

import { dataDirectory, datasetPath, loadDataset, mbppTests, testsOf, type DatasetRecord } from "../datasets/index.ts";
import { POLICY_FEATURE_NAMES, POLICY_FEATURE_VERSION } from "../policy/index.ts";
import { PythonPool } from "../sandbox/index.ts";
import { silentLogger } from "../shared/logger.ts";
import { option } from "./options.ts";
import { candidateGroup, mutantsOf, passesAll, policyProblem } from "./policy-groups.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const data = option("data", dataDirectory());
const out = option("out", path.join(ROOT, "models/policy/data"));
const perProblem = Number(option("per-problem", "3"));
const seed = Number(option("seed", "7"));
const limit = Number(option("limit", "300"));
const workers = Number(option("workers", "2"));
const only = option("only");
const problemCap = option("problems");

interface Counts {
  problems: number;
  references_failing: number;
  editor_failed: number;
  draws: number;
  mutants: number;
  groups: number;
  no_fix: number;
  sandbox_failed: number;
  candidates: number;
}

const counts: Counts = { problems: 0, references_failing: 0, editor_failed: 0, draws: 0, mutants: 0, groups: 0, no_fix: 0, sandbox_failed: 0, candidates: 0 };
const bySource: Record<string, { problems: number; groups: number; no_fix: number }> = {};
const handRanks: number[] = [];

const sets: { name: "mbpp" | "quixbugs"; source: string; tests: (record: DatasetRecord) => ReturnType<typeof testsOf> }[] = [
  { name: "mbpp", source: "MBPP", tests: mbppTests },
  { name: "quixbugs", source: "QuixBugs", tests: testsOf },
];

const started = performance.now();
const pool = await PythonPool.start({ logger: silentLogger, size: workers });
const signal = new AbortController().signal;
// Problems in flight: enough to keep every worker busy while others wait on the editor.
const inFlight = pLimit(workers * 2);
const records: { record: DatasetRecord; source: string; tests: ReturnType<typeof testsOf> }[] = [];
for (const set of sets.filter((entry) => only === undefined || entry.name === only)) {
  const loaded = await loadDataset(datasetPath(set.name, data));
  for (const record of loaded.slice(0, problemCap === undefined ? undefined : Number(problemCap))) records.push({ record, source: set.source, tests: set.tests(record) });
}
process.stderr.write(`policy data: ${records.length} reference programs, ${perProblem} mutants each at most, ${limit} candidates per mutant, ${workers} sandbox workers, seed ${seed}\n`);

let done = 0;
const lines: string[][] = records.map(() => []);
await Promise.all(
  records.map(({ record, source, tests }, index) =>
    inFlight(async () => {
      const problem = policyProblem(tests, record.entry_point, record.prompt);
      const tally = (bySource[source] ??= { problems: 0, groups: 0, no_fix: 0 });
      try {
        if (!(await passesAll(pool, problem, record.reference_code, signal))) {
          counts.references_failing += 1;
          return;
        }
        let made;
        try {
          made = await mutantsOf(pool, problem, record.reference_code, { count: perProblem, seed, key: record.id, signal });
        } catch (error) {
          counts.editor_failed += 1;
          process.stderr.write(`  ${record.id}: the editor failed (${(error as Error).message.split("\n")[0]})\n`);
          return;
        }
        counts.problems += 1;
        tally.problems += 1;
        counts.draws += made.draws;
        counts.mutants += made.mutants.length;
        for (const mutant of made.mutants) {
          const group = await candidateGroup(pool, problem, mutant.code, record.reference_code, { limit, signal });
          if (group === undefined) {
            counts.sandbox_failed += 1;
            continue;
          }
          if (group.handRankOfFix === undefined) {
            counts.no_fix += 1;
            tally.no_fix += 1;
            continue;
          }
          counts.groups += 1;
          tally.groups += 1;
          counts.candidates += group.labels.length;
          handRanks.push(group.handRankOfFix);
          (lines[index] as string[]).push(
            `${JSON.stringify({ problem_id: record.id, source, mutation: mutant.operator, features: group.features, labels: group.labels, hand_rank_of_fix: group.handRankOfFix })}\n`,
          );
        }
      } finally {
        done += 1;
        if (done % 50 === 0 || done === records.length) {
          const seconds = (performance.now() - started) / 1000;
          process.stderr.write(`  ${done}/${records.length} problems, ${counts.mutants} mutants, ${counts.groups} groups (${counts.no_fix} without their fix), ${seconds.toFixed(0)} s\n`);
        }
      }
    }),
  ),
);
await pool.close();

mkdirSync(out, { recursive: true });
const groupsFile = path.join(out, "groups.jsonl");
writeFileSync(groupsFile, lines.flat().join(""));
// The trainer reads what the rows mean from here, and writes it into the model's metadata.
writeFileSync(path.join(out, "features.json"), `${JSON.stringify({ version: POLICY_FEATURE_VERSION, names: POLICY_FEATURE_NAMES }, null, 2)}\n`);
handRanks.sort((left, right) => left - right);
const seconds = (performance.now() - started) / 1000;
process.stderr.write(
  `${JSON.stringify({
    out: groupsFile,
    feature_version: POLICY_FEATURE_VERSION,
    features: POLICY_FEATURE_NAMES.length,
    ...counts,
    by_source: bySource,
    hand_median_rank_of_fix: handRanks[Math.floor(handRanks.length / 2)] ?? null,
    per_problem: perProblem,
    limit,
    seed,
    workers,
    seconds: Math.round(seconds),
  })}\n`,
);
process.exit(0);
