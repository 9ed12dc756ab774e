/**
 * npm run bench:repair [-- --quixbugs PATH] [--n 200] [--rounds 3] [--only name,name] [--order hand|policy] [--show]
 *
 * The built-in repair search through /v1/solve over real HTTP, no model:
 * each QuixBugs buggy program with public tests = every other test,
 * starting with one the buggy program fails, hidden = the rest (all of a
 * program's tests when it has only a `check`); `policy: "repair"`.
 * Prints per problem whether it was solved and its hidden tests all pass,
 * the candidates run, the rounds and the time, then the totals and the
 * median time. `--order policy`: the repair search orders its edits with
 * the policy model (models/policy, as the server does when it loads one)
 * instead of the hand order. `--show`: each answer's changed lines. Target: >= 30/40 repaired with every hidden test passing,
 * median <= 3 s per problem on 2 cores.
 */

import { option } from "../src/cli/options.ts";
import { datasetPath, loadDataset, testsOf, type DatasetRecord } from "../src/datasets/index.ts";
import type { TestSpec } from "../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import type { SolveResult } from "../src/shared/schema/solve.ts";
import { startRepairServer } from "./support/repair-server.ts";

const file = option("quixbugs", process.env["TRACEFIX_QUIXBUGS"] ?? datasetPath("quixbugs"));
const n = Number(option("n", "200"));
const rounds = Number(option("rounds", "3"));
const only = option("only", "").split(",").filter((name) => name !== "");
const show = process.argv.includes("--show");

const { pool, order, url } = await startRepairServer();

/** Public: every other test from the first the buggy program fails; hidden: the rest (or everything, for one `check`). */
async function splitTests(record: DatasetRecord): Promise<{ public: TestSpec[]; hidden: TestSpec[] }> {
  const tests = testsOf(record);
  if (tests.length === 1) return { public: tests, hidden: tests };
  const job = toExecutionJob(ExecuteRequest.parse({ code: record.buggy_code, entry_point: record.entry_point, tests, trace: { mode: "none" } }));
  const report = await pool.execute(job);
  const first = Math.max(0, report.tests.findIndex((test) => test.status !== "passed"));
  const rotated = [...tests.slice(first), ...tests.slice(0, first)];
  return { public: rotated.filter((_, index) => index % 2 === 0), hidden: rotated.filter((_, index) => index % 2 === 1) };
}

interface Outcome {
  readonly name: string;
  readonly repaired: boolean;
  readonly solved: boolean;
  readonly hidden: string;
  readonly candidates: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly note: string;
  readonly changes: readonly string[];
}

/** The lines of `after` that are not in `before` at the same place (a plain line diff, for --show). */
function changedLines(before: string, after: string): string[] {
  const old = before.split("\n");
  const changed = after.split("\n").filter((line, index) => line.trim() !== "" && old[index] !== line && !old.includes(line));
  return changed.map((line) => `+ ${line.trim()}`);
}

async function repair(record: DatasetRecord): Promise<Outcome> {
  const split = await splitTests(record);
  const body = {
    problem: { prompt: record.prompt, entry_point: record.entry_point, code: record.buggy_code, tests: split.public, hidden_tests: split.hidden },
    policy: "repair",
    n,
    rounds,
    limits: { timeout_ms: 2_000 },
  };
  const started = performance.now();
  const response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const result = (await response.json()) as SolveResult & { error?: { message: string } };
  const seconds = (performance.now() - started) / 1000;
  const candidates = result.rounds?.reduce((sum, round) => sum + round.candidates.length, 0) ?? 0;
  const hidden = result.hidden === null || result.hidden === undefined ? "-" : `${result.hidden.passed}/${result.hidden.total}`;
  const repaired = result.status === "solved" && result.hidden !== null && result.hidden !== undefined && result.hidden.passed === result.hidden.total;
  return {
    name: record.id.replace("quixbugs/", ""),
    repaired,
    solved: result.status === "solved",
    hidden,
    candidates,
    rounds: result.rounds?.length ?? 0,
    seconds,
    note: result.error?.message ?? "",
    changes: result.solution === null ? [] : changedLines(record.buggy_code ?? "", result.solution.code),
  };
}

const records = (await loadDataset(file)).filter((record) => record.buggy_code !== null && (only.length === 0 || only.some((name) => record.id.endsWith(`/${name}`))));
console.log(`repair search, policy "repair" (${order.name} order), n ${n}, rounds ${rounds}, ${records.length} QuixBugs programs, ${pool.health().workers.size} sandbox workers`);
const outcomes: Outcome[] = [];
for (const record of records) {
  const outcome = await repair(record);
  outcomes.push(outcome);
  console.log(
    `  ${outcome.name.padEnd(28)} ${outcome.repaired ? "repaired" : outcome.solved ? "overfit " : "unsolved"}  hidden ${outcome.hidden.padEnd(7)} ${String(outcome.candidates).padStart(4)} candidates  ${outcome.rounds} rounds  ${outcome.seconds.toFixed(2)} s ${outcome.note}`,
  );
  if (show) for (const change of outcome.changes) console.log(`      ${change}`);
}
const times = outcomes.map((outcome) => outcome.seconds).sort((left, right) => left - right);
const repaired = outcomes.filter((outcome) => outcome.repaired).length;
const solved = outcomes.filter((outcome) => outcome.solved).length;
console.log("");
console.log(`repaired (every hidden test passing): ${repaired}/${outcomes.length}   passing the public tests: ${solved}/${outcomes.length}`);
console.log(`time per problem: median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(2)} s, max ${(times.at(-1) ?? 0).toFixed(2)} s   (target: >= 30/40, median <= 3 s)`);
await pool.close();
process.exit(0);
