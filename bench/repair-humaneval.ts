/**
 * npm run bench:repair-humaneval [-- --humaneval PATH] [--n 200] [--rounds 3] [--seed 13]
 *                                [--problems N] [--order hand|policy]
 *
 * The repair search where the public tests are only the docstring's
 * examples, as in a repair benchmark of single Python functions whose
 * hidden tests are the full suite: each HumanEval reference program gets ONE
 * seeded mutation from the sandbox's own editor (the bug; policy-groups.ts
 * `mutantsOf`, kept when it fails HumanEval's `check`), and the mutant goes
 * through /v1/solve over real HTTP with `problem.doctests: true`, no
 * `tests`, `hidden_tests` = the `check`, `policy: "repair"`, no LLM. The bugs
 * are synthetic (one edit of a correct program), not human-written, so this
 * estimates how the search does when the examples are all it sees: how often
 * it overfits them. HumanEval is never training data (models/policy/CARD.md).
 *
 * Prints per problem the outcome (repaired: solved and the hidden check
 * passes; overfit: solved, the check fails; unsolved; unrevealed: the mutant
 * already passes every example, so there is nothing to repair from), then
 * the counts, the share repaired among the mutants the examples reveal, and
 * the median time.
 */

import { option } from "../src/cli/options.ts";
import { mutantsOf, policyProblem } from "../src/cli/policy-groups.ts";
import { datasetPath, loadDataset, testsOf } from "../src/datasets/index.ts";
import type { SolveResult } from "../src/shared/schema/solve.ts";
import { startRepairServer } from "./support/repair-server.ts";

const file = option("humaneval", process.env["TRACEFIX_HUMANEVAL"] ?? datasetPath("humaneval"));
const n = Number(option("n", "200"));
const rounds = Number(option("rounds", "3"));
const seed = Number(option("seed", "13"));
const problems = Number(option("problems", "164"));

const { pool, order, url } = await startRepairServer();

type Outcome = "repaired" | "overfit" | "unsolved" | "unrevealed" | "no mutant" | "refused";

async function solve(prompt: string, entryPoint: string, code: string, hidden: ReturnType<typeof testsOf>): Promise<{ outcome: Outcome; seconds: number; note: string }> {
  const body = { problem: { prompt, entry_point: entryPoint, code, tests: [], doctests: true, hidden_tests: hidden }, policy: "repair", n, rounds, limits: { timeout_ms: 2_000 } };
  const started = performance.now();
  const response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const result = (await response.json()) as SolveResult & { error?: { message: string } };
  const seconds = (performance.now() - started) / 1000;
  // A prompt whose examples cannot be read as tests is refused (400): nothing public to repair against.
  if (response.status !== 200) return { outcome: "refused", seconds, note: result.error?.message ?? String(response.status) };
  const hiddenPassed = result.hidden !== null && result.hidden !== undefined && result.hidden.passed === result.hidden.total;
  if (result.status === "solved" && result.solution?.round === 1) return { outcome: "unrevealed", seconds, note: "" };
  if (result.status !== "solved") return { outcome: "unsolved", seconds, note: "" };
  return { outcome: hiddenPassed ? "repaired" : "overfit", seconds, note: "" };
}

const records = (await loadDataset(file)).slice(0, problems);
console.log(`repair search with the docstring's examples as the public tests, policy "repair" (${order.name} order), n ${n}, rounds ${rounds}, ${records.length} HumanEval programs with one seeded mutation each (seed ${seed})`);
const counts: Record<Outcome, number> = { repaired: 0, overfit: 0, unsolved: 0, unrevealed: 0, "no mutant": 0, refused: 0 };
const times: number[] = [];
const signal = new AbortController().signal;
for (const record of records) {
  const check = testsOf(record);
  const { mutants } = await mutantsOf(pool, policyProblem(check, record.entry_point), record.reference_code, { count: 1, seed, key: record.id, signal });
  const mutant = mutants[0];
  if (mutant === undefined) {
    counts["no mutant"] += 1;
    continue;
  }
  const { outcome, seconds, note } = await solve(record.prompt, record.entry_point, mutant.code, check);
  counts[outcome] += 1;
  if (outcome !== "refused" && outcome !== "unrevealed") times.push(seconds);
  console.log(`  ${record.id.padEnd(14)} ${outcome.padEnd(10)} ${mutant.operator.padEnd(18)} line ${String(mutant.line).padStart(2)}  ${seconds.toFixed(2)} s ${note.slice(0, 80)}`);
}
const revealed = counts.repaired + counts.overfit + counts.unsolved;
times.sort((left, right) => left - right);
console.log("");
console.log(`repaired ${counts.repaired}, overfit ${counts.overfit}, unsolved ${counts.unsolved}; unrevealed by the examples ${counts.unrevealed}, examples not readable ${counts.refused}, no failing mutant ${counts["no mutant"]}`);
console.log(`repaired with the hidden check passing: ${counts.repaired}/${revealed} (${revealed === 0 ? 0 : ((100 * counts.repaired) / revealed).toFixed(1)} %) of the mutants the examples reveal; median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(2)} s per problem`);
await pool.close();
process.exit(0);
