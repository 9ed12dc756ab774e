/**
 * npm run bench:javascript-edits [-- --no-run]
 *
 * For each buggy program of the JavaScript problem set
 * (test/fixtures/javascript-problems.ts), the edits of javascriptEdits at
 * every line (limit 5,000), and whether ONE of them reaches the fix:
 *  1. "reference": an edited program that is the reference program, up to
 *     layout (the same acorn tree, positions and raw literal text aside);
 *  2. "passing" (unless --no-run): an edited program that passes every test
 *     of the problem in the isolated-vm pool (a fix other than the
 *     reference's counts here).
 * Prints, per problem, the edit count, the time, and the first fixing edit.
 */
import * as acorn from "acorn";

import { JavaScriptPool } from "../src/sandbox/index.ts";
import { javascriptEdits } from "../src/sandbox/javascript/edits.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { describeEdit, type Edit } from "../src/shared/schema/edits.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
import { JAVASCRIPT_PROBLEMS, type JavaScriptProblem } from "../test/fixtures/javascript-problems.ts";

const POSITIONAL = new Set(["start", "end", "loc", "range", "raw"]);

/** The program's tree as text without positions, so layout does not count. */
function shape(code: string): string | undefined {
  for (const sourceType of ["script", "module"] as const) {
    try {
      const tree = acorn.parse(code, { ecmaVersion: "latest", allowHashBang: true, sourceType });
      return JSON.stringify(tree, (key, value: unknown) => (POSITIONAL.has(key) ? undefined : typeof value === "bigint" ? `${value}n` : value));
    } catch {
      // try the other source type
    }
  }
  return undefined;
}

function editsOf(problem: JavaScriptProblem): { edits: Edit[]; ms: number } {
  const lines = problem.buggy.split("\n").length;
  const sites = Array.from({ length: lines }, (_, index) => ({ line: index + 1, suspiciousness: 1 }));
  const started = performance.now();
  const edits = javascriptEdits({ code: problem.buggy, sites, limit: 5_000 });
  return { edits, ms: performance.now() - started };
}

async function passes(pool: JavaScriptPool, problem: JavaScriptProblem, code: string): Promise<boolean> {
  const request = ExecuteRequest.parse({
    language: "javascript",
    code,
    ...(problem.entryPoint === undefined ? {} : { entry_point: problem.entryPoint }),
    tests: [...problem.tests],
    trace: { mode: "none" },
    limits: { timeout_ms: 1_000 },
  });
  return (await pool.execute(toExecutionJob(request))).status === "passed";
}

async function firstPassing(pool: JavaScriptPool, problem: JavaScriptProblem, edits: readonly Edit[]): Promise<Edit | undefined> {
  for (const edit of edits) if (await passes(pool, problem, edit.code)) return edit;
  return undefined;
}

const run = !process.argv.includes("--no-run");
const pool = run ? await JavaScriptPool.start({ logger: silentLogger }) : undefined;
let reachedReference = 0;
let reachedPassing = 0;
let totalEdits = 0;
for (const problem of JAVASCRIPT_PROBLEMS) {
  const { edits, ms } = editsOf(problem);
  totalEdits += edits.length;
  const reference = shape(problem.reference);
  const exact = edits.find((edit) => shape(edit.code) === reference);
  const passing = pool === undefined ? undefined : await firstPassing(pool, problem, edits);
  if (exact !== undefined) reachedReference += 1;
  if (passing !== undefined) reachedPassing += 1;
  const found = exact ?? passing;
  const how = found === undefined ? "-" : `${found.operator}: ${describeEdit(found)}`;
  console.log(`${problem.id.padEnd(22)} ${String(edits.length).padStart(5)} edits ${ms.toFixed(1).padStart(7)} ms  reference ${exact ? "yes" : "no "}  passing ${pool === undefined ? "-  " : passing ? "yes" : "no "}  ${how}`);
}
console.log(`\n${JAVASCRIPT_PROBLEMS.length} buggy programs, ${totalEdits} edits (sites: every line, limit 5,000 each)`);
console.log(`reference fix reachable by one edit: ${reachedReference}/${JAVASCRIPT_PROBLEMS.length}`);
if (pool !== undefined) console.log(`some edit passes every test:        ${reachedPassing}/${JAVASCRIPT_PROBLEMS.length}`);
await pool?.close();
