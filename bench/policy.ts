/**
 * npm run bench:policy [-- --data DIR] [--model models/policy] [--per-problem 3] [--seed 11]
 *                      [--limit 300] [--workers 2] [--only humaneval|mbpp|quixbugs] [--problems N]
 *
 * The policy model's order against the hand order, on problems it never
 * trained on: HumanEval's references (its check() as one test, testsOf) and
 * the MBPP problems the trainer held out (metadata.json), each mutated as
 * the training data was (ONE seeded edit of the sandbox's editor, kept when
 * it fails a test; src/cli/policy-groups.ts; another seed than the data's),
 * plus QuixBugs' real one-line bugs (its buggy programs, the reference as
 * the fix; the held-out QuixBugs programs apart from those whose references
 * the model saw mutated). For each mutant the repair search's candidates
 * (editCandidates, `limit` of them) are ordered both ways; the fix is the
 * candidate that restores the reference. Prints, per set and order: the
 * median and mean rank of the fix (candidates tried up to and including it,
 * over the mutants whose fix is among the candidates), and the share of all
 * mutants fixed within a budget of 64 and of 200 candidates.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import pLimit from "p-limit";

import { candidateGroup, mutantsOf, passesAll, policyProblem, rankOfFix, type CandidateGroup } from "../src/cli/policy-groups.ts";
import { dataDirectory, datasetPath, loadDataset, mbppTests, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import { DEFAULT_POLICY_DIRECTORY, HAND_ORDER, loadPolicyModel, type PolicyModel } from "../src/policy/index.ts";
import { PythonPool } from "../src/sandbox/index.ts";
import { consoleLogger, silentLogger } from "../src/shared/logger.ts";

function option(name: string, fallback: string): string;
function option(name: string): string | undefined;
function option(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? (process.argv[index + 1] as string) : fallback;
}

const data = option("data", dataDirectory());
const directory = option("model", DEFAULT_POLICY_DIRECTORY);
const perProblem = Number(option("per-problem", "3"));
const seed = Number(option("seed", "11"));
const limit = Number(option("limit", "300"));
const workers = Number(option("workers", "2"));
const only = option("only");
const problemCap = option("problems");
const BUDGETS = [64, 200] as const;

const model: PolicyModel = await loadPolicyModel({ directory, provider: "auto", logger: consoleLogger });
const metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as { data: { heldout_problems: string[] } };
const heldOut = new Set(metadata.data.heldout_problems);

interface Outcome {
  readonly set: string;
  readonly fixable: boolean;
  readonly hand: number | undefined;
  readonly learned: number | undefined;
}

interface Task {
  readonly set: string;
  readonly record: DatasetRecord;
  readonly tests: ReturnType<typeof testsOf>;
  /** Mutate the reference (true), or repair the record's own buggy program. */
  readonly mutate: boolean;
}

const tasks: Task[] = [];
const cap = (records: DatasetRecord[]): DatasetRecord[] => (problemCap === undefined ? records : records.slice(0, Number(problemCap)));
if (only === undefined || only === "humaneval") {
  for (const record of cap(await loadDataset(datasetPath("humaneval", data)))) tasks.push({ set: "HumanEval mutants", record, tests: testsOf(record), mutate: true });
}
if (only === undefined || only === "mbpp") {
  const records = (await loadDataset(datasetPath("mbpp", data))).filter((record) => heldOut.has(record.id));
  for (const record of cap(records)) tasks.push({ set: "MBPP held-out mutants", record, tests: mbppTests(record), mutate: true });
}
if (only === undefined || only === "quixbugs") {
  for (const record of cap(await loadDataset(datasetPath("quixbugs", data)))) {
    if (record.buggy_code === null) continue;
    const set = heldOut.has(record.id) ? "QuixBugs real bugs, held out" : "QuixBugs real bugs, program seen";
    tasks.push({ set, record, tests: testsOf(record), mutate: false });
  }
}

const pool = await PythonPool.start({ logger: silentLogger, size: workers });
const signal = new AbortController().signal;
const inFlight = pLimit(workers * 2);
const outcomes: Outcome[] = [];
const scoringMs: number[] = [];
const started = performance.now();
console.log(
  `policy model ${model.description} vs the hand order: ${tasks.length} problems, ${perProblem} mutants each at most (seed ${seed}), ${limit} candidates per mutant, ${workers} sandbox workers`,
);

