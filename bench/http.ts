/**
 * npm run bench:http [-- --runs N] [--memory-requests N] [--output-bytes N] [--flood-seconds S]
 *
 * The sandbox as a service, measured through HTTP with the client in a
 * separate process (keep-alive connection, as a real client has):
 *  1. a trivial /v1/execute: p50/p95 at the client, beside the same job
 *     straight into the pool, and through an app whose pool answers at
 *     once (what HTTP and the server add by themselves);
 *  2. memory: the server's RSS before, at most and after N requests whose
 *     program prints just under the output limit (3 stdio tests each);
 *  3. admission: while two other clients flood the pool with endless loops,
 *     how a third client's trivial requests fare (answered and how fast, or
 *     refused at once with Retry-After).
 */
import { spawn } from "node:child_process";

import { serve } from "@hono/node-server";

import { PythonPool, type Executor } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../src/shared/schema/requests.ts";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const runs = option("runs", 1_000);
const memoryRequests = option("memory-requests", 1_000);
const outputBytes = option("output-bytes", 1 << 20);
const floodSeconds = option("flood-seconds", 8);

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/**
 * The client: a separate Node process that sends `count` copies of `body`
 * one after another on one keep-alive connection (or, with `concurrency`,
 * that many at a time) and prints each status, latency and Retry-After.
 */
const CLIENT = `
import http from "node:http";
const [url, body, count, concurrency, clientId, seconds] = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const until = seconds > 0 ? performance.now() + seconds * 1000 : Infinity;
function post() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "x-client-id": clientId } }, (response) => {
      response.resume();
      response.on("end", () => resolve([response.statusCode, performance.now() - started, response.headers["retry-after"] ?? null]));
    });
    request.on("error", reject);
    request.end(body);
  });
}
const results = [];
async function lane() {
  while (results.length < count && performance.now() < until) results.push(await post());
}
await Promise.all(Array.from({ length: concurrency }, lane));
process.stdout.write(JSON.stringify(results));
`;

type ClientResult = [status: number, ms: number, retryAfter: string | null];

function runClient(url: string, body: unknown, count: number, options: { concurrency?: number; client?: string; seconds?: number } = {}): Promise<ClientResult[]> {
  const args = JSON.stringify([url, JSON.stringify(body), count, options.concurrency ?? 1, options.client ?? "bench", options.seconds ?? 0]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", CLIENT, args], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(output) as ClientResult[]) : reject(new Error(`client exited ${code}`))));
  });
}

const TRIVIAL = { code: "def one():\n    return 1\n", entry_point: "one", tests: [{ kind: "call", args: [], expected: 1 }] };

