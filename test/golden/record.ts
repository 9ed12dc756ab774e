/**
 * Records the raw traces behind the golden renderings from the real sandbox:
 *   npx tsx test/golden/record.ts
 * The fixtures make the golden tests pure (no interpreter version in them);
 * re-record only when the raw trace format itself changes.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { ExecuteRequest, toExecutionJob } from "../../src/shared/schema/requests.ts";
import { startPool } from "../support/sandbox.ts";
import { GOLDEN_PROGRAMS } from "./programs.ts";

const pool = await startPool({ size: 1 });
for (const program of GOLDEN_PROGRAMS) {
  const job = toExecutionJob(ExecuteRequest.parse(program.request));
  const report = await pool.execute(job);
  const test = report.tests[0];
  if (test === undefined || test.status === "passed" || test.trace === undefined) {
    throw new Error(`${program.name}: expected a failing, traced test, got ${JSON.stringify(report).slice(0, 300)}`);
  }
  // Timing fields vary run to run; the renderings do not use them.
  delete (test.trace as { duration_ms?: number }).duration_ms;
  const fixture = { python: pool.interpreter.version.join("."), report: { ...test, duration_ms: null } };
  writeFileSync(path.join(import.meta.dirname, "traces", `${program.name}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`${program.name}: ${test.status}, ${test.trace.events.length} events`);
}
await pool.close();
