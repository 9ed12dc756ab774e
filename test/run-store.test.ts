/**
 * The run store's contract, held by each store: memory, SQLite (a real
 * file) and PostgreSQL (a throwaway cluster). What a user of the runs API
 * would notice: events back in order, listing by filter and page, delete,
 * retention, runs left running found again after a restart.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { RunEvent } from "../src/shared/schema/events.ts";
import { SolveRequest, type SolveResult } from "../src/shared/schema/solve.ts";
import { RepairPolicy } from "../src/policy/index.ts";
import { loadPrompts, RunManager } from "../src/scaling/index.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { MemoryRunStore, PostgresRunStore, SqliteRunStore, type RunMeta, type RunStore } from "../src/store/index.ts";
import { SKIP_POSTGRES, SKIP_POSTGRES_REASON, startPostgres, type Postgres } from "./support/postgres.ts";
import { startPool } from "./support/sandbox.ts";

const META: RunMeta = { strategy: "sequential", policy: "repair", language: "python" };

function event(runId: string, id: number, round = 1): RunEvent {
  return { id, run_id: runId, time: new Date().toISOString(), type: "round.started", round, mode: "given", chains: [] };
}

function result(runId: string, status: SolveResult["status"]): SolveResult {
  return { run_id: runId, status, stopped: status === "solved" ? "solved" : "rounds", solution: null, hidden: null, rounds: [], usage: { prompt_tokens: 0, completion_tokens: 0, llm_calls: 0, executions: 0, duration_ms: 1 } } as unknown as SolveResult;
}

async function finishedRun(store: RunStore, runId: string, meta: RunMeta = META, status: SolveResult["status"] = "solved"): Promise<void> {
  await store.create(runId, meta);
  await store.append(runId, event(runId, 1));
  await store.finish(runId, result(runId, status));
}

let postgres: Postgres | undefined;
let schemas = 0;

beforeAll(async () => {
  if (!SKIP_POSTGRES) postgres = await startPostgres();
});
afterAll(() => postgres?.stop());

/** Each PostgreSQL case gets a database of its own (the cluster is shared). */
async function freshDatabase(): Promise<string> {
  return (postgres as Postgres).database(`store_${process.pid}_${(schemas += 1)}`);
}

async function freshPostgres(): Promise<PostgresRunStore> {
  return PostgresRunStore.open({ url: await freshDatabase(), serverId: "server-a", logger: silentLogger });
}

const STORES: [string, () => Promise<RunStore>, boolean][] = [
  ["memory", async () => new MemoryRunStore(), false],
  ["sqlite", async () => SqliteRunStore.open(path.join(mkdtempSync(path.join(tmpdir(), "tracefix-sqlite-")), "runs.sqlite")), false],
  ["postgres", () => freshPostgres(), SKIP_POSTGRES],
];
if (SKIP_POSTGRES) console.warn(SKIP_POSTGRES_REASON);