const pool = await PythonPool.start({ logger: silentLogger });
const app = createApp({ executor: pool });
function listen(served: ReturnType<typeof createApp>): Promise<string> {
  return new Promise<string>((resolve) => {
    serve({ fetch: served.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}/v1/execute`));
  });
}
const url = await listen(app);
console.log(`python sandbox: ${pool.health().isolation.kind}, ${pool.health().workers.size} workers, Node ${process.version}`);

// 1. latency
const job = toExecutionJob(ExecuteRequest.parse(TRIVIAL));
for (let warm = 0; warm < 50; warm++) await pool.execute(job);
const direct: number[] = [];
for (let index = 0; index < runs; index++) {
  const started = performance.now();
  await pool.execute(job);
  direct.push(performance.now() - started);
}
await runClient(url, TRIVIAL, 50);
const viaHttp = (await runClient(url, TRIVIAL, runs)).map(([, ms]) => ms);
console.log(`\ntrivial candidate, ${runs} runs one after another:`);
console.log(`  pool.execute       p50 ${percentile(direct, 0.5).toFixed(2)} ms  p95 ${percentile(direct, 0.95).toFixed(2)} ms`);
console.log(`  POST /v1/execute   p50 ${percentile(viaHttp, 0.5).toFixed(2)} ms  p95 ${percentile(viaHttp, 0.95).toFixed(2)} ms  (client in another process)`);

// What HTTP and the server add by themselves: the same requests to an app whose executor answers at once with a real report.
const report = await pool.execute(job);
const instant: Executor = {
  languages: pool.languages,
  execute: () => Promise.resolve(report),
  admit: (_language, client) => pool.admit("python", client),
  checkSyntax: (_language, code, options) => pool.checkSyntax("python", code, options),
  edits: (_language, request, options) => pool.edits("python", request, options),
  health: () => pool.health(),
  close: () => Promise.resolve(),
};
const instantUrl = await listen(createApp({ executor: instant }));
await runClient(instantUrl, TRIVIAL, 50);
const viaHttpInstant = (await runClient(instantUrl, TRIVIAL, runs)).map(([, ms]) => ms);
console.log(`  the same, pool answering at once  p50 ${percentile(viaHttpInstant, 0.5).toFixed(2)} ms  p95 ${percentile(viaHttpInstant, 0.95).toFixed(2)} ms  (what HTTP and the server add)`);

// 2. memory
const loud = {
  code: `import sys\nsys.stdout.write('x' * ${outputBytes - 64})\n`,
  tests: [{ kind: "stdio", stdin: "", stdout: "x" }, { kind: "stdio", stdin: "", stdout: "x" }, { kind: "stdio", stdin: "", stdout: "x" }],
  trace: { mode: "none" },
  limits: { output_bytes: outputBytes },
};
const rss = (): number => process.memoryUsage().rss / (1 << 20);
let highest = rss();
const sampler = setInterval(() => (highest = Math.max(highest, rss())), 20);
const before = rss();
const loudResults = await runClient(url, loud, memoryRequests, { concurrency: 4 });
clearInterval(sampler);
const statuses = new Map<number, number>();
for (const [status] of loudResults) statuses.set(status, (statuses.get(status) ?? 0) + 1);
console.log(`\n${memoryRequests} requests, 3 tests each printing ${outputBytes - 64} bytes (limit ${outputBytes}), 4 at a time:`);
console.log(`  server RSS: before ${before.toFixed(0)} MiB, highest ${highest.toFixed(0)} MiB, after ${rss().toFixed(0)} MiB; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

// 3. admission under a flood
const endless = { code: "def spin():\n    while True:\n        pass\n", entry_point: "spin", tests: [{ kind: "call", args: [], expected: 1 }], trace: { mode: "none" } };
const flood = [runClient(url, endless, 10_000, { concurrency: 8, client: "flood-a", seconds: floodSeconds }), runClient(url, endless, 10_000, { concurrency: 8, client: "flood-b", seconds: floodSeconds })];
await new Promise((resolve) => setTimeout(resolve, 1_000));
const quiet = await runClient(url, TRIVIAL, 10_000, { client: "quiet", seconds: floodSeconds - 2 });
const floods = (await Promise.all(flood)).flat();
const answered = quiet.filter(([status]) => status === 200).map(([, ms]) => ms);
const refused = quiet.filter(([status]) => status !== 200);
console.log(`\nflood: 2 clients × 8 concurrent endless loops (timeout 3 s) for ${floodSeconds} s; their requests: ${floods.filter(([s]) => s === 200).length} run, ${floods.filter(([s]) => s === 429).length} refused 429, ${floods.filter(([s]) => s === 503).length} refused 503`);
console.log(`  a third client's trivial requests: ${answered.length} answered (p50 ${percentile(answered, 0.5).toFixed(0)} ms, max ${Math.max(...answered, 0).toFixed(0)} ms), ${refused.length} refused (max ${Math.max(...refused.map(([, ms]) => ms), 0).toFixed(0)} ms to the refusal, Retry-After ${[...new Set(refused.map(([, , retry]) => retry))].join("/") || "-"})`);

await pool.close();
process.exit(0);
