/**
 * Two tracefix servers on one PostgreSQL database, each with its own run
 * manager and store connection (server ids "a" and "b"), over real HTTP;
 * and the exercise the issue asks of them: many runs spread over both, each
 * client cutting its stream halfway and resuming it on the *other* server
 * with Last-Event-ID. For test/run-store-shared.test.ts (which asserts) and
 * bench/store.ts (which prints).
 */
import { serve, type ServerType } from "@hono/node-server";

import { RepairPolicy } from "../../src/policy/index.ts";
import type { Executor } from "../../src/sandbox/index.ts";
import { loadPrompts, RunManager } from "../../src/scaling/index.ts";
import { createApp } from "../../src/server/app.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { TERMINAL_EVENTS, type RunEvent } from "../../src/shared/schema/events.ts";
import { sseMessages } from "../../src/shared/sse.ts";
import { PostgresRunStore } from "../../src/store/index.ts";

export interface SharedServer {
  readonly url: string;
  readonly runs: RunManager;
  close(): Promise<void>;
}

async function startShared(executor: Executor, databaseUrl: string, serverId: string): Promise<SharedServer> {
  const store = await PostgresRunStore.open({ url: databaseUrl, serverId, logger: silentLogger });
  const prompts = loadPrompts();
  const runs = new RunManager({ policies: { repair: new RepairPolicy() }, executor, prompts, logger: silentLogger }, store, { maxRuns: 512 });
  const app = createApp({ executor, runs, selection: { prompts } });
  let server!: ServerType;
  const url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
  });
  return {
    url,
    runs,
    async close() {
      await runs.close();
      server.close();
      await store.close();
    },
  };
}

export async function startSharedServers(executor: Executor, databaseUrl: string): Promise<[SharedServer, SharedServer]> {
  return Promise.all([startShared(executor, databaseUrl, "a"), startShared(executor, databaseUrl, "b")]);
}

/** A program the repair search fixes in round 2, after a few edits: a run that lasts a little while. */
const PROBLEM = {
  prompt: "Sum of xs.",
  entry_point: "total",
  code: "def total(xs):\n    result = 0\n    for i in range(1, len(xs)):\n        result += xs[i]\n    return result\n",
  tests: [
    { kind: "call", args: [[1, 2, 3]], expected: 6 },
    { kind: "call", args: [[4]], expected: 4 },
  ],
};

export interface ResumeOutcome {
  readonly runs: number;
  readonly events: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  /** Resumes made while the run was still going on the first server. */
  readonly resumedLive: number;
  readonly unterminated: number;
  readonly seconds: number;
}

async function* eventsOf(response: Response): AsyncGenerator<RunEvent> {
  if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  for await (const message of sseMessages(response.body)) yield JSON.parse(message.data) as RunEvent;
}

/** One client: start on `first`, read until `cutAfter` events, go; resume on `second` after the last id seen. */
async function clientRun(first: SharedServer, second: SharedServer, cutAfter: number, client: string): Promise<{ seen: RunEvent[]; live: boolean; runId: string }> {
  const seen: RunEvent[] = [];
  let response: Response;
  for (;;) {
    response = await fetch(`${first.url}/v1/solve`, {
      method: "POST",
      // Each client its own share of the sandbox's fair queue, as separate users would have.
      headers: { "content-type": "application/json", "x-client-id": client },
      body: JSON.stringify({ problem: PROBLEM, policy: "repair", n: 8, rounds: 3, stream: true, on_disconnect: "continue" }),
    });
    if (response.status !== 429 && response.status !== 503) break;
    // Refused while the sandbox is full: come back when told, as a client should.
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, Math.min(2, Number(response.headers.get("retry-after") ?? 1)) * 1000));
  }
  for await (const event of eventsOf(response)) {
    seen.push(event);
    if (seen.length >= cutAfter) break; // stopping the iteration cancels the body: the connection is cut
  }
  const runId = seen[0]?.run_id as string;
  const live = (await first.runs.summary(runId))?.status === "running";
  const last = seen.at(-1)?.id ?? 0;
  if (seen.at(-1) === undefined || !TERMINAL_EVENTS.includes((seen.at(-1) as RunEvent).type)) {
    for await (const event of eventsOf(await fetch(`${second.url}/v1/runs/${runId}/events`, { headers: { "last-event-id": String(last) } }))) seen.push(event);
  }
  return { seen, live, runId };
}

/** `total` runs, `concurrency` at a time, alternating which server starts them; every stream resumed on the other. */
export async function resumeAcross(servers: readonly [SharedServer, SharedServer], total: number, concurrency: number): Promise<ResumeOutcome> {
  const started = performance.now();
  let next = 0;
  const outcome = { runs: 0, events: 0, lost: 0, duplicated: 0, outOfOrder: 0, resumedLive: 0, unterminated: 0 };
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const [first, second] = index % 2 === 0 ? servers : [servers[1], servers[0]];
      const { seen, live, runId } = await clientRun(first, second, 3 + (index % 5), `client-${index}`);
      const stored = (await first.runs.events(runId)).map((event) => event.id);
      const ids = seen.map((event) => event.id);
      outcome.runs += 1;
      outcome.events += ids.length;
      outcome.lost += stored.filter((id) => !ids.includes(id)).length;
      outcome.duplicated += ids.length - new Set(ids).size;
      outcome.outOfOrder += ids.filter((id, position) => position > 0 && id <= (ids[position - 1] as number)).length;
      if (live) outcome.resumedLive += 1;
      if (!TERMINAL_EVENTS.includes((seen.at(-1) as RunEvent).type)) outcome.unterminated += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...outcome, seconds: (performance.now() - started) / 1000 };
}
