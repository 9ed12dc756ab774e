/**
 * npm run bench:repair-javascript [-- --n 200] [--rounds 3] [--order hand|policy]
 *
 * The built-in repair search on the buggy versions of the repository's
 * JavaScript problem set (test/fixtures/javascript-problems.ts), through
 * /v1/solve over real HTTP with no model: `policy: "repair"`, every test
 * public and hidden (the problems have 2-5 tests each). Prints per problem
 * whether it was repaired, the candidates and the time, then the count.
 * Target (issue 13): >= 75 % repaired.
 */
import { option } from "../src/cli/options.ts";
import type { SolveResult } from "../src/shared/schema/solve.ts";
import { JAVASCRIPT_PROBLEMS } from "../test/fixtures/javascript-problems.ts";
import { startRepairServer } from "./support/repair-server.ts";

const n = Number(option("n", "200"));
const rounds = Number(option("rounds", "3"));
const { order, url, close } = await startRepairServer({ javascript: true });

console.log(`repair search on the JavaScript problem set, policy "repair" (${order.name} order), n ${n}, rounds ${rounds}, ${JAVASCRIPT_PROBLEMS.length} buggy programs`);
let repaired = 0;
const times: number[] = [];
for (const problem of JAVASCRIPT_PROBLEMS) {
  const body = {
    problem: { language: "javascript", prompt: problem.id, entry_point: problem.entryPoint, code: problem.buggy, tests: problem.tests, hidden_tests: problem.tests },
    policy: "repair",
    n,
    rounds,
  };
  const started = performance.now();
  const response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const result = (await response.json()) as SolveResult & { error?: { code: string; message: string } };
  const seconds = (performance.now() - started) / 1000;
  times.push(seconds);
  const ok = result.status === "solved" && result.hidden !== null && result.hidden?.passed === result.hidden?.total;
  if (ok) repaired += 1;
  const candidates = result.rounds?.reduce((sum, round) => sum + round.candidates.length, 0) ?? 0;
  console.log(`  ${problem.id.padEnd(26)} ${ok ? "repaired" : "unsolved"}  ${String(candidates).padStart(4)} candidates  ${seconds.toFixed(2)} s ${result.error === undefined ? "" : `${result.error.code}: ${result.error.message}`}`);
}
times.sort((left, right) => left - right);
console.log("");
console.log(`repaired: ${repaired}/${JAVASCRIPT_PROBLEMS.length} (${((100 * repaired) / JAVASCRIPT_PROBLEMS.length).toFixed(0)} %, target >= 75 %), median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(2)} s per problem`);
await close();
process.exit(0);