async function judge(set: string, group: CandidateGroup | undefined): Promise<void> {
  if (group === undefined) return;
  const hand = await HAND_ORDER.score(group.edits);
  const before = performance.now();
  const learned = await model.score(group.edits);
  scoringMs.push(performance.now() - before);
  const handRank = rankOfFix(hand, group.labels);
  outcomes.push({ set, fixable: handRank !== undefined, hand: handRank, learned: rankOfFix(learned, group.labels) });
}

let done = 0;
await Promise.all(
  tasks.map((task) =>
    inFlight(async () => {
      const problem = policyProblem(task.tests, task.record.entry_point, task.record.prompt);
      const reference = task.record.reference_code;
      try {
        if (!(await passesAll(pool, problem, reference, signal))) return;
        if (!task.mutate) {
          await judge(task.set, await candidateGroup(pool, problem, task.record.buggy_code as string, reference, { limit, signal }));
          return;
        }
        const { mutants } = await mutantsOf(pool, problem, reference, { count: perProblem, seed, key: task.record.id, signal });
        for (const mutant of mutants) await judge(task.set, await candidateGroup(pool, problem, mutant.code, reference, { limit, signal }));
      } catch (error) {
        console.log(`  ${task.record.id}: ${(error as Error).message.split("\n")[0]}`);
      } finally {
        done += 1;
        if (done % 50 === 0) process.stderr.write(`  ${done}/${tasks.length} problems, ${outcomes.length} mutants, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      }
    }),
  ),
);
await pool.close();

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const share = (count: number, total: number): string => `${((100 * count) / Math.max(1, total)).toFixed(1)} %`;

const summary: Record<string, unknown> = {};
console.log("");
console.log(
  `${"set".padEnd(34)} ${"programs".padStart(8)} ${"fix among".padStart(9)}  ${"order".padEnd(8)} ${"median".padStart(6)} ${"mean".padStart(6)}  ${BUDGETS.map((budget) => `within ${budget}`.padStart(10)).join(" ")}  learned better/same/worse`,
);
for (const set of [...new Set(outcomes.map((outcome) => outcome.set))]) {
  const rows = outcomes.filter((outcome) => outcome.set === set);
  const fixable = rows.filter((outcome) => outcome.fixable);
  const entry: Record<string, unknown> = { mutants: rows.length, fix_among_candidates: fixable.length };
  const better = fixable.filter((outcome) => (outcome.learned as number) < (outcome.hand as number)).length;
  const worse = fixable.filter((outcome) => (outcome.learned as number) > (outcome.hand as number)).length;
  for (const order of ["hand", "learned"] as const) {
    const ranks = fixable.map((outcome) => outcome[order] as number);
    const within = BUDGETS.map((budget) => ranks.filter((rank) => rank <= budget).length);
    entry[order] = { median_rank: median(ranks), mean_rank: Number(mean(ranks).toFixed(2)), ...Object.fromEntries(BUDGETS.map((budget, index) => [`within_${budget}`, within[index]])) };
    const head = order === "hand" ? `${set.padEnd(34)} ${String(rows.length).padStart(8)} ${String(fixable.length).padStart(9)}` : " ".repeat(53);
    const tail = order === "learned" ? `  ${better}/${fixable.length - better - worse}/${worse}` : "";
    console.log(
      `${head}  ${order.padEnd(8)} ${median(ranks).toFixed(1).padStart(6)} ${mean(ranks).toFixed(1).padStart(6)}  ${within.map((count) => `${count} (${share(count, rows.length)})`.padStart(10)).join(" ")}${tail}`,
    );
  }
  entry["learned_better_same_worse"] = [better, fixable.length - better - worse, worse];
  summary[set] = entry;
}
scoringMs.sort((left, right) => left - right);
console.log("");
console.log(
  `"within B": the fix is among the first B candidates tried, as a share of all mutants (a mutant whose fix is not among the ${limit} candidates counts as not fixed). Scoring one mutant's candidates with the model: median ${median(scoringMs).toFixed(2)} ms, max ${(scoringMs.at(-1) ?? 0).toFixed(2)} ms (${model.provider}). ${((performance.now() - started) / 1000).toFixed(0)} s in all.`,
);
console.log(JSON.stringify({ seed, per_problem: perProblem, limit, sets: summary }));
process.exit(0);
