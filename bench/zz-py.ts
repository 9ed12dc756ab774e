import { PythonPool } from "../src/sandbox/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
const TRIVIAL = { code: "def one():\n    return 1\n", entry_point: "one", tests: [{ kind: "call", args: [], expected: 1 }] };
const pool = await PythonPool.start({ logger: silentLogger });
const job = toExecutionJob(ExecuteRequest.parse(TRIVIAL));
for (let i = 0; i < 100; i++) await pool.execute(job);
const t: number[] = [];
for (let i = 0; i < 800; i++) { const s = performance.now(); await pool.execute(job); t.push(performance.now() - s); }
t.sort((a, b) => a - b);
console.log(process.env.PYTHON, pool.health().isolation.kind, "p50", t[400]!.toFixed(2), "p95", t[760]!.toFixed(2));
await pool.close(); process.exit(0);
