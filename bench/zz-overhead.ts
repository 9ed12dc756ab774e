import { spawn } from "node:child_process";
import { serve } from "@hono/node-server";
import { PythonPool, type Executor } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";
const TRIVIAL = { code: "def one():\n    return 1\n", entry_point: "one", tests: [{ kind: "call", args: [], expected: 1 }] };
const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(3);
const pool = await PythonPool.start({ logger: silentLogger });
const job = toExecutionJob(ExecuteRequest.parse(TRIVIAL));
for (let i = 0; i < 50; i++) await pool.execute(job);
const report = await pool.execute(job);
const stub: Executor = { ...Object.fromEntries(["languages","admit","checkSyntax","edits","health","close"].map((k) => [k, (pool as any)[k]?.bind?.(pool) ?? (pool as any)[k]])), languages: pool.languages, execute: async () => report } as any;
const N = Number(process.argv[2] ?? 500);
async function direct(ex: Executor) { const t: number[] = []; for (let i = 0; i < N; i++) { const s = performance.now(); await ex.execute(job, { signal: new AbortController().signal }); t.push(performance.now() - s); } return t; }
async function inproc(app: any) { const t: number[] = []; const body = JSON.stringify(TRIVIAL); for (let i = 0; i < N; i++) { const s = performance.now(); const r = await app.request("/v1/execute", { method: "POST", headers: { "content-type": "application/json" }, body }); await r.text(); t.push(performance.now() - s); } return t; }
const CLIENT = `
import http from "node:http";
const [url, body, count] = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const post = () => new Promise((resolve, reject) => { const s = performance.now(); const r = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => { res.resume(); res.on("end", () => resolve(performance.now() - s)); }); r.on("error", reject); r.end(body); });
const out = []; for (let i = 0; i < count; i++) out.push(await post());
process.stdout.write(JSON.stringify(out));`;
function client(url: string, count: number): Promise<number[]> { return new Promise((resolve) => { const c = spawn(process.execPath, ["--input-type=module", "-e", CLIENT, JSON.stringify([url, JSON.stringify(TRIVIAL), count])], { stdio: ["ignore", "pipe", "inherit"] }); let o = ""; c.stdout.on("data", (d) => (o += d)); c.on("exit", () => resolve(JSON.parse(o))); }); }
async function listen(app: any): Promise<string> { return new Promise((resolve) => serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (a) => resolve(`http://127.0.0.1:${a.port}/v1/execute`))); }
const stubApp = createApp({ executor: stub }); const realApp = createApp({ executor: pool });
const stubUrl = await listen(stubApp); const realUrl = await listen(realApp);
for (let round = 0; round < 2; round++) {
  console.log("pool.execute       ", p50(await direct(pool)));
  console.log("stub app.request   ", p50(await inproc(stubApp)));
  console.log("real app.request   ", p50(await inproc(realApp)));
  await client(stubUrl, 50); console.log("stub HTTP          ", p50(await client(stubUrl, N)));
  await client(realUrl, 50); console.log("real HTTP          ", p50(await client(realUrl, N)));
}
await pool.close(); process.exit(0);
