/**
 * npm run bench:solve
 *
 * The server's own time in a sequential run, with a model that answers at
 * once (a fake OpenAI-compatible endpoint on loopback): per round with n = 8
 * candidates and 5 public tests — each candidate generated, run in the
 * sandbox, its failing test traced, its diagnostics rendered — and the time
 * from sending the request to receiving the first SSE event.
 * Targets: a round <= 50 ms; the first event <= 50 ms.
 */
import { serve } from "@hono/node-server";

import { LlmPolicy, RepairPolicy, OpenAICompatibleModel } from "../src/policy/index.ts";
import { PythonPool } from "../src/sandbox/index.ts";
import { loadPrompts, RunManager } from "../src/scaling/index.ts";
import { MemoryRunStore } from "../src/store/index.ts";
import { createApp } from "../src/server/app.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { FakeLLM, fenced } from "../test/support/fake-llm.ts";

const runsFlag = process.argv.indexOf("--runs");
const RUNS = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 15;
const N = 8;

// Eight different wrong programs per request: every candidate is run,
// traced and rendered (nothing is saved by deduplication or an early stop).
let variant = 0;
const fake = await FakeLLM.start((request) => ({
  texts: Array.from({ length: request.n ?? 1 }, () => {
    variant += 1;
    return fenced(`def add(a, b):\n    total = a\n    for _ in range(b):\n        total += 1\n    return total + ${variant}\n`);
  }),
}));
const pool = await PythonPool.start({ logger: silentLogger });
const model = new OpenAICompatibleModel({ baseURL: fake.url, apiKey: "k", model: "fake" });
const prompts = loadPrompts();
const runs = new RunManager({ policies: { llm: new LlmPolicy(model, prompts), repair: new RepairPolicy() }, model, executor: pool, prompts, logger: silentLogger }, new MemoryRunStore());
const app = createApp({ executor: pool, runs });
const url = await new Promise<string>((resolve) => {
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
});

const problem = {
  prompt: "Write add(a, b) that returns a + b for non-negative integers.",
  entry_point: "add",
  tests: [
    { kind: "call", args: [1, 2], expected: 3 },
    { kind: "call", args: [0, 0], expected: 0 },
    { kind: "call", args: [5, 7], expected: 12 },
    { kind: "call", args: [10, 3], expected: 13 },
    { kind: "call", args: [2, 2], expected: 4 },
  ],
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const firstEvent: number[] = [];
const generateRound: number[] = [];
const reviseRound: number[] = [];
for (let run = 0; run < RUNS + 2; run++) {
  const sent = performance.now();
  const response = await fetch(`${url}/v1/solve`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ problem, n: N, rounds: 2, stream: true }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const arrivals: { type: string; at: number }[] = [];
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = performance.now();
    buffer += decoder.decode(value, { stream: true });
    for (let boundary = buffer.indexOf("\n\n"); boundary >= 0; boundary = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const type = /^event: (.+)$/m.exec(block)?.[1];
      if (type !== undefined) arrivals.push({ type, at: now });
    }
  }
  if (run < 2) continue; // warm-up
  firstEvent.push((arrivals[0]?.at ?? Number.NaN) - sent);
  const starts = arrivals.filter((arrival) => arrival.type === "round.started");
  const ends = arrivals.filter((arrival) => arrival.type === "round.completed");
  generateRound.push((ends[0]?.at ?? Number.NaN) - (starts[0]?.at ?? Number.NaN));
  reviseRound.push((ends[1]?.at ?? Number.NaN) - (starts[1]?.at ?? Number.NaN));
}

console.log(`tracefix solve benchmark — zero-latency model, n = ${N}, 5 public tests, ${pool.health().workers.size} sandbox workers, ${RUNS} runs`);
console.log(`  first SSE event after the request     median ${median(firstEvent).toFixed(1)} ms   worst ${Math.max(...firstEvent).toFixed(1)} ms   (target <= 50 ms)`);
console.log(`  round 1: one request, 8 programs run   median ${median(generateRound).toFixed(1)} ms   worst ${Math.max(...generateRound).toFixed(1)} ms   (target <= 50 ms)`);
console.log(`  round 2: 8 revision requests, 8 runs   median ${median(reviseRound).toFixed(1)} ms   worst ${Math.max(...reviseRound).toFixed(1)} ms   (target <= 50 ms)`);
console.log(`  model requests answered: ${fake.requests.length}`);

await runs.close();
await pool.close();
await fake.close();
process.exit(0);