describe.each(STORES)("the %s store", (_name, open, skip) => {
  it.skipIf(skip)("gives events back in order after any id, and the summary follows them", async () => {
    const store = await open();
    await store.create("run_a", META);
    for (let id = 1; id <= 5; id += 1) await store.append("run_a", event("run_a", id, id));
    expect((await store.events("run_a", 0)).map((item) => item.id)).toEqual([1, 2, 3, 4, 5]);
    expect((await store.events("run_a", 3)).map((item) => item.id)).toEqual([4, 5]);
    expect(await store.events("run_a", 3)).toEqual((await store.events("run_a", 0)).slice(3));
    expect(await store.summary("run_a")).toMatchObject({ status: "running", last_event_id: 5, ...META });
    await store.finish("run_a", result("run_a", "solved"));
    expect(await store.summary("run_a")).toMatchObject({ status: "solved", result: { run_id: "run_a", status: "solved" } });
    expect(await store.summary("nope")).toBeUndefined();
    await store.close();
  });

  it.skipIf(skip)("lists newest first by filter, a page at a time, every run once", async () => {
    const store = await open();
    for (let index = 0; index < 7; index += 1) {
      await finishedRun(store, `run_${index}`, { ...META, language: index % 2 === 0 ? "python" : "javascript" }, index < 5 ? "solved" : "unsolved");
      await new Promise((resolve) => setTimeout(resolve, 2)); // distinct creation times
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 3, cursor });
      seen.push(...page.runs.map((run) => run.run_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(["run_6", "run_5", "run_4", "run_3", "run_2", "run_1", "run_0"]);
    expect((await store.list({ status: "unsolved" })).runs.map((run) => run.run_id)).toEqual(["run_6", "run_5"]);
    expect((await store.list({ language: "javascript", status: "solved" })).runs.map((run) => run.run_id)).toEqual(["run_3", "run_1"]);
    const middle = (await store.summary("run_3"))?.created_at as string;
    expect((await store.list({ since: middle })).runs.map((run) => run.run_id)).toEqual(["run_6", "run_5", "run_4", "run_3"]);
    expect((await store.list({ until: middle })).runs.map((run) => run.run_id)).toEqual(["run_2", "run_1", "run_0"]);
    await store.close();
  });

  it.skipIf(skip)("deletes a finished run with its events, never a running one, and prunes by count and age", async () => {
    const store = await open();
    for (let index = 0; index < 5; index += 1) {
      await finishedRun(store, `old_${index}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await store.create("live", META);
    expect(await store.delete("live")).toBe(false);
    expect(await store.delete("old_0")).toBe(true);
    expect(await store.events("old_0", 0)).toEqual([]);
    expect(await store.summary("old_0")).toBeUndefined();
    expect(await store.prune({ maxRuns: 2 })).toBe(2);
    expect((await store.list()).runs.map((run) => run.run_id)).toEqual(["live", "old_4", "old_3"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.prune({ maxAgeMs: 10 })).toBe(2);
    expect((await store.list()).runs.map((run) => run.run_id)).toEqual(["live"]);
    await store.close();
  });
});

describe("the SQLite store", () => {
  it("keeps runs across a reopen, and refuses a second server on the same file", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "tracefix-sqlite-")), "runs.sqlite");
    const first = SqliteRunStore.open(file);
    await finishedRun(first, "kept");
    await first.create("cut", META);
    expect(() => SqliteRunStore.open(file)).toThrow(/in use by another tracefix server/);
    await first.close();
    const again = SqliteRunStore.open(file);
    expect(await again.summary("kept")).toMatchObject({ status: "solved", last_event_id: 1 });
    expect(await again.orphans()).toEqual(["cut"]);
    await again.close();
  });
});

describe.skipIf(SKIP_POSTGRES)("the PostgreSQL store shared by servers", () => {
  it("tells a watcher on another server of each event, and finds the runs of a server that is gone", async () => {
    const url = await freshDatabase();
    const a = await PostgresRunStore.open({ url, serverId: "server-a", logger: silentLogger });
    const b = await PostgresRunStore.open({ url, serverId: "server-b", logger: silentLogger });
    await a.create("shared", META);
    let told = 0;
    const stop = await (b.watch as NonNullable<RunStore["watch"]>)("shared", () => (told += 1));
    await a.append("shared", event("shared", 1));
    await a.append("shared", event("shared", 2));
    await expect.poll(() => told).toBe(2);
    expect((await b.events("shared", 0)).map((item) => item.id)).toEqual([1, 2]);
    stop();
    // server-a is alive (it heartbeats): its running run is nobody's orphan but its own after a restart.
    expect(await b.orphans()).toEqual([]);
    await a.close();
    const restarted = await PostgresRunStore.open({ url, serverId: "server-a", logger: silentLogger });
    expect(await restarted.orphans()).toEqual(["shared"]);
    await restarted.close();
    await b.close();
  });
});

describe("a store that fails under a run", () => {
  it("stops that run with a clear end, logs it, and the server's next run goes on", async () => {
    const pool = await startPool({ size: 1 });
    class FailingStore extends MemoryRunStore {
      failAfter = 2;
      override async append(runId: string, item: RunEvent): Promise<void> {
        if (item.id > this.failAfter) throw new Error("disk full");
        return super.append(runId, item);
      }
    }
    const store = new FailingStore();
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => errors.push(message) };
    const runs = new RunManager({ policies: { repair: new RepairPolicy() }, executor: pool, prompts: loadPrompts(), logger }, store);
    const request = SolveRequest.parse({ problem: { prompt: "add", entry_point: "add", code: "def add(a, b):\n    return a - b\n", tests: [{ kind: "call", args: [1, 2], expected: 3 }] }, policy: "repair", rounds: 3 });
    try {
      const cut = await runs.start(request).done;
      expect(cut).toMatchObject({ status: "failed" });
      expect(errors).toEqual(["run store failed: the run is stopped"]);
      store.failAfter = Number.POSITIVE_INFINITY;
      expect(await runs.start(request).done).toMatchObject({ status: "solved" });
    } finally {
      await runs.close();
      await pool.close();
    }
  });
});
